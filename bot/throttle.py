"""Button-press throttling: a token bucket per user, kept in this process (``LocalThrottle``)
or in Redis so every bot instance spends the same bucket (``RedisThrottle``)."""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("kameng.throttle")

#: presses a user may make at once, and how many come back a second
BURST = 8
RATE = 4.0


class ThrottleStore(Protocol):
    async def allow(self, user_id: int) -> bool:
        """Spend one token of ``user_id``'s bucket; False when it is empty."""
        ...


class LocalThrottle:
    """One process's buckets."""

    def __init__(self, rate: float = RATE, burst: int = BURST) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._buckets: dict[int, tuple[float, float]] = {}  # user → (tokens, at)

    async def allow(self, user_id: int) -> bool:
        now = time.monotonic()
        tokens, at = self._buckets.get(user_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - at) * self._rate)
        allowed = tokens >= 1.0
        self._buckets[user_id] = (tokens - 1.0 if allowed else tokens, now)
        if len(self._buckets) > 10_000:
            self._buckets.clear()
        return allowed


# The same bucket as LocalThrottle, refilled and spent in one atomic step on Redis's clock
# (every instance reads the same time). A full bucket's key expires: nothing is kept for
# users who stopped pressing.
_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local held = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(held[1]) or burst
local at = tonumber(held[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return allowed
"""


class RedisThrottle:
    """The buckets shared by every instance on one Redis. Redis failing lets presses
    through (one WARNING each): throttling protects the bot, it must not stop it."""

    def __init__(self, redis: Redis, prefix: str, rate: float = RATE, burst: int = BURST) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:throttle:"
        self._rate = rate
        self._burst = burst
        self._refill_ms = math.ceil(burst / rate * 1000) + 1000
        self._script = redis.register_script(_BUCKET)

    async def allow(self, user_id: int) -> bool:
        try:
            allowed = await self._script(
                keys=[f"{self._prefix}{user_id}"],
                args=[self._rate, self._burst, self._refill_ms],
            )
        except (RedisError, OSError) as error:
            log.warning("throttle: Redis failed (%s); the press goes through", error)
            return True
        return bool(allowed)

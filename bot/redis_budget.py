"""The bot-wide Telegram send budget across instances, in Redis.

Each instance's ``Sender`` still orders its own sends (priorities, evenly spaced slots) on
its local ``Budget``; before a granted send starts it also takes a slot here, so all
instances together keep Telegram's limits: ``Rates.per_second`` starts in any window of
``SAFETY`` seconds bot-wide, one per ``SAFETY / private_chat_per_second`` in a private chat,
``group_chat_per_minute`` per ``60 * SAFETY`` in a group. One atomic script checks and
records every window on Redis's clock (the same for every instance); bot-wide starts are
also evenly spaced (``1 / per_second`` apart), as the local budget spaces them, so a burst of
one instance never meets a burst of another. A 429 seen by any instance pauses every
instance: the pause is a key the script reads first.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.sender import SAFETY, Rates

log = logging.getLogger("kameng.sender")

# KEYS: bot window, chat window, pause, next bot-wide slot. ARGV: bot limit, bot window ms,
# chat limit, chat window ms, a unique member, ms between two bot-wide starts.
# Returns 0 (the slot is taken) or the ms to wait.
_TAKE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then
  return math.ceil(paused - now)
end
local next_slot = tonumber(redis.call('GET', KEYS[4]) or '0')
if next_slot > now then
  return math.ceil(next_slot - now)
end
local function wait_for(key, limit, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then
    return 0
  end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(1, math.ceil(tonumber(oldest[2]) + window - now))
end
local wait = math.max(
  wait_for(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])),
  wait_for(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4])))
if wait > 0 then
  return wait
end
-- evenly spaced, as the local Budget: one slot taken late may be caught up, no more
local interval = tonumber(ARGV[6])
local slot = math.max(next_slot, now - interval) + interval
redis.call('SET', KEYS[4], tostring(slot), 'PX', ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 0
"""

# KEYS: pause. ARGV: ms from now. A later pause is never shortened by an earlier one.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
if until_ms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], until_ms, 'PX', ARGV[1])
end
return until_ms
"""

#: how long to wait before asking Redis again when it failed
_REDIS_RETRY_SECONDS = 1.0


class RedisBudget:
    """``acquire`` before each request to Telegram, ``pause`` on a 429."""

    def __init__(self, redis: Redis, prefix: str, rates: Rates) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:budget:"
        self._bot_limit = max(1, math.floor(rates.per_second))
        self._bot_window_ms = math.ceil(SAFETY * 1000)
        self._interval_ms = 1000 / rates.per_second
        self._private_window_ms = math.ceil(SAFETY / rates.private_chat_per_second * 1000)
        self._group_limit = rates.group_chat_per_minute
        self._group_window_ms = math.ceil(60 * SAFETY * 1000)
        self._take = redis.register_script(_TAKE)
        self._pause = redis.register_script(_PAUSE)
        self._members = (f"{uuid.uuid4().hex}:{n}" for n in itertools.count())

    async def acquire(self, chat_id: int, stopping: asyncio.Event | None = None) -> bool:
        """Wait until a request to ``chat_id`` may start and record it; False when
        ``stopping`` was set first. Redis failing makes it wait and ask again: sending on
        without the shared budget could break Telegram's limits for every instance."""
        if chat_id > 0:  # a private chat; groups and channels have negative ids
            chat_limit, chat_window = 1, self._private_window_ms
        else:
            chat_limit, chat_window = self._group_limit, self._group_window_ms
        keys = [
            f"{self._prefix}bot",
            f"{self._prefix}chat:{chat_id}",
            f"{self._prefix}pause",
            f"{self._prefix}next-slot",
        ]
        while True:
            if stopping is not None and stopping.is_set():
                return False
            try:
                wait_ms = await self._take(
                    keys=keys,
                    args=[
                        self._bot_limit,
                        self._bot_window_ms,
                        chat_limit,
                        chat_window,
                        next(self._members),
                        self._interval_ms,
                    ],
                )
            except (RedisError, OSError) as error:
                log.warning("send budget: Redis failed (%s); waiting", error)
                wait_ms = _REDIS_RETRY_SECONDS * 1000
            if not wait_ms:
                return True
            await _sleep(int(wait_ms) / 1000, stopping)

    async def pause(self, seconds: float) -> None:
        """Telegram said 429: no instance sends before ``seconds`` from now."""
        try:
            await self._pause(keys=[f"{self._prefix}pause"], args=[math.ceil(seconds * 1000)])
        except (RedisError, OSError) as error:
            log.warning("send budget: Redis failed to record a pause (%s)", error)


async def _sleep(seconds: float, stopping: asyncio.Event | None) -> None:
    if stopping is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)

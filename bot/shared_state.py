"""What several bot instances share, built in one place from the settings.

``KAMENG_REDIS_URL`` empty: everything lives in this process (aiogram's memory FSM storage,
a local throttle, the local send budget only) — one instance only. Set: every instance of
the deployment shares, under ``KAMENG_REDIS_PREFIX``,

* the FSM state (aiogram's ``RedisStorage``): a button pressed on one instance and the
  quantity typed on another are one conversation;
* the throttle's per-user buckets (``bot/throttle.py``);
* the user cache's invalidation (``bot/cache_invalidation.py``): a role or language change
  committed on one instance drops that user on all of them;
* the Telegram send budget (``bot/redis_budget.py``).

``kameng run`` (and ``kameng serve``) build it with ``SharedState.from_settings``, ``start``
it (Redis unreachable: ``RedisUnavailable``, one line for the operator), and ``close`` it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import cast
from urllib.parse import urlsplit, urlunsplit

from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot.cache_invalidation import CacheInvalidation
from bot.redis_budget import RedisBudget
from bot.sender import Rates, SharedBudget
from bot.throttle import LocalThrottle, RedisThrottle, ThrottleStore
from core.platform import Platform
from core.settings import Settings

log = logging.getLogger("kameng.shared")

#: a conversation left half-way (a quantity never typed) is forgotten after this
STATE_TTL = timedelta(days=1)
#: how long ``start`` waits for Redis to answer
CONNECT_TIMEOUT_SECONDS = 5.0


class RedisUnavailable(RuntimeError):
    """KAMENG_REDIS_URL is set but Redis does not answer: the message is one line."""


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@dataclass
class SharedState:
    storage: BaseStorage
    throttle: ThrottleStore
    budget: SharedBudget | None = None  # None: this process's budget is the whole budget
    redis_url: str = ""
    prefix: str = ""
    #: this process among the instances (its own invalidation messages are not for it)
    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    _redis: Redis | None = None
    _invalidation: CacheInvalidation | None = None

    @classmethod
    def local(cls) -> SharedState:
        return cls(storage=MemoryStorage(), throttle=LocalThrottle())

    @classmethod
    def from_settings(cls, settings: Settings) -> SharedState:
        """Build, without connecting (``start`` does)."""
        if not settings.redis_url:
            return cls.local()
        prefix = settings.redis_prefix
        redis = _client(settings.redis_url)
        # aiogram's dispatcher closes its storage on shutdown: the storage has a client of
        # its own, so the budget and throttle still work while the workers stop
        storage = RedisStorage(
            _client(settings.redis_url),
            key_builder=DefaultKeyBuilder(prefix=f"{prefix}:fsm", with_bot_id=True),
            state_ttl=STATE_TTL,
            data_ttl=STATE_TTL,
        )
        return cls(
            storage=storage,
            throttle=RedisThrottle(redis, prefix),
            budget=RedisBudget(redis, prefix, Rates.of(settings)),
            redis_url=settings.redis_url,
            prefix=prefix,
            _redis=redis,
        )

    @property
    def shared(self) -> bool:
        return self._redis is not None

    @property
    def subscriber_name(self) -> str:
        """The invalidation subscriber's connection name (``CLIENT LIST`` shows it)."""
        return f"{self.prefix}:user-changes:{self.instance}"

    async def start(self, platform: Platform) -> None:
        """Check Redis answers and start dropping other instances' user changes."""
        if self._redis is None:
            return
        try:
            await cast(Awaitable[bool], self._redis.ping())
        except (RedisError, OSError) as error:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise RedisUnavailable(
                f"Redis at {redacted(self.redis_url)} (KAMENG_REDIS_URL) does not answer: {reason}"
            ) from None
        # the subscriber's own client never retries silently: a lost connection must reach
        # CacheInvalidation, which drops the whole cache when it subscribes again
        subscriber = _client(self.redis_url, retry=Retry(NoBackoff(), 0), name=self.subscriber_name)
        self._invalidation = CacheInvalidation(
            subscriber,
            f"{self.prefix}:user-changes",
            platform.catalogue.user_cache,
            self.instance,
        )
        try:
            await self._invalidation.start(timeout=CONNECT_TIMEOUT_SECONDS)
        except TimeoutError:
            self._invalidation = None
            raise RedisUnavailable(
                f"Redis at {redacted(self.redis_url)} (KAMENG_REDIS_URL) answered but "
                "refused the user-changes subscription"
            ) from None
        log.info("sharing state with other instances on Redis %s", redacted(self.redis_url))

    async def close(self) -> None:
        if self._invalidation is not None:
            await self._invalidation.stop()
            self._invalidation = None
        await self.storage.close()
        if self._redis is not None:
            await self._redis.aclose()


def _client(url: str, retry: Retry | None = None, name: str | None = None) -> Redis:
    if retry is None:
        return Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS)
    return Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, retry=retry, client_name=name
    )

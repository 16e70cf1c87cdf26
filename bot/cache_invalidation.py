"""Who a user is, dropped on every instance: the per-process user cache (``core/user_cache.py``)
tells what a committed change dropped here; this publishes it on a Redis channel and drops
what the other instances publish.

A message is JSON: ``{"from": <instance>, "ids": [<telegram id>, …]}``, or ``"ids": null``
for everyone (a level changed). Connected again after Redis went away, an instance drops
its whole cache: it may have missed messages meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.user_cache import UserCache

log = logging.getLogger("kameng.cache")

#: the pause before subscribing again after Redis went away
RECONNECT_SECONDS = 0.5


class CacheInvalidation:
    def __init__(self, redis: Redis, channel: str, cache: UserCache, instance: str) -> None:
        self._redis = redis
        self._channel = channel
        self._cache = cache
        self._instance = instance
        self._outgoing: asyncio.Queue[frozenset[int] | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        #: set once subscribed (again): messages published from then on reach this instance
        self.subscribed = asyncio.Event()

    async def start(self, timeout: float) -> None:  # noqa: ASYNC109 - bounds the first subscribe
        """Subscribe and start publishing; ``TimeoutError`` (and nothing left running) when
        the first subscription does not succeed within ``timeout`` seconds."""
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._listen(), name="cache-invalidation-listen"),
            asyncio.create_task(self._publish(), name="cache-invalidation-publish"),
        ]
        try:
            await asyncio.wait_for(self.subscribed.wait(), timeout)
        except TimeoutError:
            await self.stop()
            raise
        self._cache.on_committed_drop(self._committed)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._redis.aclose()

    def _committed(self, telegram_ids: frozenset[int] | None) -> None:
        # called inside SQLAlchemy's commit event: only hand the ids to the publisher task
        if self._tasks and self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._outgoing.put_nowait, telegram_ids)

    async def _publish(self) -> None:
        while True:
            telegram_ids = await self._outgoing.get()
            ids = None if telegram_ids is None else sorted(telegram_ids)
            message = json.dumps({"from": self._instance, "ids": ids})
            try:
                await self._redis.publish(self._channel, message)
            except (RedisError, OSError) as error:  # the others see it within their TTL
                log.warning("user cache: could not publish a change (%s)", error)

    async def _listen(self) -> None:
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    # (re)connected: whatever was published while away is lost to us
                    self._cache.clear()
                    self.subscribed.set()
                    async for message in pubsub.listen():
                        self._received(message)
            except (RedisError, OSError) as error:
                self.subscribed.clear()
                log.warning("user cache: Redis subscription lost (%s); reconnecting", error)
                await asyncio.sleep(RECONNECT_SECONDS)

    def _received(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        try:
            body = json.loads(message["data"])
            if body["from"] == self._instance:
                return
            ids = body["ids"]
        except (ValueError, KeyError, TypeError):
            log.warning("user cache: ignored a malformed invalidation message")
            return
        if ids is None:
            self._cache.clear()
        else:
            self._cache.forget(int(telegram_id) for telegram_id in ids)

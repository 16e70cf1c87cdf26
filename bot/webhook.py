"""The Telegram webhook: an aiohttp route that takes each update once and answers at once.

Telegram POSTs every update as JSON to ``KAMENG_WEBHOOK_URL`` with the secret token in the
``X-Telegram-Bot-Api-Secret-Token`` header. The endpoint

1. refuses a request without the right secret: 403, nothing read further;
2. asks the dedupe whether this ``update_id`` is new (a database row, or Redis ``SET NX EX``
   with ``KAMENG_REDIS_URL``): a redelivery, or the same update reaching another instance
   behind the balancer, is answered 200 and dropped;
3. hands a new update to the dispatcher in a task of its own and answers 200 without
   waiting: Telegram waits for the answer before it sends the next update, and a purchase
   may take longer than it should wait.

If the dedupe cannot be asked (the database is down), the answer is 503: Telegram retries
the update later, and nothing was handled. :meth:`WebhookEndpoint.drain` waits for the
updates being handled, for a clean stop.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import timedelta
from typing import Protocol

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import StorageUnavailable
from core.seen_updates import KEEP

log = logging.getLogger("kameng.webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class DedupeUnavailable(Exception):
    """Whether the update is new cannot be told now (Redis down)."""


class UpdateDedupe(Protocol):
    async def first_time(self, update_id: int) -> bool:
        """True for the first caller with ``update_id``, on any instance."""
        ...


class RedisSeenUpdates:
    """The dedupe on Redis: ``SET <prefix>:update:<id> 1 NX EX <a day>`` (what
    ``core.seen_updates.SeenUpdates`` does with a table when there is no Redis)."""

    def __init__(self, redis: Redis, prefix: str, keep: timedelta = KEEP) -> None:
        self._redis = redis
        self._prefix = prefix
        self._keep = keep

    async def first_time(self, update_id: int) -> bool:
        try:
            taken = await self._redis.set(
                f"{self._prefix}:update:{update_id}", b"1", nx=True, ex=self._keep
            )
        except (RedisError, OSError) as error:  # answered 503: Telegram retries the update
            raise DedupeUnavailable(str(error)) from None
        return bool(taken)

    async def close(self) -> None:
        await self._redis.aclose()


def _refusal(status: int, code: str) -> web.Response:
    return web.json_response({"error": {"code": code}}, status=status)


class WebhookEndpoint:
    """``POST <path of KAMENG_WEBHOOK_URL>``: verify, dedupe, handle in the background."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, secret: str, seen: UpdateDedupe) -> None:
        self._dispatcher = dispatcher
        self._bot = bot
        self._secret = secret.encode()
        self._seen = seen
        self._handling: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.handled = 0
        self.duplicates = 0

    async def __call__(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return _refusal(403, "webhook_secret_mismatch")
        if self._stopping:  # Telegram keeps the update and retries it (another instance)
            return _refusal(503, "stopping")
        try:
            update = Update.model_validate(await request.json(), context={"bot": self._bot})
        except (ValueError, ValidationError):
            return _refusal(400, "malformed_update")
        try:
            first = await self._seen.first_time(update.update_id)
        except (StorageUnavailable, DedupeUnavailable):
            return _refusal(503, "storage_unavailable")
        if not first:
            self.duplicates += 1
            log.info("update %s already taken: dropped", update.update_id)
            return web.Response(status=200)
        task = asyncio.create_task(self._handle(update), name=f"update-{update.update_id}")
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)
        return web.Response(status=200)

    async def _handle(self, update: Update) -> None:
        try:
            await self._dispatcher.feed_update(self._bot, update)
        except Exception:  # the errors router answered the user; this is for the operator
            log.exception("update %s failed", update.update_id)
        finally:
            self.handled += 1

    async def drain(self) -> None:
        """Refuse new updates (503: Telegram retries them) and let those in hand finish."""
        self._stopping = True
        while self._handling:
            await asyncio.gather(*self._handling, return_exceptions=True)

"""Each update: its id and its sender in every log line it causes, its time in the
handler latency histogram (``kameng_bot_update_seconds``) and one log line when done.

The dispatcher's outermost update middleware, so the time covers loading the user, the
filters and the handler. aiogram also logs a line per update (``aiogram.event``); this one
carries the context fields (JSON: ``update_id``, ``user_id``, ``duration_ms``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User

from telemetry import context
from telemetry.metrics import BOT_UPDATES

log = logging.getLogger("kameng.bot")


class ObserveUpdates(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        sender: User | None = data.get("event_from_user")
        kind = event.event_type
        started = time.perf_counter()
        with context.scope(
            update_id=event.update_id,
            user_id=sender.id if sender is not None else None,
            order_id=None,
            request_id=None,
        ):
            try:
                return await handler(event, data)
            finally:
                seconds = time.perf_counter() - started
                BOT_UPDATES.labels(kind).observe(seconds)
                log.info(
                    "update %d (%s) in %.1f ms",
                    event.update_id,
                    kind,
                    seconds * 1000,
                    extra={"duration_ms": round(seconds * 1000, 1)},
                )

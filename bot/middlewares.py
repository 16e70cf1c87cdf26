"""Per-update plumbing: who is writing (and are they banned), and button-spam throttling."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot import texts
from core.catalogue import UserView, language_for
from core.platform import Platform


class CurrentUserMiddleware(BaseMiddleware):
    """Loads (or registers) the sender as ``data["user"]``, for every update."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: User | None = data.get("event_from_user")
        data["platform"] = self._platform
        if sender is not None and not sender.is_bot:
            user, created = await self._platform.catalogue.ensure_user(
                sender.id,
                username=sender.username,
                display_name=sender.full_name,
                language=language_for(sender.language_code),
            )
            data["user"] = user
            data["user_is_new"] = created
        return await handler(event, data)


class BannedGate(BaseMiddleware):
    """A banned user gets one short line and nothing else (runs inside the i18n context)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: UserView | None = data.get("user")
        if user is None or not user.is_banned:
            return await handler(event, data)
        if isinstance(event, Message):
            await event.answer(texts.banned())
        elif isinstance(event, CallbackQuery):
            await event.answer(texts.banned(), show_alert=True)
        return None


class ThrottleMiddleware(BaseMiddleware):
    """At most ``rate`` button presses per second per user. A Confirm press is never dropped:
    buying is idempotent by quote id, so letting it through is always safe."""

    def __init__(self, rate: float = 5.0, never_drop: tuple[str, ...] = ("buy:ok:",)) -> None:
        self._interval = 1.0 / rate
        self._last: dict[int, float] = {}
        self._never_drop = never_drop

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        if (event.data or "").startswith(self._never_drop):
            return await handler(event, data)
        now = time.monotonic()
        last = self._last.get(event.from_user.id, 0.0)
        if now - last < self._interval:
            await event.answer(texts.slow_down())
            return None
        self._last[event.from_user.id] = now
        if len(self._last) > 10_000:
            self._last.clear()
        return await handler(event, data)

"""Per-update plumbing: who is writing (and are they banned), button-spam throttling, and
every button press answered."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User

from bot import texts
from bot.formatting import reading_as
from bot.telegram_requests import callback_answers
from bot.throttle import LocalThrottle, ThrottleStore
from core.catalogue import UserView, language_for
from core.platform import Platform


class CurrentUserMiddleware(BaseMiddleware):
    """Loads (or registers) the sender as ``data["user"]``, for every update, and writes
    what the update answers for them (their time zone and the currency)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender: User | None = data.get("event_from_user")
        if sender is not None and not sender.is_bot:
            user, created = await self._platform.catalogue.ensure_user(
                sender.id,
                username=sender.username,
                display_name=sender.full_name,
                language=language_for(sender.language_code),
                status=self._platform.registration.newcomer_status,
            )
            data["user"] = user
            data["user_is_new"] = created
        with reading_as(self._platform.settings, sender.id if sender is not None else None):
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
        if isinstance(event, Message) and event.successful_payment is not None:
            return await handler(event, data)  # money already taken is credited all the same
        if isinstance(event, Message):
            await event.answer(texts.banned())
        elif isinstance(event, CallbackQuery):
            await event.answer(texts.banned(), show_alert=True)
        return None


class ThrottleMiddleware(BaseMiddleware):
    """A token bucket per user for button presses (``bot/throttle.py``: in this process, or
    in Redis shared by every instance). A Confirm press is never dropped: buying is
    idempotent by quote id."""

    def __init__(
        self, store: ThrottleStore | None = None, never_drop: tuple[str, ...] = ("buy:ok:",)
    ) -> None:
        self._store = store or LocalThrottle()
        self._never_drop = never_drop

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        if (event.data or "").startswith(self._never_drop) or await self._store.allow(
            event.from_user.id
        ):
            return await handler(event, data)
        await event.answer(texts.slow_down())
        return None


class AnswerEveryQuery(BaseMiddleware):
    """A press a handler left unanswered is answered when it is done, so the user's button
    stops spinning (a handler that answers, with a text or an alert, keeps its answer: see
    ``bot.telegram_requests``). A handler that failed leaves the answer to the error
    handler, which shows why."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        result = await handler(event, data)
        if isinstance(event, CallbackQuery) and event.bot is not None:
            answers = callback_answers(event.bot)
            if answers is not None and not answers.answered(event.id):
                await event.answer()
        return result

"""Where handler errors end: platform refusals become translated replies; a button on a
message that can no longer be changed (deleted, too old) is a stale button, answered with a
short alert; anything else is logged with a reference id (never a code's plaintext) and the
user gets a short apology."""

from __future__ import annotations

import logging
import secrets

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot import texts
from bot.telegram_requests import callback_answers
from core.errors import KamengError

log = logging.getLogger("kameng.bot")

#: Telegram's answers to a press on a message the bot can no longer change: ordinary
#: behaviour (the user deleted it, or it is days old), not a bug
STALE_MESSAGE = (
    "message to edit not found",
    "message can't be edited",
    "message to delete not found",
    "message to be replied not found",
)


def is_stale_message(error: BaseException) -> bool:
    return isinstance(error, TelegramBadRequest) and any(
        reason in error.message for reason in STALE_MESSAGE
    )


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    if isinstance(event.exception, KamengError):
        text = texts.error(event.exception)
    elif update.callback_query is not None and is_stale_message(event.exception):
        log.info("stale button in update %s", update.update_id)
        text = texts.stale_button()
    else:
        reference = secrets.token_hex(4)
        # The exception's type and the update id only: messages of some errors could quote
        # user input, and a receipt's codes must never reach a log.
        log.error(
            "unhandled %s in update %s (ref %s)",
            type(event.exception).__name__,
            update.update_id,
            reference,
            exc_info=(type(event.exception), event.exception, event.exception.__traceback__),
        )
        text = texts.unexpected(reference)
    await _reply(update.callback_query, update.message, text)
    return True


async def _reply(query: CallbackQuery | None, message: Message | None, text: str) -> None:
    try:
        if query is not None:
            answers = callback_answers(query.bot) if query.bot is not None else None
            if answers is None or not answers.answered(query.id):
                await query.answer(text[:200], show_alert=True)
            elif isinstance(query.message, Message):  # the spinner already stopped
                await query.message.answer(text)
        elif message is not None:
            await message.answer(text)
    except Exception:  # the reply itself failed (Telegram down): the log above has it
        log.warning("could not deliver an error reply", exc_info=False)


def setup() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router

"""Where handler errors end: platform refusals become translated replies; anything else is
logged with a reference id (never a code's plaintext) and the user gets a short apology."""

from __future__ import annotations

import logging
import secrets

from aiogram import Router
from aiogram.types import CallbackQuery, ErrorEvent, Message

from bot import texts
from core.errors import KamengError

log = logging.getLogger("kameng.bot")
router = Router(name="errors")


@router.errors()
async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    if isinstance(event.exception, KamengError):
        text = texts.error(event.exception)
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
            await query.answer(text[:200], show_alert=True)
        elif message is not None:
            await message.answer(text)
    except Exception:  # the reply itself failed (Telegram down): the log above has it
        log.warning("could not deliver an error reply", exc_info=False)

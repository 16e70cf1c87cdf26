"""An admin's approval card after a decision — the one rendering every approval queue uses
(top-ups, registrations, supplier applications, SKU reviews, bad-code reports,
withdrawals): the card keeps its text, gains "✅ Approved by @admin at …" (or "❌ Rejected
by … : reason") and loses its buttons. A second admin pressing an old card gets the same.

A rejection with a typed reason is decided a message later, so the card is remembered as a
:class:`Card` (in the FSM data) when the admin presses Reject.

The card is edited in place on the ``Bot`` (an edit of the pressed card answers that press);
a line that has no room on the card is a new message, so it goes through the one ``Sender``."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup, Message

from bot import admin_texts
from bot.notices import CAPTION_LIMIT
from bot.sender import Priority, Sender
from core.approvals import Verdict

log = logging.getLogger("kameng.bot")
TEXT_LIMIT = 4096


@dataclass(frozen=True)
class Card:
    chat_id: int
    message_id: int
    html: str  # the card's text (or caption) as sent, formatting kept
    caption: bool  # a photo's or document's caption, not a text message

    @classmethod
    def of(cls, message: object) -> Card | None:
        if not isinstance(message, Message) or message.reply_markup is None:
            return None  # not a card, or already closed
        caption = message.text is None
        return cls(message.chat.id, message.message_id, message.html_text, caption)

    def as_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: object) -> Card | None:
        return cls(**data) if isinstance(data, dict) else None


async def close_card(
    sender: Sender,
    card: Card | None,
    verdict: Verdict | None,
    after: InlineKeyboardMarkup | None = None,
) -> None:
    """Append who decided what and when to the card and take its buttons away, leaving
    ``after`` (what may still be done, e.g. restock a refunded code) — in the current
    locale: the card's reader is the admin acting on it."""
    if card is None or verdict is None:
        return
    line = admin_texts.decided_by(verdict)
    text = f"{card.html}\n\n{line}"
    bot = sender.bot
    try:
        if card.caption and len(text) <= CAPTION_LIMIT:
            await bot.edit_message_caption(
                chat_id=card.chat_id, message_id=card.message_id, caption=text, reply_markup=after
            )
        elif not card.caption and len(text) <= TEXT_LIMIT:
            await bot.edit_message_text(
                text, chat_id=card.chat_id, message_id=card.message_id, reply_markup=after
            )
        else:  # no room on the card: the line goes right under it
            await bot.edit_message_reply_markup(
                chat_id=card.chat_id, message_id=card.message_id, reply_markup=after
            )
            chat_id, message_id = card.chat_id, card.message_id
            delivery = await sender.send(
                chat_id,
                lambda: bot.send_message(chat_id, line, reply_to_message_id=message_id),
                priority=Priority.NOTICE,
            )
            if not delivery.sent:
                log.info("approval card %s: no line under it: %s", message_id, delivery.reason)
    except TelegramAPIError as failure:  # deleted by the admin, too old to edit, ...
        log.info("approval card %s not closed: %s", card.message_id, failure)

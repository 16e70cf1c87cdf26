"""Direct notices to one user, in their own language, through the bot's one ``Sender`` (its
budget, its retries). Best effort: an unreachable recipient (blocked the bot, Telegram
failing) is logged without content. What must survive an outage goes through the outbox
instead — the admins' approval cards among it — and ``send_once`` is how the outbox sends a
card (its text, buttons and the file it may be the caption of)."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aiogram.types import InlineKeyboardMarkup, Message, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.formatting import reading_as
from bot.i18n import LOCALE_OF
from bot.sender import Delivery, Markup, Priority, Sender
from core.catalogue import Catalogue
from core.settings import Settings

log = logging.getLogger("kameng.bot")
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
PARSE_HTML: str | None = "HTML"  # the bot's default; ``None`` sends a caption as plain text
NOTICE = Priority.NOTICE


class Attachment(Protocol):
    """A file already on Telegram's servers: a receipt photo, an authorization document."""

    @property
    def file_id(self) -> str: ...

    @property
    def kind(self) -> str: ...  # "photo" | "document"


@dataclass(frozen=True)
class TelegramFile:
    file_id: str
    kind: str  # "photo" | "document"


async def tell_user(
    sender: Sender,
    catalogue: Catalogue,
    settings: Settings,
    i18n: I18n,
    telegram_id: int,
    render: Callable[[], str],
    markup: Callable[[], InlineKeyboardMarkup | ReplyKeyboardMarkup] | None = None,
    *,
    priority: Priority = NOTICE,
) -> None:
    """``render()`` (and ``markup()``) in the user's language and time zone, sent to them."""
    user = await catalogue.user(telegram_id)
    with (
        i18n.use_locale(LOCALE_OF.get(user.language, i18n.default_locale)),
        reading_as(settings, telegram_id),
    ):
        text = render()
        keyboard = markup() if markup else None
    await notify(sender, telegram_id, text, keyboard, priority=priority)


async def notify(
    sender: Sender,
    telegram_id: int,
    text: str,
    markup: Markup | None = None,
    *,
    priority: Priority = NOTICE,
) -> None:
    """One notice already rendered; a user who cannot receive it is logged, not raised."""
    delivery = await sender.send_message(telegram_id, text, reply_markup=markup, priority=priority)
    if not delivery.sent:
        log.warning("could not tell user %s: %s", telegram_id, type(delivery.error).__name__)


@dataclass(frozen=True)
class Card:
    """A notice as the outbox sends it: text, buttons, and the file it may be the caption of."""

    text: str
    markup: Markup | None = None
    attachment: Attachment | None = None


async def send_once(
    sender: Sender,
    chat_id: int,
    card: Card,
    *,
    priority: Priority,
    stopping: asyncio.Event | None = None,
) -> Delivery[Message]:
    """One request, for a caller that retries from the database (``retry=False``): a card
    with a file is the file's caption, cut to Telegram's limit when longer — a second
    message could be repeated by the retry of the first, and the outbox sends each row once."""
    markup = card.markup
    if card.attachment is None:
        return await sender.send_message(
            chat_id,
            card.text[:TEXT_LIMIT],
            reply_markup=markup,
            priority=priority,
            retry=False,
            stopping=stopping,
        )
    caption, parse_mode = card.text, PARSE_HTML
    if len(caption) > CAPTION_LIMIT:  # cut as plain text: cutting HTML could break a tag
        caption, parse_mode = _plain(caption)[: CAPTION_LIMIT - 1] + "…", None
    bot, file_id = sender.bot, card.attachment.file_id
    send_file = bot.send_photo if card.attachment.kind == "photo" else bot.send_document
    return await sender.send(
        chat_id,
        lambda: send_file(
            chat_id, file_id, caption=caption, parse_mode=parse_mode, reply_markup=markup
        ),
        priority=priority,
        retry=False,
        stopping=stopping,
    )


def _plain(html_text: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))

"""Direct notices to one user or to every admin, each in their own language, through the
bot's one ``Sender`` (its budget, its retries). Best effort: one unreachable recipient
(blocked the bot, Telegram failing) never stops the others and is logged without content.
What must survive an outage goes through the outbox instead."""

from __future__ import annotations

import logging
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


async def tell_admins(
    sender: Sender,
    catalogue: Catalogue,
    settings: Settings,
    i18n: I18n,
    render: Callable[[], tuple[str, InlineKeyboardMarkup]],
    attachment: Attachment | None = None,
) -> None:
    """Every admin gets the card; with an attachment, the card is its caption (or, when too
    long for a caption, a message of its own after the file)."""
    for admin_id in await catalogue.admins():
        admin = await catalogue.user(admin_id)
        with (
            i18n.use_locale(LOCALE_OF.get(admin.language, i18n.default_locale)),
            reading_as(settings, admin_id),
        ):
            text, markup = render()
        delivery = await _card(sender, admin_id, text, markup, attachment)
        if not delivery.sent:
            log.warning("could not tell admin %s: %s", admin_id, type(delivery.error).__name__)


async def _card(
    sender: Sender,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup,
    attachment: Attachment | None,
) -> Delivery[Message]:
    if attachment is None:
        return await sender.send_message(chat_id, text, reply_markup=markup, priority=NOTICE)
    fits = len(text) <= CAPTION_LIMIT
    caption, keyboard = (text, markup) if fits else (None, None)
    bot = sender.bot
    send_file = bot.send_photo if attachment.kind == "photo" else bot.send_document
    file_id = attachment.file_id
    delivery = await sender.send(
        chat_id,
        lambda: send_file(chat_id, file_id, caption=caption, reply_markup=keyboard),
        priority=NOTICE,
    )
    if delivery.sent and not fits:
        return await sender.send_message(chat_id, text, reply_markup=markup, priority=NOTICE)
    return delivery

"""Direct notices to one user or to every admin, each in their own language. Best effort:
one unreachable recipient (blocked the bot, a Telegram hiccup) never stops the others and is
logged without content. What must survive an outage goes through the outbox instead."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.i18n import I18n

from bot.formatting import reading_as
from bot.i18n import LOCALE_OF
from core.catalogue import Catalogue
from core.settings import Settings

log = logging.getLogger("kameng.bot")
CAPTION_LIMIT = 1024


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
    bot: Bot,
    catalogue: Catalogue,
    settings: Settings,
    i18n: I18n,
    telegram_id: int,
    render: Callable[[], str],
    markup: Callable[[], InlineKeyboardMarkup | ReplyKeyboardMarkup] | None = None,
) -> None:
    """``render()`` (and ``markup()``) in the user's language and time zone, sent to them."""
    user = await catalogue.user(telegram_id)
    with (
        i18n.use_locale(LOCALE_OF.get(user.language, i18n.default_locale)),
        reading_as(settings, telegram_id),
    ):
        text = render()
        keyboard = markup() if markup else None
    try:
        await bot.send_message(telegram_id, text, reply_markup=keyboard)
    except TelegramAPIError as exc:
        log.warning("could not tell user %s: %s", telegram_id, type(exc).__name__)


async def tell_admins(
    bot: Bot,
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
        try:
            if attachment is None:
                await bot.send_message(admin_id, text, reply_markup=markup)
                continue
            fits = len(text) <= CAPTION_LIMIT
            caption, keyboard = (text, markup) if fits else (None, None)
            if attachment.kind == "photo":
                await bot.send_photo(
                    admin_id, attachment.file_id, caption=caption, reply_markup=keyboard
                )
            else:
                await bot.send_document(
                    admin_id, attachment.file_id, caption=caption, reply_markup=keyboard
                )
            if not fits:
                await bot.send_message(admin_id, text, reply_markup=markup)
        except TelegramAPIError as exc:
            log.warning("could not tell admin %s: %s", admin_id, type(exc).__name__)

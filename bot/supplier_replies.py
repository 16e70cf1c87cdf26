"""What the supplier handlers share: telling admins and suppliers, each in their own
language (one unreachable recipient — blocked the bot, Telegram hiccup — never stops the
others; it is logged without content), closing a decided card, and reading ``/cmd SKU``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot import supplier_texts as st
from bot.i18n import LOCALE_OF
from core.catalogue import SkuView, UserView
from core.errors import KamengError
from core.platform import Platform
from core.reviews import Authorization
from core.suppliers import admin_ids

log = logging.getLogger("kameng.bot")
CAPTION_LIMIT = 1024


async def tell_user(
    bot: Bot, platform: Platform, i18n: I18n, telegram_id: int, render: Callable[[], str]
) -> None:
    user = await platform.catalogue.user(telegram_id)
    with i18n.use_locale(LOCALE_OF.get(user.language, i18n.default_locale)):
        text = render()
    try:
        await bot.send_message(telegram_id, text)
    except TelegramAPIError as exc:
        log.warning("could not tell user %s: %s", telegram_id, type(exc).__name__)


async def tell_admins(
    bot: Bot,
    platform: Platform,
    i18n: I18n,
    render: Callable[[], tuple[str, InlineKeyboardMarkup]],
    attachment: Authorization | None = None,
) -> None:
    """Every admin gets the card; with an attachment, the card is its caption (or, when too
    long for a caption, a message of its own after the file)."""
    for admin_id in await admin_ids(platform.db):
        admin = await platform.catalogue.user(admin_id)
        with i18n.use_locale(LOCALE_OF.get(admin.language, i18n.default_locale)):
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


async def announce_decision(
    card: object,
    already_decided: bool,
    bot: Bot,
    platform: Platform,
    i18n: I18n,
    telegram_id: int,
    render: Callable[[], str],
) -> None:
    """After a first decision: the admin's card loses its buttons, the subject is told."""
    if already_decided:
        return
    if isinstance(card, Message):
        await card.edit_reply_markup(reply_markup=None)
    await tell_user(bot, platform, i18n, telegram_id, render)


async def own_sku_of(
    message: Message,
    command: CommandObject,
    user: UserView,
    platform: Platform,
    usage: Callable[[], str],
) -> SkuView | None:
    """The caller's own SKU named in ``/cmd SKU``; otherwise replies why not and gives None."""
    code = (command.args or "").strip()
    if not code:
        await message.answer(usage())
        return None
    try:
        return await platform.supplier_stock.own_sku(user.telegram_id, code)
    except KamengError as exc:
        await message.answer(st.refusal(exc))
        return None

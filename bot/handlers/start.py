"""/start, /help, the main menu and the language switch."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import command_menus, texts
from bot.i18n import LOCALE_OF
from bot.keyboards import menus
from bot.keyboards.callbacks import LanguageCb
from core.catalogue import Catalogue, UserView
from core.models import Role


async def start(message: Message, user: UserView) -> None:
    await message.answer(
        texts.welcome(user.display_name or str(user.telegram_id)), reply_markup=menus.main_menu()
    )


def help_for(user: UserView) -> str:
    """The resellers' help, then a section per further role the user holds."""
    parts = [texts.help_text()]
    if Role.SUPPLIER in user.roles:
        parts.append(texts.supplier_help(command_menus.listing(Role.SUPPLIER)))
    if Role.ADMIN in user.roles:
        parts.append(texts.admin_help(command_menus.listing(Role.ADMIN)))
    return "\n\n".join(parts)


async def help_(message: Message, user: UserView) -> None:
    await message.answer(help_for(user), reply_markup=menus.main_menu())


async def language(message: Message) -> None:
    await message.answer(texts.choose_language(), reply_markup=menus.languages())


async def set_language(
    query: CallbackQuery,
    callback_data: LanguageCb,
    user: UserView,
    catalogue: Catalogue,
    i18n: I18n,
    bot: Bot,
) -> None:
    updated = await catalogue.set_language(user.telegram_id, callback_data.code)
    await command_menus.refresh(bot, i18n, updated)  # a staff menu speaks the new language
    with i18n.use_locale(LOCALE_OF[updated.language]):
        await query.answer()
        if query.message is not None:
            await query.message.answer(texts.language_set(), reply_markup=menus.main_menu())


def setup() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_, F.text == texts.MENU_HELP)
    router.message.register(help_, Command("help"))
    router.message.register(language, F.text == texts.MENU_LANGUAGE)
    router.message.register(language, Command("language"))
    router.callback_query.register(set_language, LanguageCb.filter())
    return router

"""Last in line: /cancel for any form, unknown commands, free-text search, and buttons
nobody recognises."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.keyboards import menus
from core.catalogue import UserView
from core.storefront import Storefront


async def cancel_any_form(message: Message, state: FSMContext) -> None:
    """Leaves whatever form the user is in; a flow with its own /cancel handles it first."""
    await state.clear()
    await message.answer(texts.form_cancelled())


async def unknown_command(message: Message) -> None:
    await message.answer(texts.unknown_command())


async def free_text_search(message: Message, user: UserView, storefront: Storefront) -> None:
    query = (message.text or "")[:64]
    result = await storefront.skus(user.telegram_id, search=query, limit=menus.SKU_PAGE_SIZE)
    markup = menus.sku_list(result.lines, category=0, page=0, pages=1) if result.lines else None
    await message.answer(texts.search_results(query, result.total), reply_markup=markup)


async def stale_or_forged_button(query: CallbackQuery) -> None:
    await query.answer(texts.stale_button(), show_alert=True)


async def anything_else(message: Message) -> None:
    await message.answer(texts.help_text())


def setup() -> Router:
    router = Router(name="fallback")
    router.message.register(cancel_any_form, Command("cancel"), ~StateFilter(None))
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(free_text_search, F.text)
    router.callback_query.register(stale_or_forged_button)
    router.message.register(anything_else)
    return router

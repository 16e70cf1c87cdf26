"""Browsing: categories → SKUs (paginated, with my price and stock) → a SKU card."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import ads_texts, texts
from bot.keyboards import menus
from bot.keyboards.callbacks import CatalogueCb
from bot.replies import show_in_place
from core.catalogue import UserView
from core.storefront import Storefront


async def _categories(
    target: Message, user: UserView, storefront: Storefront, *, edit: bool
) -> None:
    lines = await storefront.categories()
    first = await storefront.first_screen(user.telegram_id)
    text = texts.choose_category() if lines else texts.nothing_on_sale()
    markup = menus.categories(lines, first)
    if edit:
        await show_in_place(target, text, markup)
    else:
        await target.answer(text, reply_markup=markup)


async def catalogue(message: Message, user: UserView, storefront: Storefront) -> None:
    await _categories(message, user, storefront, edit=False)


async def home(query: CallbackQuery, user: UserView, storefront: Storefront) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _categories(query.message, user, storefront, edit=True)


async def zone_page(
    query: CallbackQuery, callback_data: CatalogueCb, user: UserView, storefront: Storefront
) -> None:
    """A brand zone's own page: its supplier's products."""
    zone = await storefront.zone(user.telegram_id, callback_data.category)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if zone is None:  # ended since this button was sent
        await query.message.edit_text(ads_texts.zone_ended(), reply_markup=menus.back_home())
        return
    name, lines = zone
    await show_in_place(
        query.message,
        ads_texts.zone_header(name),
        reply_markup=menus.sku_list(lines, category=0, page=0, pages=1),
    )


async def sku_page(
    query: CallbackQuery, callback_data: CatalogueCb, user: UserView, storefront: Storefront
) -> None:
    page = max(0, callback_data.page)
    names = {c.id: c.name for c in await storefront.categories()}
    if callback_data.category and callback_data.category not in names:
        # removed (or emptied) since this message was sent, or a forged button
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(texts.category_gone(), reply_markup=menus.back_home())
        return
    result = await storefront.skus(
        user.telegram_id,
        category_id=callback_data.category,
        offset=page * menus.SKU_PAGE_SIZE,
        limit=menus.SKU_PAGE_SIZE,
    )
    pages = max(1, -(-result.total // menus.SKU_PAGE_SIZE))
    await query.answer()
    if isinstance(query.message, Message):
        await show_in_place(
            query.message,
            texts.sku_list_header(names.get(callback_data.category, ""), page + 1, pages),
            reply_markup=menus.sku_list(
                result.lines, category=callback_data.category, page=page, pages=pages
            ),
        )


async def sku_card(
    query: CallbackQuery, callback_data: CatalogueCb, user: UserView, storefront: Storefront
) -> None:
    card = await storefront.card(user.telegram_id, callback_data.sku)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.sku_card(card), reply_markup=menus.sku_card(card.line))


def setup() -> Router:
    router = Router(name="catalogue")
    router.message.register(catalogue, F.text == texts.MENU_CATALOGUE)
    router.message.register(catalogue, Command("catalogue"))
    router.callback_query.register(home, CatalogueCb.filter(F.action == "home"))
    router.callback_query.register(sku_page, CatalogueCb.filter(F.action == "list"))
    router.callback_query.register(sku_card, CatalogueCb.filter(F.action == "sku"))
    router.callback_query.register(zone_page, CatalogueCb.filter(F.action == "zone"))
    return router

"""Order history: newest first, detail, the codes again as a file, buy again."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.keyboards import menus
from bot.keyboards.callbacks import OrdersCb
from bot.order_reports import order_detail_extras
from bot.replies import codes_file, show_in_place, show_quote
from core.aftersales import AfterSales
from core.catalogue import UserView
from core.orders import Shop
from core.pricing.quotes import Quotes

PAGE_SIZE = 8


async def _page(user: UserView, shop: Shop, page: int) -> tuple[str, object]:
    items, total = await shop.orders(user.telegram_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    if not total:
        return texts.no_orders(), None
    pages = -(-total // PAGE_SIZE)
    return texts.orders_header(page + 1, pages), menus.orders(items, page, pages)


async def orders(message: Message, user: UserView, shop: Shop) -> None:
    text, markup = await _page(user, shop, 0)
    await message.answer(text, reply_markup=markup)  # type: ignore[arg-type]


async def orders_page(
    query: CallbackQuery, callback_data: OrdersCb, user: UserView, shop: Shop
) -> None:
    text, markup = await _page(user, shop, max(0, callback_data.page))
    await query.answer()
    if isinstance(query.message, Message):
        await show_in_place(query.message, text, markup)  # type: ignore[arg-type]


async def order_detail(
    query: CallbackQuery,
    callback_data: OrdersCb,
    user: UserView,
    aftersales: AfterSales,
    shop: Shop,
) -> None:
    receipt = await shop.order(user.telegram_id, callback_data.order)
    text, markup = await order_detail_extras(  # reports' status and "Report a problem"
        aftersales,
        user.telegram_id,
        receipt.order_id,
        texts.order_detail(receipt),
        menus.order_actions(receipt.order_id),
    )
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)


async def order_file(
    query: CallbackQuery, callback_data: OrdersCb, user: UserView, shop: Shop, bot: Bot
) -> None:
    receipt = await shop.order(user.telegram_id, callback_data.order)
    await query.answer()
    await bot.send_document(
        user.telegram_id, codes_file(receipt), caption=texts.codes_file_caption(receipt)
    )


async def buy_again(
    query: CallbackQuery, callback_data: OrdersCb, user: UserView, shop: Shop, quotes: Quotes
) -> None:
    receipt = await shop.order(user.telegram_id, callback_data.order)
    quote = await quotes.quote(user.telegram_id, receipt.sku_code, receipt.quantity)
    await query.answer()
    if isinstance(query.message, Message):
        await show_quote(query.message, quote)


def setup() -> Router:
    router = Router(name="orders")
    router.message.register(orders, F.text == texts.MENU_ORDERS)
    router.message.register(orders, Command("orders"))
    router.callback_query.register(orders_page, OrdersCb.filter(F.action == "list"))
    router.callback_query.register(order_detail, OrdersCb.filter(F.action == "show"))
    router.callback_query.register(order_file, OrdersCb.filter(F.action == "file"))
    router.callback_query.register(buy_again, OrdersCb.filter(F.action == "again"))
    return router

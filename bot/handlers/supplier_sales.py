"""The supplier menu: sales notification settings, my products, low-stock alert levels."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import supplier_sales_texts, texts
from bot.filters import TYPED
from bot.keyboards import supplier_sales as keyboards
from bot.keyboards.supplier_sales import SupplierCb
from bot.replies import show_in_place
from core.catalogue import UserView
from core.models import SalesNotify
from core.supplier_sales import SupplierSales

PAGE_SIZE = 8


class ThresholdFlow(StatesGroup):
    value = State()


async def supplier_menu(message: Message, user: UserView, supplier_sales: SupplierSales) -> None:
    mode = await supplier_sales.notify_mode(user.telegram_id)
    await message.answer(
        supplier_sales_texts.notify_settings(mode), reply_markup=keyboards.supplier_menu(mode)
    )


async def set_mode(
    query: CallbackQuery, callback_data: SupplierCb, user: UserView, supplier_sales: SupplierSales
) -> None:
    if callback_data.mode not in {m.value for m in SalesNotify}:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    mode = await supplier_sales.set_notify_mode(user.telegram_id, SalesNotify(callback_data.mode))
    await query.answer(supplier_sales_texts.notify_mode_set(mode))
    if isinstance(query.message, Message):
        await show_in_place(
            query.message, supplier_sales_texts.notify_settings(mode), keyboards.supplier_menu(mode)
        )


async def _send_products(
    message: Message, user: UserView, supplier_sales: SupplierSales, page: int
) -> None:
    result = await supplier_sales.products(
        user.telegram_id, offset=page * PAGE_SIZE, limit=PAGE_SIZE
    )
    pages = max(1, -(-result.total // PAGE_SIZE))
    await message.answer(
        supplier_sales_texts.products(result.lines, page + 1, pages),
        reply_markup=keyboards.products(result.lines, page, pages),
    )


async def my_products(message: Message, user: UserView, supplier_sales: SupplierSales) -> None:
    await _send_products(message, user, supplier_sales, 0)


async def products_page(
    query: CallbackQuery, callback_data: SupplierCb, user: UserView, supplier_sales: SupplierSales
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _send_products(query.message, user, supplier_sales, max(callback_data.page, 0))


async def threshold_start(
    query: CallbackQuery,
    callback_data: SupplierCb,
    state: FSMContext,
    user: UserView,
    supplier_sales: SupplierSales,
) -> None:
    await supplier_sales.notify_mode(user.telegram_id)  # suppliers only
    await state.set_state(ThresholdFlow.value)
    await state.update_data(sku=callback_data.sku, page=callback_data.page)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(supplier_sales_texts.ask_threshold(callback_data.sku))


async def threshold_value(
    message: Message, state: FSMContext, user: UserView, supplier_sales: SupplierSales
) -> None:
    text = (message.text or "").strip()
    if not text.isdigit():
        await message.answer(supplier_sales_texts.bad_threshold())
        return
    data = await state.get_data()
    result = await supplier_sales.set_threshold(user.telegram_id, data["sku"], int(text))
    await state.clear()
    await message.answer(supplier_sales_texts.threshold_set(result))
    await _send_products(message, user, supplier_sales, int(data.get("page", 0)))


def setup() -> Router:
    router = Router(name="supplier_sales")
    router.message.register(supplier_menu, Command("supplier_settings"))
    router.callback_query.register(set_mode, SupplierCb.filter(F.action == "mode"))
    router.message.register(my_products, Command("myproducts"))
    router.callback_query.register(products_page, SupplierCb.filter(F.action == "products"))
    router.callback_query.register(threshold_start, SupplierCb.filter(F.action == "threshold"))
    router.message.register(threshold_value, StateFilter(ThresholdFlow.value), TYPED)
    return router

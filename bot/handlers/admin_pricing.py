"""Admin: categories (list, add, rename), one SKU's level prices, quantity breaks, sale
status and category (🗂 Move), and the commission ladder with the spread ratio."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import admin_texts, texts
from bot.filters import TYPED, admin_router
from bot.keyboards import admin as kb
from bot.replies import reply
from core.catalogue import UserView
from core.money import MalformedAmount, parse_amount, parse_percent_bps
from core.pricing_admin import LadderView, PricingAdmin, SkuPricing


class PricingFlow(StatesGroup):
    category_add = State()
    category_rename = State()
    sku = State()
    level_price = State()
    quantity_break = State()
    tier = State()
    spread = State()


async def show_sku(event: Message | CallbackQuery, pricing: SkuPricing) -> None:
    await reply(event, admin_texts.sku_pricing(pricing), kb.sku_pricing(pricing))


async def show_ladder(event: Message | CallbackQuery, view: LadderView) -> None:
    await reply(event, admin_texts.ladder(view), kb.ladder(view))


async def show_categories(
    event: Message | CallbackQuery, user: UserView, pricing_admin: PricingAdmin
) -> None:
    rows = await pricing_admin.categories(user.telegram_id)
    await reply(event, admin_texts.categories(rows), kb.categories(rows))


# categories ----------------------------------------------------------------------------


async def categories(query: CallbackQuery, user: UserView, pricing_admin: PricingAdmin) -> None:
    await show_categories(query, user, pricing_admin)


async def ask_category_name(
    query: CallbackQuery, callback_data: kb.AdminCatCb, state: FSMContext
) -> None:
    adding = callback_data.action == "add"
    await state.set_state(PricingFlow.category_add if adding else PricingFlow.category_rename)
    await state.update_data(category=callback_data.category)
    await reply(query, admin_texts.ask_category_name(), kb.cancel())


async def category_name(
    message: Message, user: UserView, pricing_admin: PricingAdmin, state: FSMContext
) -> None:
    name = message.text or ""
    if await state.get_state() == PricingFlow.category_add.state:
        await pricing_admin.add_category(user.telegram_id, name)
    else:
        category = int((await state.get_data())["category"])
        await pricing_admin.rename_category(user.telegram_id, category, name)
    await state.clear()
    await show_categories(message, user, pricing_admin)


# one SKU -------------------------------------------------------------------------------


async def ask_sku(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(PricingFlow.sku)
    await reply(query, admin_texts.ask_sku(), kb.cancel())


async def sku(
    message: Message, user: UserView, pricing_admin: PricingAdmin, state: FSMContext
) -> None:
    pricing = await pricing_admin.sku_pricing(user.telegram_id, (message.text or "")[:32])
    await state.clear()
    await show_sku(message, pricing)


async def sku_again(
    query: CallbackQuery, callback_data: kb.AdminSkuCb, user: UserView, pricing_admin: PricingAdmin
) -> None:
    await show_sku(query, await pricing_admin.sku_pricing(user.telegram_id, callback_data.sku))


async def ask_level_price(
    query: CallbackQuery, callback_data: kb.AdminSkuCb, state: FSMContext
) -> None:
    await state.set_state(PricingFlow.level_price)
    await state.update_data(sku=callback_data.sku, level=callback_data.level)
    await reply(
        query, admin_texts.ask_level_price(callback_data.sku, callback_data.level), kb.cancel()
    )


async def level_price(
    message: Message, user: UserView, pricing_admin: PricingAdmin, state: FSMContext
) -> None:
    data = await state.get_data()
    text = (message.text or "").strip()
    try:
        price = None if text in {"-", "—"} else parse_amount(text)
    except MalformedAmount:
        await message.answer(texts.bad_amount())
        return
    pricing = await pricing_admin.set_level_price(
        user.telegram_id, str(data["sku"]), str(data["level"]), price
    )
    await state.clear()
    await show_sku(message, pricing)


async def ask_break(query: CallbackQuery, callback_data: kb.AdminSkuCb, state: FSMContext) -> None:
    await state.set_state(PricingFlow.quantity_break)
    await state.update_data(sku=callback_data.sku)
    await reply(query, admin_texts.ask_break(callback_data.sku), kb.cancel())


async def quantity_break(
    message: Message, user: UserView, pricing_admin: PricingAdmin, state: FSMContext
) -> None:
    parts = (message.text or "").split()
    try:
        quantity, discount = int(parts[0]), parse_percent_bps(parts[1])
    except (ValueError, IndexError):
        await message.answer(admin_texts.bad_input())
        return
    sku_code = str((await state.get_data())["sku"])
    pricing = await pricing_admin.set_quantity_break(user.telegram_id, sku_code, quantity, discount)
    await state.clear()
    await show_sku(message, pricing)


async def remove_break(
    query: CallbackQuery, callback_data: kb.AdminSkuCb, user: UserView, pricing_admin: PricingAdmin
) -> None:
    pricing = await pricing_admin.remove_quantity_break(
        user.telegram_id, callback_data.sku, callback_data.rule
    )
    await show_sku(query, pricing)


async def ask_move(
    query: CallbackQuery, callback_data: kb.AdminSkuCb, user: UserView, pricing_admin: PricingAdmin
) -> None:
    pricing = await pricing_admin.sku_pricing(user.telegram_id, callback_data.sku)
    rows = await pricing_admin.categories(user.telegram_id)
    await reply(query, admin_texts.ask_move(pricing), kb.move_sku(pricing, rows))


async def move(
    query: CallbackQuery, callback_data: kb.AdminMoveCb, user: UserView, pricing_admin: PricingAdmin
) -> None:
    """Pressed twice, or on an old list: the SKU is where the button says, once."""
    pricing = await pricing_admin.move_sku(
        user.telegram_id, callback_data.sku, callback_data.category
    )
    await show_sku(query, pricing)


async def on_sale(
    query: CallbackQuery, callback_data: kb.AdminSkuCb, user: UserView, pricing_admin: PricingAdmin
) -> None:
    pricing = await pricing_admin.set_on_sale(
        user.telegram_id, callback_data.sku, callback_data.action == "resume"
    )
    await show_sku(query, pricing)


# commission ladder and spread ----------------------------------------------------------


async def ladder(query: CallbackQuery, user: UserView, pricing_admin: PricingAdmin) -> None:
    await show_ladder(query, await pricing_admin.ladder(user.telegram_id))


async def ask_tier(
    query: CallbackQuery, callback_data: kb.AdminLadderCb, state: FSMContext
) -> None:
    await state.set_state(PricingFlow.tier)
    await state.update_data(exclusive=callback_data.exclusive)
    await reply(query, admin_texts.ask_tier(callback_data.exclusive), kb.cancel())


async def tier(
    message: Message, user: UserView, pricing_admin: PricingAdmin, state: FSMContext
) -> None:
    parts = (message.text or "").split()
    try:
        units, rate = int(parts[0]), parse_percent_bps(parts[1])
    except (ValueError, IndexError):
        await message.answer(admin_texts.bad_input())
        return
    exclusive = bool((await state.get_data())["exclusive"])
    view = await pricing_admin.set_tier(
        user.telegram_id, exclusive=exclusive, min_units=units, rate_bps=rate
    )
    await state.clear()
    await show_ladder(message, view)


async def remove_tier(
    query: CallbackQuery,
    callback_data: kb.AdminLadderCb,
    user: UserView,
    pricing_admin: PricingAdmin,
) -> None:
    await show_ladder(query, await pricing_admin.remove_tier(user.telegram_id, callback_data.tier))


async def ask_spread(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(PricingFlow.spread)
    await reply(query, admin_texts.ask_spread(), kb.cancel())


async def spread(
    message: Message, user: UserView, pricing_admin: PricingAdmin, state: FSMContext
) -> None:
    try:
        share = parse_percent_bps(message.text or "")
    except ValueError:
        await message.answer(admin_texts.bad_input())
        return
    view = await pricing_admin.set_spread(user.telegram_id, share)
    await state.clear()
    await show_ladder(message, view)


def setup() -> Router:
    router = admin_router("admin_pricing")
    router.callback_query.register(categories, kb.AdminCb.filter(F.action == "cats"))
    router.callback_query.register(ask_category_name, kb.AdminCatCb.filter())
    router.message.register(
        category_name, StateFilter(PricingFlow.category_add, PricingFlow.category_rename), TYPED
    )
    router.callback_query.register(ask_sku, kb.AdminCb.filter(F.action == "sku"))
    router.message.register(sku, StateFilter(PricingFlow.sku), TYPED)
    router.callback_query.register(sku_again, kb.AdminSkuCb.filter(F.action == "show"))
    router.callback_query.register(ask_level_price, kb.AdminSkuCb.filter(F.action == "price"))
    router.message.register(level_price, StateFilter(PricingFlow.level_price), TYPED)
    router.callback_query.register(ask_break, kb.AdminSkuCb.filter(F.action == "break"))
    router.message.register(quantity_break, StateFilter(PricingFlow.quantity_break), TYPED)
    router.callback_query.register(remove_break, kb.AdminSkuCb.filter(F.action == "unbreak"))
    router.callback_query.register(
        on_sale, kb.AdminSkuCb.filter(F.action.in_({"suspend", "resume"}))
    )
    router.callback_query.register(ask_move, kb.AdminSkuCb.filter(F.action == "move"))
    router.callback_query.register(move, kb.AdminMoveCb.filter())
    router.callback_query.register(ladder, kb.AdminCb.filter(F.action == "ladder"))
    router.callback_query.register(ask_tier, kb.AdminLadderCb.filter(F.action == "tier"))
    router.message.register(tier, StateFilter(PricingFlow.tier), TYPED)
    router.callback_query.register(remove_tier, kb.AdminLadderCb.filter(F.action == "untier"))
    router.callback_query.register(ask_spread, kb.AdminLadderCb.filter(F.action == "spread"))
    router.message.register(spread, StateFilter(PricingFlow.spread), TYPED)
    return router

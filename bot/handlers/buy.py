"""Buying: quantity → quote with breakdown → Confirm (the quote id is the idempotency key)."""

from __future__ import annotations

import asyncio

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import texts
from bot.direct_account import ask_account
from bot.filters import TYPED
from bot.keyboards.callbacks import BuyCb
from bot.replies import show_in_place, show_quote, show_receipt
from core.catalogue import Catalogue, UserView
from core.fulfilment import Fulfilments
from core.orders import Requoted, Shop
from core.pricing.quotes import MAX_QUANTITY, Quotes
from telemetry import metrics


class BuyFlow(StatesGroup):
    typing_quantity = State()


def parse_quantity(text: str) -> int | None:
    cleaned = text.strip()
    if not cleaned.isdigit() or len(cleaned) > 6:
        return None
    quantity = int(cleaned)
    return quantity if 1 <= quantity <= MAX_QUANTITY else None


async def quantity_chosen(
    query: CallbackQuery,
    callback_data: BuyCb,
    user: UserView,
    quotes: Quotes,
    state: FSMContext,
    fulfilments: Fulfilments,
) -> None:
    if isinstance(query.message, Message) and await ask_account(
        query.message, state, fulfilments, user.telegram_id, callback_data.sku, callback_data.qty
    ):  # a direct top-up: the account first, then the quote
        await query.answer()
        return
    quote = await quotes.quote(user.telegram_id, callback_data.sku, callback_data.qty)
    await query.answer()
    if isinstance(query.message, Message):
        await show_quote(query.message, quote)


async def ask_quantity(
    query: CallbackQuery, callback_data: BuyCb, state: FSMContext, catalogue: Catalogue
) -> None:
    sku = await catalogue.sku(callback_data.sku)
    await state.set_state(BuyFlow.typing_quantity)
    await state.update_data(sku=sku.code)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.ask_quantity(sku.name) + "\n" + texts.type_quantity())


async def quantity_typed(
    message: Message, state: FSMContext, user: UserView, quotes: Quotes, fulfilments: Fulfilments
) -> None:
    quantity = parse_quantity(message.text or "")
    if quantity is None:
        await message.answer(texts.bad_quantity(MAX_QUANTITY))
        return
    sku_code = (await state.get_data())["sku"]
    await state.clear()
    if await ask_account(message, state, fulfilments, user.telegram_id, sku_code, quantity):
        return
    await show_quote(message, await quotes.quote(user.telegram_id, sku_code, quantity))


async def quick_buy(
    message: Message,
    command: CommandObject,
    user: UserView,
    quotes: Quotes,
    state: FSMContext,
    fulfilments: Fulfilments,
) -> None:
    parts = (command.args or "").split()
    if len(parts) != 2:
        await message.answer(texts.buy_usage())
        return
    quantity = parse_quantity(parts[1])
    if quantity is None:
        await message.answer(texts.bad_quantity(MAX_QUANTITY))
        return
    if await ask_account(message, state, fulfilments, user.telegram_id, parts[0], quantity):
        return
    await show_quote(message, await quotes.quote(user.telegram_id, parts[0], quantity))


async def confirm(
    query: CallbackQuery, callback_data: BuyCb, user: UserView, shop: Shop, bot: Bot
) -> None:
    result = await shop.buy(user.telegram_id, callback_data.quote)
    if isinstance(result, Requoted):
        await query.answer()
        if isinstance(query.message, Message):
            await show_quote(query.message, result.quote, texts.requoted(result.reason))
        return
    if result.replayed:  # a double tap or a redelivered update: already paid and delivered
        await query.answer(texts.already_bought(result.order_id))
        return
    metrics.order_placed("bot", result)

    async def stop_spinner() -> None:
        # a purchase slower than the press's answer window ("query is too old") still
        # delivers the codes: bot.telegram_requests takes a late answer as done
        await query.answer()

    quote = query.message if isinstance(query.message, Message) else None
    # side by side: the codes do not wait for the spinner's round trip
    await asyncio.gather(stop_spinner(), show_receipt(bot, user.telegram_id, result, quote))


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(texts.cancelled())
    if isinstance(query.message, Message):
        await show_in_place(query.message, texts.cancelled())


def setup() -> Router:
    router = Router(name="buy")
    router.callback_query.register(quantity_chosen, BuyCb.filter(F.action == "qty"))
    router.callback_query.register(ask_quantity, BuyCb.filter(F.action == "typed"))
    router.message.register(quantity_typed, StateFilter(BuyFlow.typing_quantity), TYPED)
    router.message.register(quick_buy, Command("buy"))
    router.callback_query.register(confirm, BuyCb.filter(F.action == "ok"))
    router.callback_query.register(cancel, BuyCb.filter(F.action == "cancel"))
    return router

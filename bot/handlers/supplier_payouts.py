"""Earnings (payable, recent sales with their split) and withdrawals: the supplier asks,
every admin gets the request with Mark paid / Reject, the first decision wins."""

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
from core.catalogue import UserView
from core.errors import InsufficientPayable
from core.money import parse_positive_amount
from core.supplier_payouts import SupplierPayouts

TEXT_LIMIT = 4096


class WithdrawFlow(StatesGroup):
    amount = State()


async def _send_earnings(
    message: Message, user: UserView, supplier_payouts: SupplierPayouts
) -> None:
    view = await supplier_payouts.earnings(user.telegram_id, limit=6)
    await message.answer(
        supplier_sales_texts.earnings(view)[:TEXT_LIMIT],
        reply_markup=keyboards.earnings(view.available > 0),
    )


async def earnings(message: Message, user: UserView, supplier_payouts: SupplierPayouts) -> None:
    await _send_earnings(message, user, supplier_payouts)


async def earnings_button(
    query: CallbackQuery, user: UserView, supplier_payouts: SupplierPayouts
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _send_earnings(query.message, user, supplier_payouts)


async def withdraw_start(
    query: CallbackQuery, state: FSMContext, user: UserView, supplier_payouts: SupplierPayouts
) -> None:
    view = await supplier_payouts.earnings(user.telegram_id, limit=0)
    if view.available <= 0:
        await query.answer(supplier_sales_texts.nothing_to_withdraw(), show_alert=True)
        return
    await state.set_state(WithdrawFlow.amount)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(supplier_sales_texts.ask_withdrawal(view.available))


async def withdraw_amount(
    message: Message, state: FSMContext, user: UserView, supplier_payouts: SupplierPayouts
) -> None:
    amount = parse_positive_amount(message.text)
    if amount is None:
        await message.answer(texts.bad_amount())
        return
    try:
        request = await supplier_payouts.request_withdrawal(user.telegram_id, amount)
    except InsufficientPayable as short:
        await message.answer(
            supplier_sales_texts.withdrawal_too_much(int(short.params.get("available", 0)))
        )
        return
    await state.clear()
    await message.answer(supplier_sales_texts.withdrawal_sent(request))


def setup() -> Router:
    router = Router(name="supplier_payouts")
    router.message.register(earnings, Command("earnings"))
    router.callback_query.register(earnings_button, SupplierCb.filter(F.action == "earnings"))
    router.callback_query.register(withdraw_start, SupplierCb.filter(F.action == "withdraw"))
    router.message.register(withdraw_amount, StateFilter(WithdrawFlow.amount), TYPED)
    return router

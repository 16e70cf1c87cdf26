"""Earnings (payable, recent sales with their split) and withdrawals: the supplier asks,
every admin gets the request with Mark paid / Reject, the first decision wins."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import supplier_sales_texts as texts
from bot import texts as common
from bot.keyboards import supplier_sales as keyboards
from bot.keyboards.supplier_sales import SupplierCb
from core.catalogue import UserView
from core.errors import InsufficientPayable
from core.money import MalformedAmount, parse_amount
from core.platform import Platform

router = Router(name="supplier_payouts")
TEXT_LIMIT = 4096


class WithdrawFlow(StatesGroup):
    amount = State()


async def _send_earnings(message: Message, user: UserView, platform: Platform) -> None:
    view = await platform.supplier_payouts.earnings(user.telegram_id, limit=6)
    await message.answer(
        texts.earnings(view)[:TEXT_LIMIT], reply_markup=keyboards.earnings(view.available > 0)
    )


@router.message(Command("earnings"))
async def earnings(message: Message, user: UserView, platform: Platform) -> None:
    await _send_earnings(message, user, platform)


@router.callback_query(SupplierCb.filter(F.action == "earnings"))
async def earnings_button(query: CallbackQuery, user: UserView, platform: Platform) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _send_earnings(query.message, user, platform)


@router.callback_query(SupplierCb.filter(F.action == "withdraw"))
async def withdraw_start(
    query: CallbackQuery, state: FSMContext, user: UserView, platform: Platform
) -> None:
    view = await platform.supplier_payouts.earnings(user.telegram_id, limit=0)
    if view.available <= 0:
        await query.answer(texts.nothing_to_withdraw(), show_alert=True)
        return
    await state.set_state(WithdrawFlow.amount)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.ask_withdrawal(view.available))


@router.message(StateFilter(WithdrawFlow.amount), F.text & ~F.text.startswith("/"))
async def withdraw_amount(
    message: Message, state: FSMContext, user: UserView, platform: Platform
) -> None:
    try:
        amount = parse_amount(message.text or "")
    except MalformedAmount:
        amount = 0
    if amount <= 0:
        await message.answer(common.bad_amount())
        return
    try:
        request = await platform.supplier_payouts.request_withdrawal(user.telegram_id, amount)
    except InsufficientPayable as short:
        await message.answer(texts.withdrawal_too_much(int(short.params.get("available", 0))))
        return
    await state.clear()
    await message.answer(texts.withdrawal_sent(request))

"""Earnings (payable, recent sales with their split) and withdrawals: the supplier asks,
every admin gets the request with Mark paid / Reject, the first decision wins."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import supplier_sales_texts, texts
from bot.approval_cards import Card, close_card
from bot.filters import TYPED
from bot.keyboards import supplier_sales as keyboards
from bot.keyboards.supplier_sales import SupplierCb, WithdrawalDecisionCb
from core.catalogue import UserView
from core.errors import InsufficientPayable
from core.models import WithdrawalStatus
from core.money import MalformedAmount, parse_amount
from core.supplier_payouts import SupplierPayouts

TEXT_LIMIT = 4096


class WithdrawFlow(StatesGroup):
    amount = State()


class WithdrawalRejectFlow(StatesGroup):
    reason = State()


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
    try:
        amount = parse_amount(message.text or "")
    except MalformedAmount:
        amount = 0
    if amount <= 0:
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


async def mark_paid(
    query: CallbackQuery,
    callback_data: WithdrawalDecisionCb,
    user: UserView,
    supplier_payouts: SupplierPayouts,
    bot: Bot,
) -> None:
    try:
        decision = await supplier_payouts.decide(
            callback_data.request, admin_telegram_id=user.telegram_id, pay=True
        )
    except InsufficientPayable as short:  # refunds took the payable below the request
        spendable = int(short.params.get("spendable", 0))
        await query.answer(supplier_sales_texts.payable_below_request(spendable), show_alert=True)
        return
    await query.answer(
        supplier_sales_texts.withdrawal_decided(decision.request, decision.already_decided)
    )
    await close_card(bot, Card.of(query.message), decision.verdict)


async def reject_start(
    query: CallbackQuery,
    callback_data: WithdrawalDecisionCb,
    state: FSMContext,
    user: UserView,
    supplier_payouts: SupplierPayouts,
    bot: Bot,
) -> None:
    view = await supplier_payouts.withdrawal(
        callback_data.request, admin_telegram_id=user.telegram_id
    )
    if view.status is not WithdrawalStatus.PENDING:
        await query.answer(supplier_sales_texts.withdrawal_decided(view, already=True))
        await close_card(bot, Card.of(query.message), view.verdict)
        return
    await state.set_state(WithdrawalRejectFlow.reason)
    card = Card.of(query.message)
    await state.update_data(request=view.id, card=card.as_data() if card else None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(supplier_sales_texts.ask_reject_reason(view))


async def reject_reason(
    message: Message, state: FSMContext, user: UserView, supplier_payouts: SupplierPayouts, bot: Bot
) -> None:
    reason = (message.text or "").strip()
    if not reason:
        await message.answer(supplier_sales_texts.bad_reason())
        return
    data = await state.get_data()
    request_id, card = int(data["request"]), Card.from_data(data.get("card"))
    await state.clear()
    decision = await supplier_payouts.decide(
        request_id, admin_telegram_id=user.telegram_id, pay=False, reason=reason
    )
    await message.answer(
        supplier_sales_texts.withdrawal_decided(decision.request, decision.already_decided)
    )
    await close_card(bot, card, decision.verdict)


def setup() -> Router:
    router = Router(name="supplier_payouts")
    router.message.register(earnings, Command("earnings"))
    router.callback_query.register(earnings_button, SupplierCb.filter(F.action == "earnings"))
    router.callback_query.register(withdraw_start, SupplierCb.filter(F.action == "withdraw"))
    router.message.register(withdraw_amount, StateFilter(WithdrawFlow.amount), TYPED)
    router.callback_query.register(mark_paid, WithdrawalDecisionCb.filter(F.pay))
    router.callback_query.register(reject_start, WithdrawalDecisionCb.filter(~F.pay))
    router.message.register(reject_reason, StateFilter(WithdrawalRejectFlow.reason), TYPED)
    return router

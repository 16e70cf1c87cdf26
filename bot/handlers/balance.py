"""Balance, statement, and top-ups: Top up → method → amount → a pay step (a provider's
link and QR, credited when it arrives; ``core/payments``) or, for a bank transfer, a
receipt that an admin approves or rejects (``core/topups.py``)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import payment_texts, texts
from bot.filters import TYPED
from bot.keyboards import menus
from bot.keyboards.callbacks import BalanceCb
from bot.keyboards.payments import PaymentCb, PayMethodCb
from bot.keyboards.payments import methods as method_buttons
from bot.payment_steps import show_pay_step
from core.balances import Balances
from core.catalogue import UserView
from core.errors import KamengError
from core.money import parse_positive_amount
from core.payments import Payments
from core.topups import TopUps


class TopUpFlow(StatesGroup):
    amount = State()
    receipt = State()


async def balance(message: Message, user: UserView, balances: Balances) -> None:
    view = await balances.balance(user.telegram_id)
    await message.answer(texts.balance(view), reply_markup=menus.balance_actions())


async def statement(query: CallbackQuery, user: UserView, balances: Balances) -> None:
    moves = await balances.statement(user.telegram_id, limit=10)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.statement(moves))


async def topup_start(query: CallbackQuery, state: FSMContext, payments: Payments) -> None:
    """With payment providers enabled: choose a method; else straight to the receipt path."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if payments.methods:
        await state.clear()
        await query.message.answer(
            payment_texts.choose_method(), reply_markup=method_buttons(payments.methods)
        )
        return
    await state.set_data({"method": payment_texts.BANK})
    await state.set_state(TopUpFlow.amount)
    await query.message.answer(texts.topup_ask_amount())


async def topup_method(
    query: CallbackQuery, callback_data: PayMethodCb, state: FSMContext, payments: Payments
) -> None:
    method = callback_data.method
    await query.answer()
    if method != payment_texts.BANK and method not in payments.methods:
        method = payment_texts.BANK  # a provider switched off since the buttons were sent
    await state.set_data({"method": method})
    await state.set_state(TopUpFlow.amount)
    if isinstance(query.message, Message):
        if method == payment_texts.BANK:
            await query.message.answer(texts.topup_ask_amount())
        else:
            await query.message.answer(payment_texts.ask_amount(method))


async def topup_amount(
    message: Message, state: FSMContext, user: UserView, payments: Payments
) -> None:
    amount = parse_positive_amount(message.text)
    if amount is None:
        await message.answer(texts.bad_amount())
        return
    method = str((await state.get_data()).get("method", payment_texts.BANK))
    if method == payment_texts.BANK:
        await state.update_data(amount=amount)
        await state.set_state(TopUpFlow.receipt)
        await message.answer(texts.topup_ask_receipt())
        return
    try:
        created = await payments.create(user.telegram_id, method, amount)
    except KamengError as refused:
        await message.answer(texts.error(refused))
        return
    await state.clear()
    await show_pay_step(message, created)


async def payment_check(
    query: CallbackQuery, callback_data: PaymentCb, user: UserView, payments: Payments
) -> None:
    """Ask the provider about this payment now; pressing it again asks again."""
    try:
        settled = await payments.check(callback_data.payment, telegram_id=user.telegram_id)
    except KamengError as refused:
        await query.answer(texts.error(refused), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(payment_texts.checked(settled))


async def topup_receipt(
    message: Message,
    state: FSMContext,
    user: UserView,
    topups: TopUps,
) -> None:
    amount = int((await state.get_data())["amount"])
    photo = message.photo[-1].file_id if message.photo else None
    note = message.caption or message.text or ""
    request = await topups.request(user.telegram_id, amount, note=note, receipt_file_id=photo)
    await state.clear()
    # the admins' cards (with the receipt) were promised with the request: the outbox
    await message.answer(texts.topup_sent(request), reply_markup=menus.main_menu())


def setup() -> Router:
    router = Router(name="balance")
    router.message.register(balance, F.text == texts.MENU_BALANCE)
    router.message.register(balance, Command("balance"))
    router.callback_query.register(statement, BalanceCb.filter(F.action == "statement"))
    router.callback_query.register(topup_start, BalanceCb.filter(F.action == "topup"))
    router.callback_query.register(topup_method, PayMethodCb.filter())
    router.callback_query.register(payment_check, PaymentCb.filter(F.action == "check"))
    router.message.register(topup_amount, StateFilter(TopUpFlow.amount), TYPED)
    router.message.register(topup_receipt, StateFilter(TopUpFlow.receipt), F.photo | TYPED)
    return router

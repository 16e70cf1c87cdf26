"""Vouchers: admins issue them (``/voucher AMOUNT [COUNT]``); resellers redeem one from the
Balance menu or with ``/redeem CODE``."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import voucher_texts
from bot.filters import TYPED
from bot.keyboards.callbacks import BalanceCb
from core.catalogue import UserView
from core.money import MalformedAmount, parse_amount
from core.vouchers import VoucherRefused, Vouchers


class VoucherFlow(StatesGroup):
    code = State()


async def issue(
    message: Message, command: CommandObject, user: UserView, vouchers: Vouchers
) -> None:
    args = (command.args or "").split()
    count = args[1] if len(args) == 2 else "1"
    try:
        amount = parse_amount(args[0]) if len(args) in (1, 2) else 0
    except MalformedAmount:
        amount = 0
    if amount <= 0 or not count.isdigit() or len(count) > 6:
        await message.answer(voucher_texts.voucher_usage())
        return
    issued = await vouchers.issue(user.telegram_id, amount, int(count))
    await message.answer(voucher_texts.vouchers_issued(issued))


async def redeem_command(
    message: Message, command: CommandObject, user: UserView, vouchers: Vouchers
) -> None:
    if not (command.args or "").strip():
        await message.answer(voucher_texts.redeem_usage())
        return
    await _redeem(message, user, vouchers, command.args or "")


async def ask_code(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(VoucherFlow.code)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(voucher_texts.voucher_ask_code())


async def code_typed(
    message: Message, state: FSMContext, user: UserView, vouchers: Vouchers
) -> None:
    await state.clear()
    await _redeem(message, user, vouchers, message.text or "")


async def _redeem(message: Message, user: UserView, vouchers: Vouchers, code: str) -> None:
    try:
        result = await vouchers.redeem(user.telegram_id, code)
    except VoucherRefused as refused:
        await message.answer(voucher_texts.voucher_refused(refused))
        return
    await message.answer(voucher_texts.voucher_redeemed(result))


def setup() -> Router:
    router = Router(name="vouchers")
    router.message.register(issue, Command("voucher"))
    router.message.register(redeem_command, Command("redeem"))
    router.callback_query.register(ask_code, BalanceCb.filter(F.action == "voucher"))
    router.message.register(code_typed, StateFilter(VoucherFlow.code), TYPED)
    return router

"""Balance, statement, and top-up requests that admins approve or reject."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import texts
from bot.filters import TYPED
from bot.keyboards import menus
from bot.keyboards.approvals import decision_buttons
from bot.keyboards.callbacks import BalanceCb
from bot.notices import TelegramFile, tell_admins
from bot.sender import Sender
from core.balances import Balances
from core.catalogue import Catalogue, UserView
from core.money import MalformedAmount, parse_amount
from core.settings import Settings
from core.topups import TopUpKind, TopUps


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


async def topup_start(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(TopUpFlow.amount)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(texts.topup_ask_amount())


async def topup_amount(message: Message, state: FSMContext) -> None:
    try:
        amount = parse_amount(message.text or "")
    except MalformedAmount:
        amount = 0
    if amount <= 0:
        await message.answer(texts.bad_amount())
        return
    await state.update_data(amount=amount)
    await state.set_state(TopUpFlow.receipt)
    await message.answer(texts.topup_ask_receipt())


async def topup_receipt(
    message: Message,
    state: FSMContext,
    user: UserView,
    catalogue: Catalogue,
    settings: Settings,
    topups: TopUps,
    sender: Sender,
    i18n: I18n,
) -> None:
    amount = int((await state.get_data())["amount"])
    photo = message.photo[-1].file_id if message.photo else None
    note = message.caption or message.text or ""
    request = await topups.request(user.telegram_id, amount, note=note, receipt_file_id=photo)
    await state.clear()
    await message.answer(texts.topup_sent(request), reply_markup=menus.main_menu())
    await tell_admins(
        sender,
        catalogue,
        settings,
        i18n,
        lambda: (texts.topup_for_admin(request), decision_buttons(TopUpKind.name, request.id)),
        attachment=TelegramFile(photo, "photo") if photo else None,
    )


def setup() -> Router:
    router = Router(name="balance")
    router.message.register(balance, F.text == texts.MENU_BALANCE)
    router.message.register(balance, Command("balance"))
    router.callback_query.register(statement, BalanceCb.filter(F.action == "statement"))
    router.callback_query.register(topup_start, BalanceCb.filter(F.action == "topup"))
    router.message.register(topup_amount, StateFilter(TopUpFlow.amount), TYPED)
    router.message.register(topup_receipt, StateFilter(TopUpFlow.receipt), F.photo | TYPED)
    return router

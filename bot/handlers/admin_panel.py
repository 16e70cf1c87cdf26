"""/admin: the panel with its counters (the approval queues; their listings are in
bot/handlers/approvals.py) and users (find, card, level, credit limit, ban, balance
adjustments). Admins only: for anyone else these handlers do not exist (an unknown
command, a stale button), and the core checks the actor again."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import admin_texts, texts
from bot.filters import TYPED, admin_router
from bot.keyboards import admin as kb
from bot.replies import reply
from core.admin import AdminDesk
from core.catalogue import Catalogue, UserView
from core.money import MalformedAmount, parse_amount


class UserFlow(StatesGroup):
    find = State()
    credit_limit = State()
    adjust = State()


async def show_panel(event: Message | CallbackQuery, user: UserView, admin: AdminDesk) -> None:
    counts = await admin.pending_counts(user.telegram_id)
    await reply(event, admin_texts.panel(counts), kb.panel(counts))


async def admin(message: Message, user: UserView, admin: AdminDesk, state: FSMContext) -> None:
    await state.clear()
    await show_panel(message, user, admin)


async def home(query: CallbackQuery, user: UserView, admin: AdminDesk, state: FSMContext) -> None:
    await state.clear()
    await show_panel(query, user, admin)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await reply(query, admin_texts.cancelled())


# users ---------------------------------------------------------------------------------


async def show_user(
    event: Message | CallbackQuery,
    user: UserView,
    admin: AdminDesk,
    catalogue: Catalogue,
    telegram_id: int,
) -> None:
    card = await admin.user_card(user.telegram_id, telegram_id)
    await reply(event, admin_texts.user_card(card), kb.user_card(card, await catalogue.levels()))


async def ask_user(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(UserFlow.find)
    await reply(query, admin_texts.ask_user(), kb.cancel())


async def find_user(
    message: Message, user: UserView, admin: AdminDesk, catalogue: Catalogue, state: FSMContext
) -> None:
    card = await admin.find_user(user.telegram_id, (message.text or "")[:64])
    await state.clear()
    await show_user(message, user, admin, catalogue, card.user.telegram_id)


async def user_again(
    query: CallbackQuery,
    callback_data: kb.AdminUserCb,
    user: UserView,
    admin: AdminDesk,
    catalogue: Catalogue,
) -> None:
    await show_user(query, user, admin, catalogue, callback_data.user)


async def set_level(
    query: CallbackQuery,
    callback_data: kb.AdminUserCb,
    user: UserView,
    admin: AdminDesk,
    catalogue: Catalogue,
) -> None:
    await admin.set_level(user.telegram_id, callback_data.user, callback_data.level)
    await show_user(query, user, admin, catalogue, callback_data.user)


async def set_banned(
    query: CallbackQuery,
    callback_data: kb.AdminUserCb,
    user: UserView,
    admin: AdminDesk,
    catalogue: Catalogue,
) -> None:
    banned = callback_data.action == "ban"
    await admin.set_banned(user.telegram_id, callback_data.user, banned)
    await show_user(query, user, admin, catalogue, callback_data.user)


async def _ask_about_user(
    query: CallbackQuery, state: FSMContext, step: State, target: int, question: str
) -> None:
    """A typed answer about one user (their credit limit, an adjustment): the user is kept
    in the form's state for the answer's handler (``_user_asked_about``)."""
    await state.set_state(step)
    await state.update_data(target=target)
    await reply(query, question, kb.cancel())


async def _user_asked_about(state: FSMContext) -> int:
    return int((await state.get_data())["target"])


async def ask_credit_limit(
    query: CallbackQuery, callback_data: kb.AdminUserCb, state: FSMContext
) -> None:
    target = callback_data.user
    await _ask_about_user(
        query, state, UserFlow.credit_limit, target, admin_texts.ask_credit_limit(target)
    )


async def credit_limit(
    message: Message, user: UserView, admin: AdminDesk, catalogue: Catalogue, state: FSMContext
) -> None:
    target = await _user_asked_about(state)
    try:
        limit = parse_amount(message.text or "")
    except MalformedAmount:
        await message.answer(texts.bad_amount())
        return
    await admin.set_credit_limit(user.telegram_id, target, limit)
    await state.clear()
    await show_user(message, user, admin, catalogue, target)


async def ask_adjustment(
    query: CallbackQuery, callback_data: kb.AdminUserCb, state: FSMContext
) -> None:
    target = callback_data.user
    await _ask_about_user(query, state, UserFlow.adjust, target, admin_texts.ask_adjustment(target))


async def adjust(
    message: Message, user: UserView, admin: AdminDesk, catalogue: Catalogue, state: FSMContext
) -> None:
    target = await _user_asked_about(state)
    amount_text, _, note = (message.text or "").strip().partition(" ")
    try:
        amount = parse_amount(amount_text)
    except MalformedAmount:
        await message.answer(texts.bad_amount())
        return
    if not note.strip():
        await message.answer(admin_texts.note_required())
        return
    # The admin's message id is the key: a redelivered update adjusts once.
    posted = await admin.adjust_balance(
        user.telegram_id,
        target,
        amount,
        note=note,
        idempotency_key=f"{message.chat.id}:{message.message_id}",
    )
    await state.clear()
    await message.answer(admin_texts.adjusted(amount, posted.balance_after))
    await show_user(message, user, admin, catalogue, target)


def setup() -> Router:
    router = admin_router("admin_panel")
    router.message.register(admin, Command("admin"))
    router.callback_query.register(home, kb.AdminCb.filter(F.action == "home"))
    router.callback_query.register(cancel, kb.AdminCb.filter(F.action == "cancel"))
    router.callback_query.register(ask_user, kb.AdminCb.filter(F.action == "users"))
    router.message.register(find_user, StateFilter(UserFlow.find), TYPED)
    router.callback_query.register(user_again, kb.AdminUserCb.filter(F.action == "show"))
    router.callback_query.register(set_level, kb.AdminUserCb.filter(F.action == "level"))
    router.callback_query.register(
        set_banned, kb.AdminUserCb.filter(F.action.in_({"ban", "unban"}))
    )
    router.callback_query.register(ask_credit_limit, kb.AdminUserCb.filter(F.action == "credit"))
    router.message.register(credit_limit, StateFilter(UserFlow.credit_limit), TYPED)
    router.callback_query.register(ask_adjustment, kb.AdminUserCb.filter(F.action == "adjust"))
    router.message.register(adjust, StateFilter(UserFlow.adjust), TYPED)
    return router

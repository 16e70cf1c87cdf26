"""/admin: the panel with its counters (the approval queues; their listings are in
bot/handlers/approvals.py) and users (find, card, level, credit limit, ban, balance
adjustments). Admins only: for anyone else these handlers do not exist (an unknown
command, a stale button), and the core checks the actor again."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

from bot import admin_texts, texts
from bot.keyboards import admin as kb
from core.catalogue import UserView
from core.money import MalformedAmount, parse_amount
from core.platform import Platform
from core.rights import has_admin_rights


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, user: UserView | None = None) -> bool:
        return user is not None and has_admin_rights(user)


def admin_router(name: str) -> Router:
    """A router whose every message and button handler answers admins only."""
    router = Router(name=name)
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    return router


router = admin_router("admin_panel")
TYPED = F.text & ~F.text.startswith("/")


class UserFlow(StatesGroup):
    find = State()
    credit_limit = State()
    adjust = State()


async def reply(event: Message | CallbackQuery, text: str, markup: Any = None) -> None:
    """Answer a typed message or a button press with a new message."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        if not isinstance(event.message, Message):
            return
        event = event.message
    await event.answer(text, reply_markup=markup)


async def show_panel(event: Message | CallbackQuery, user: UserView, platform: Platform) -> None:
    counts = await platform.admin.pending_counts(user.telegram_id)
    await reply(event, admin_texts.panel(counts), kb.panel(counts))


@router.message(Command("admin"))
async def admin(message: Message, user: UserView, platform: Platform, state: FSMContext) -> None:
    await state.clear()
    await show_panel(message, user, platform)


@router.callback_query(kb.AdminCb.filter(F.action == "home"))
async def home(query: CallbackQuery, user: UserView, platform: Platform, state: FSMContext) -> None:
    await state.clear()
    await show_panel(query, user, platform)


@router.callback_query(kb.AdminCb.filter(F.action == "cancel"))
async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await reply(query, admin_texts.cancelled())


# users ---------------------------------------------------------------------------------


async def show_user(
    event: Message | CallbackQuery, user: UserView, platform: Platform, telegram_id: int
) -> None:
    card = await platform.admin.user_card(user.telegram_id, telegram_id)
    await reply(
        event, admin_texts.user_card(card), kb.user_card(card, await platform.catalogue.levels())
    )


@router.callback_query(kb.AdminCb.filter(F.action == "users"))
async def ask_user(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(UserFlow.find)
    await reply(query, admin_texts.ask_user(), kb.cancel())


@router.message(StateFilter(UserFlow.find), TYPED)
async def find_user(
    message: Message, user: UserView, platform: Platform, state: FSMContext
) -> None:
    card = await platform.admin.find_user(user.telegram_id, (message.text or "")[:64])
    await state.clear()
    await show_user(message, user, platform, card.user.telegram_id)


@router.callback_query(kb.AdminUserCb.filter(F.action == "show"))
async def user_again(
    query: CallbackQuery, callback_data: kb.AdminUserCb, user: UserView, platform: Platform
) -> None:
    await show_user(query, user, platform, callback_data.user)


@router.callback_query(kb.AdminUserCb.filter(F.action == "level"))
async def set_level(
    query: CallbackQuery, callback_data: kb.AdminUserCb, user: UserView, platform: Platform
) -> None:
    await platform.admin.set_level(user.telegram_id, callback_data.user, callback_data.level)
    await show_user(query, user, platform, callback_data.user)


@router.callback_query(kb.AdminUserCb.filter(F.action.in_({"ban", "unban"})))
async def set_banned(
    query: CallbackQuery, callback_data: kb.AdminUserCb, user: UserView, platform: Platform
) -> None:
    banned = callback_data.action == "ban"
    await platform.admin.set_banned(user.telegram_id, callback_data.user, banned)
    await show_user(query, user, platform, callback_data.user)


@router.callback_query(kb.AdminUserCb.filter(F.action == "credit"))
async def ask_credit_limit(
    query: CallbackQuery, callback_data: kb.AdminUserCb, state: FSMContext
) -> None:
    await state.set_state(UserFlow.credit_limit)
    await state.update_data(target=callback_data.user)
    await reply(query, admin_texts.ask_credit_limit(callback_data.user), kb.cancel())


@router.message(StateFilter(UserFlow.credit_limit), TYPED)
async def credit_limit(
    message: Message, user: UserView, platform: Platform, state: FSMContext
) -> None:
    target = int((await state.get_data())["target"])
    try:
        limit = parse_amount(message.text or "")
    except MalformedAmount:
        await message.answer(texts.bad_amount())
        return
    await platform.admin.set_credit_limit(user.telegram_id, target, limit)
    await state.clear()
    await show_user(message, user, platform, target)


@router.callback_query(kb.AdminUserCb.filter(F.action == "adjust"))
async def ask_adjustment(
    query: CallbackQuery, callback_data: kb.AdminUserCb, state: FSMContext
) -> None:
    await state.set_state(UserFlow.adjust)
    await state.update_data(target=callback_data.user)
    await reply(query, admin_texts.ask_adjustment(callback_data.user), kb.cancel())


@router.message(StateFilter(UserFlow.adjust), TYPED)
async def adjust(message: Message, user: UserView, platform: Platform, state: FSMContext) -> None:
    target = int((await state.get_data())["target"])
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
    posted = await platform.admin.adjust_balance(
        user.telegram_id,
        target,
        amount,
        note=note,
        idempotency_key=f"{message.chat.id}:{message.message_id}",
    )
    await state.clear()
    await message.answer(admin_texts.adjusted(amount, posted.balance_after))
    await show_user(message, user, platform, target)

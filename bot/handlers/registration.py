"""Registration: the door for newcomers (approval requests, invite codes) and the admins'
side (approve / reject, ``/invite``).

``setup_gate()`` builds the door, which comes right after the error router: every message
or button press from an *outsider* (pending or rejected, not an admin) ends there with one
short reply, so an outsider can never browse or buy. ``setup()`` builds the admins' side.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, LinkPreviewOptions, Message, TelegramObject

from bot import registration_texts, texts
from bot.keyboards import menus
from core.catalogue import UserView
from core.models import UserStatus
from core.registration import InvalidInvite, Registrations

log = logging.getLogger("kameng.bot")


# async: aiogram runs a plain function filter in a worker thread, for every update
async def outsider(
    event: TelegramObject, user: UserView | None = None, registration: Registrations | None = None
) -> bool:
    return user is not None and registration is not None and registration.is_outsider(user)


def _name(user: UserView) -> str:
    return user.display_name or str(user.telegram_id)


async def newcomer_start(
    message: Message,
    command: CommandObject,
    user: UserView,
    registration: Registrations,
) -> None:
    await _knock(message, user, registration, invite=(command.args or "").strip())


async def newcomer_message(
    message: Message,
    user: UserView,
    registration: Registrations,
) -> None:
    await _knock(message, user, registration, invite="")


async def newcomer_button(
    query: CallbackQuery, user: UserView, registration: Registrations
) -> None:
    if user.status is UserStatus.REJECTED:
        text = registration_texts.request_declined()
    elif registration.policy == "invite":
        text = registration_texts.invite_needed()
    else:
        text = registration_texts.request_waiting()
    await query.answer(text[:200], show_alert=True)


async def _knock(
    message: Message,
    user: UserView,
    registration: Registrations,
    *,
    invite: str,
) -> None:
    policy = registration.policy
    if user.status is UserStatus.REJECTED:
        await message.answer(registration_texts.request_declined())
    elif policy == "open":  # the policy was opened since this user arrived
        admitted = await registration.admit(user.telegram_id, actor="policy:open")
        await message.answer(texts.welcome(_name(admitted)), reply_markup=menus.main_menu())
    elif policy == "invite":
        await _join_with_invite(message, user, registration, invite)
    else:
        await _apply(message, user, registration)


async def _join_with_invite(
    message: Message, user: UserView, registration: Registrations, invite: str
) -> None:
    if not invite:
        await message.answer(registration_texts.invite_needed())
        return
    try:
        joined = await registration.join_with_invite(user.telegram_id, invite)
    except InvalidInvite:
        await message.answer(registration_texts.invite_invalid())
        return
    await message.answer(
        registration_texts.invite_accepted(_name(joined)), reply_markup=menus.main_menu()
    )


async def _apply(message: Message, user: UserView, registration: Registrations) -> None:
    application = await registration.apply(user.telegram_id)
    if not application.filed:
        await message.answer(registration_texts.request_waiting())
        return
    await message.answer(registration_texts.request_sent())
    # the admins' cards were promised with the request (core.approvals.ask_admins)
    if not application.admins:
        log.warning("registration request %s: no admin to decide it", application.request.id)


async def invite(
    message: Message, command: CommandObject, user: UserView, registration: Registrations, bot: Bot
) -> None:
    args = (command.args or "").split()
    if len(args) > 1 or (args and not args[0].isdigit()) or (args and len(args[0]) > 6):
        await message.answer(registration_texts.invite_usage())
        return
    codes = await registration.issue_invites(user.telegram_id, int(args[0]) if args else 1)
    me = await bot.me()
    links = [f"https://t.me/{me.username}?start={code}" for code in codes]
    await message.answer(
        registration_texts.invites_issued(codes, links),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )


def setup_gate() -> Router:
    """The door: right after the error router, it takes every update from an outsider."""
    gate = Router(name="registration_gate")
    gate.message.filter(outsider)
    gate.callback_query.filter(outsider)
    gate.message.register(newcomer_start, CommandStart())
    gate.message.register(newcomer_message)
    gate.callback_query.register(newcomer_button)
    return gate


def setup() -> Router:
    """The admins' side: decisions on requests and /invite."""
    router = Router(name="registration")
    router.message.register(invite, Command("invite"))
    return router

"""Registration: the door for newcomers (approval requests, invite codes) and the admins'
side (approve / reject, ``/invite``).

``gate`` comes right after the error router: every message or button press from an
*outsider* (pending or rejected, not an admin) ends here with one short reply, so an
outsider can never browse or buy. ``router`` holds the admins' handlers.
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, LinkPreviewOptions, Message, TelegramObject
from aiogram.utils.i18n import I18n

from bot import registration_texts as rtexts
from bot import texts
from bot.formatting import reading_as
from bot.i18n import LOCALE_OF
from bot.keyboards import menus
from bot.keyboards.approvals import decision_buttons
from core.catalogue import UserView
from core.models import UserStatus
from core.platform import Platform
from core.registration import InvalidInvite, RegistrationKind

log = logging.getLogger("kameng.bot")
gate = Router(name="registration_gate")
router = Router(name="registration")


# async: aiogram runs a plain function filter in a worker thread, for every update
async def outsider(
    event: TelegramObject, user: UserView | None = None, platform: Platform | None = None
) -> bool:
    return user is not None and platform is not None and platform.registration.is_outsider(user)


gate.message.filter(outsider)
gate.callback_query.filter(outsider)


def _name(user: UserView) -> str:
    return user.display_name or str(user.telegram_id)


@gate.message(CommandStart())
async def newcomer_start(
    message: Message,
    command: CommandObject,
    user: UserView,
    platform: Platform,
    bot: Bot,
    i18n: I18n,
) -> None:
    await _knock(message, user, platform, bot, i18n, invite=(command.args or "").strip())


@gate.message()
async def newcomer_message(
    message: Message, user: UserView, platform: Platform, bot: Bot, i18n: I18n
) -> None:
    await _knock(message, user, platform, bot, i18n, invite="")


@gate.callback_query()
async def newcomer_button(query: CallbackQuery, user: UserView, platform: Platform) -> None:
    if user.status is UserStatus.REJECTED:
        text = rtexts.request_declined()
    elif platform.registration.policy == "invite":
        text = rtexts.invite_needed()
    else:
        text = rtexts.request_waiting()
    await query.answer(text[:200], show_alert=True)


async def _knock(
    message: Message, user: UserView, platform: Platform, bot: Bot, i18n: I18n, *, invite: str
) -> None:
    policy = platform.registration.policy
    if user.status is UserStatus.REJECTED:
        await message.answer(rtexts.request_declined())
    elif policy == "open":  # the policy was opened since this user arrived
        admitted = await platform.registration.admit(user.telegram_id, actor="policy:open")
        await message.answer(texts.welcome(_name(admitted)), reply_markup=menus.main_menu())
    elif policy == "invite":
        await _join_with_invite(message, user, platform, invite)
    else:
        await _apply(message, user, platform, bot, i18n)


async def _join_with_invite(
    message: Message, user: UserView, platform: Platform, invite: str
) -> None:
    if not invite:
        await message.answer(rtexts.invite_needed())
        return
    try:
        joined = await platform.registration.join_with_invite(user.telegram_id, invite)
    except InvalidInvite:
        await message.answer(rtexts.invite_invalid())
        return
    await message.answer(rtexts.invite_accepted(_name(joined)), reply_markup=menus.main_menu())


async def _apply(
    message: Message, user: UserView, platform: Platform, bot: Bot, i18n: I18n
) -> None:
    application = await platform.registration.apply(user.telegram_id)
    if not application.filed:
        await message.answer(rtexts.request_waiting())
        return
    await message.answer(rtexts.request_sent())
    if not application.admins:
        log.warning("registration request %s: no admin to decide it", application.request.id)
    for admin in application.admins:
        with (
            i18n.use_locale(LOCALE_OF.get(admin.language, "zh_CN")),
            reading_as(platform.settings, admin.telegram_id),
        ):
            try:
                await bot.send_message(
                    admin.telegram_id,
                    rtexts.request_for_admin(application.request),
                    reply_markup=decision_buttons(RegistrationKind.name, application.request.id),
                )
            except TelegramAPIError as failure:  # one unreachable admin must not stop the rest
                log.warning("registration request for admin %s: %s", admin.telegram_id, failure)


@router.message(Command("invite"))
async def invite(
    message: Message, command: CommandObject, user: UserView, platform: Platform, bot: Bot
) -> None:
    args = (command.args or "").split()
    if len(args) > 1 or (args and not args[0].isdigit()) or (args and len(args[0]) > 6):
        await message.answer(rtexts.invite_usage())
        return
    codes = await platform.registration.issue_invites(user.telegram_id, int(args[0]) if args else 1)
    me = await bot.me()
    links = [f"https://t.me/{me.username}?start={code}" for code in codes]
    await message.answer(
        rtexts.invites_issued(codes, links),
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    )

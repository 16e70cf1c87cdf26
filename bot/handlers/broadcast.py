"""/broadcast (admins): message → optional link button → audience → preview → Send / Cancel;
the progress message's Stop button; and /notifications, where anyone opts out of
promotional broadcasts."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import broadcast_texts
from bot.broadcast_worker import BroadcastWorker, send_campaign_message
from bot.filters import TYPED
from bot.keyboards import broadcasts as keyboards
from bot.keyboards.callbacks import BroadcastCb
from bot.replies import show_in_place
from core.broadcasts import (
    MAX_CAPTION,
    MAX_DAYS,
    Audience,
    Broadcasts,
    CampaignMessage,
    check_button,
)
from core.catalogue import UserView
from core.errors import Forbidden, InvalidInput
from core.models import CampaignStatus
from core.rights import has_admin_rights


class BroadcastFlow(StatesGroup):
    message = State()
    button = State()
    audience = State()
    days = State()


class PromoteFlow(StatesGroup):
    """A supplier's message to his own past buyers, paid with broadcast credits."""

    message = State()


def _require_admin(user: UserView) -> None:
    if not has_admin_rights(user):
        raise Forbidden(action="broadcast")


def _message_of(data: dict[str, Any]) -> CampaignMessage:
    return CampaignMessage(
        kind=data["kind"],
        body_html=data["html"],
        photo_file_id=data.get("photo"),
        button_label=data.get("label"),
        button_url=data.get("url"),
    )


async def broadcast(message: Message, user: UserView, state: FSMContext) -> None:
    _require_admin(user)
    await state.clear()
    await state.set_state(BroadcastFlow.message)
    await message.answer(broadcast_texts.broadcast_ask_message())


async def promote(
    message: Message, user: UserView, state: FSMContext, broadcasts: Broadcasts
) -> None:
    credits = await broadcasts.credits(user.telegram_id)
    await state.clear()
    if credits.next_campaign <= 0:
        await message.answer(broadcast_texts.credits_none())
        return
    await state.set_state(PromoteFlow.message)
    await message.answer(broadcast_texts.credits_ask_message(credits))


async def promote_message(
    message: Message, state: FSMContext, user: UserView, broadcasts: Broadcasts, bot: Bot
) -> None:
    if message.photo:
        if len(message.caption or "") > MAX_CAPTION:
            await message.answer(broadcast_texts.broadcast_bad_message())
            return
        body = message.html_text if message.caption else ""
        content = CampaignMessage("photo", body, message.photo[-1].file_id)
    else:
        content = CampaignMessage("text", message.html_text)
    campaign = await broadcasts.draft_for_supplier(user.telegram_id, content)
    await state.clear()
    await send_campaign_message(bot, message.chat.id, campaign.message)
    described = broadcast_texts.broadcast_audience("buyers", campaign.audience_name, None)
    await message.answer(
        broadcast_texts.broadcast_preview(described, campaign.recipients),
        reply_markup=keyboards.confirm(campaign.id),
    )


async def cancel_flow(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(broadcast_texts.broadcast_discarded())


async def got_message(message: Message, state: FSMContext) -> None:
    if message.photo:
        if len(message.caption or "") > MAX_CAPTION:
            await message.answer(broadcast_texts.broadcast_bad_message())
            return
        body = message.html_text if message.caption else ""
        await state.update_data(kind="photo", html=body, photo=message.photo[-1].file_id)
    else:
        await state.update_data(kind="text", html=message.html_text, photo=None)
    await state.set_state(BroadcastFlow.button)
    await message.answer(
        broadcast_texts.broadcast_ask_button(), reply_markup=keyboards.skip_button()
    )


async def not_a_message(message: Message) -> None:
    await message.answer(broadcast_texts.broadcast_bad_message())


async def got_button(message: Message, state: FSMContext) -> None:
    label, separator, url = (message.text or "").partition("|")
    try:
        if not separator:
            raise InvalidInput(field="button")
        check_button(label.strip(), url.strip())
    except InvalidInput:
        await message.answer(broadcast_texts.broadcast_bad_button())
        return
    await state.update_data(label=label.strip(), url=url.strip())
    await state.set_state(BroadcastFlow.audience)
    await message.answer(
        broadcast_texts.broadcast_ask_audience(), reply_markup=keyboards.audiences()
    )


async def skip_button(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(BroadcastFlow.audience)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            broadcast_texts.broadcast_ask_audience(), reply_markup=keyboards.audiences()
        )


async def audience_kind(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    state: FSMContext,
    user: UserView,
    broadcasts: Broadcasts,
    bot: Bot,
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    kind = keyboards.AUDIENCE_KINDS[callback_data.ref % len(keyboards.AUDIENCE_KINDS)]
    if kind == "level":
        levels = await broadcasts.levels()
        await query.message.answer(
            broadcast_texts.broadcast_ask_level(), reply_markup=keyboards.choices("level", levels)
        )
    elif kind == "category":
        categories = await broadcasts.categories()
        if not categories:
            await query.message.answer(broadcast_texts.broadcast_no_categories())
            return
        await query.message.answer(
            broadcast_texts.broadcast_ask_category(),
            reply_markup=keyboards.choices("cat", categories),
        )
    else:
        await _preview(query.message, state, user, broadcasts, bot, Audience(kind))


async def audience_level(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    state: FSMContext,
    user: UserView,
    broadcasts: Broadcasts,
    bot: Bot,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        audience = Audience("level", ref=callback_data.ref)
        await _preview(query.message, state, user, broadcasts, bot, audience)


async def audience_category(
    query: CallbackQuery, callback_data: BroadcastCb, state: FSMContext
) -> None:
    await state.update_data(category=callback_data.ref)
    await state.set_state(BroadcastFlow.days)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            broadcast_texts.broadcast_ask_days(), reply_markup=keyboards.days()
        )


async def days_chosen(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    state: FSMContext,
    user: UserView,
    broadcasts: Broadcasts,
    bot: Bot,
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        category = int((await state.get_data())["category"])
        audience = Audience("category", ref=category, days=callback_data.ref)
        await _preview(query.message, state, user, broadcasts, bot, audience)


async def days_typed(
    message: Message, state: FSMContext, user: UserView, broadcasts: Broadcasts, bot: Bot
) -> None:
    text = (message.text or "").strip()
    if not text.isdigit() or not 0 < int(text) <= MAX_DAYS:
        await message.answer(broadcast_texts.broadcast_bad_days(MAX_DAYS))
        return
    category = int((await state.get_data())["category"])
    audience = Audience("category", ref=category, days=int(text))
    await _preview(message, state, user, broadcasts, bot, audience)


async def _preview(
    target: Message,
    state: FSMContext,
    user: UserView,
    broadcasts: Broadcasts,
    bot: Bot,
    audience: Audience,
) -> None:
    """The message exactly as recipients will get it, then the count and Send / Cancel."""
    content = _message_of(await state.get_data())
    campaign = await broadcasts.draft(user.telegram_id, content, audience)
    await state.clear()
    await send_campaign_message(bot, target.chat.id, campaign.message)
    described = broadcast_texts.broadcast_audience(
        audience.kind, campaign.audience_name, audience.days
    )
    await target.answer(
        broadcast_texts.broadcast_preview(described, campaign.recipients),
        reply_markup=keyboards.confirm(campaign.id),
    )


async def send(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    user: UserView,
    broadcasts: Broadcasts,
    broadcast_worker: BroadcastWorker | None = None,
) -> None:
    # the core checks who may send it (admins; a supplier his own credits campaign)
    started = await broadcasts.start(callback_data.ref, user.telegram_id)
    if started.already:
        await query.answer(broadcast_texts.broadcast_already_started(started.campaign.id))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        progress = await query.message.answer(
            broadcast_texts.broadcast_started(started.campaign.id),
            reply_markup=keyboards.stop(started.campaign.id),
        )
        await broadcasts.set_progress_message(started.campaign.id, progress.message_id)
    if broadcast_worker is not None:
        broadcast_worker.wake()


async def discard(
    query: CallbackQuery, callback_data: BroadcastCb, user: UserView, broadcasts: Broadcasts
) -> None:
    campaign = await broadcasts.discard(callback_data.ref, user.telegram_id)
    if campaign.status is not CampaignStatus.DISCARDED:
        await query.answer(broadcast_texts.broadcast_already_started(campaign.id))
        return
    await query.answer()
    if isinstance(query.message, Message):
        await show_in_place(query.message, broadcast_texts.broadcast_discarded())


async def stop(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    user: UserView,
    broadcasts: Broadcasts,
    broadcast_worker: BroadcastWorker | None = None,
) -> None:
    await broadcasts.cancel(callback_data.ref, user.telegram_id)
    await query.answer(broadcast_texts.broadcast_stopping())
    if broadcast_worker is not None:
        broadcast_worker.wake()


async def notifications(message: Message, user: UserView, broadcasts: Broadcasts) -> None:
    opted_out = await broadcasts.opted_out(user.telegram_id)
    await message.answer(
        broadcast_texts.notifications(opted_out), reply_markup=keyboards.notifications(opted_out)
    )


async def toggle_notifications(
    query: CallbackQuery, callback_data: BroadcastCb, user: UserView, broadcasts: Broadcasts
) -> None:
    opted_out = await broadcasts.set_opted_out(user.telegram_id, callback_data.ref == 1)
    await query.answer(broadcast_texts.notifications_saved(opted_out))
    if isinstance(query.message, Message):
        await show_in_place(
            query.message,
            broadcast_texts.notifications(opted_out),
            keyboards.notifications(opted_out),
        )


def setup() -> Router:
    router = Router(name="broadcast")
    router.message.register(broadcast, Command("broadcast"))
    router.message.register(cancel_flow, StateFilter(BroadcastFlow), Command("cancel"))
    router.message.register(promote, Command("promote"))
    router.message.register(cancel_flow, StateFilter(PromoteFlow), Command("cancel"))
    router.message.register(promote_message, StateFilter(PromoteFlow.message), F.photo | TYPED)
    router.message.register(not_a_message, StateFilter(PromoteFlow.message))
    router.message.register(
        got_message,
        StateFilter(BroadcastFlow.message),
        F.photo | TYPED,
    )
    router.message.register(not_a_message, StateFilter(BroadcastFlow.message))
    router.message.register(got_button, StateFilter(BroadcastFlow.button), TYPED)
    router.callback_query.register(
        skip_button, StateFilter(BroadcastFlow.button), BroadcastCb.filter(F.action == "skip")
    )
    router.callback_query.register(
        audience_kind, StateFilter(BroadcastFlow.audience), BroadcastCb.filter(F.action == "aud")
    )
    router.callback_query.register(
        audience_level, StateFilter(BroadcastFlow.audience), BroadcastCb.filter(F.action == "level")
    )
    router.callback_query.register(
        audience_category,
        StateFilter(BroadcastFlow.audience),
        BroadcastCb.filter(F.action == "cat"),
    )
    router.callback_query.register(
        days_chosen, StateFilter(BroadcastFlow.days), BroadcastCb.filter(F.action == "days")
    )
    router.message.register(days_typed, StateFilter(BroadcastFlow.days), TYPED)
    router.callback_query.register(send, BroadcastCb.filter(F.action == "send"))
    router.callback_query.register(discard, BroadcastCb.filter(F.action == "discard"))
    router.callback_query.register(stop, BroadcastCb.filter(F.action == "stop"))
    router.message.register(notifications, Command("notifications"))
    router.callback_query.register(toggle_notifications, BroadcastCb.filter(F.action == "optout"))
    return router

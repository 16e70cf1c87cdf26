"""/promo: an admin schedules a promotion step by step; /promos lists those not over yet.

Only admins get into the wizard (the platform refuses anyone else), and the final
Schedule button carries a one-time token that is the scheduling's idempotency key.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import formatting as fmt
from bot import scheduler_texts, texts
from bot.filters import TYPED
from bot.keyboards import scheduler as kb
from bot.keyboards.callbacks import PromoCb
from core.catalogue import Catalogue, UserView
from core.clock import Clock
from core.errors import InvalidInput, NotFound
from core.models import PromotionKind
from core.money import MalformedAmount, parse_amount, parse_percent_bps
from core.promotions import NewPromotion, Promotions, parse_local_time
from core.storefront import Storefront

MAX_ANNOUNCEMENT = 2000  # with 50 SKU codes and the header, under Telegram's 4096
MAX_REMIND_HOURS = 720


class PromoFlow(StatesGroup):
    scope = State()
    skus = State()
    category = State()
    discount = State()
    starts = State()
    ends = State()
    levels = State()
    announcement = State()
    reminder = State()
    confirm = State()


def draft_of(data: dict[str, Any]) -> NewPromotion:
    return NewPromotion(
        kind=PromotionKind(data["kind"]),
        starts_at=datetime.fromisoformat(data["starts"]),
        ends_at=datetime.fromisoformat(data["ends"]),
        sku_codes=tuple(data.get("skus") or ()),
        category=data.get("category"),
        percent_off_bps=data.get("percent_off_bps"),
        fixed_price=data.get("fixed_price"),
        levels=tuple(data.get("levels") or ()),
        announcement=data.get("announcement", ""),
        remind_hours=data.get("remind_hours"),
    )


async def promo_start(
    message: Message, state: FSMContext, user: UserView, promotions: Promotions
) -> None:
    await promotions.require_admin(user.telegram_id)
    await state.clear()
    await state.set_state(PromoFlow.scope)
    await message.answer(scheduler_texts.promo_ask_scope(), reply_markup=kb.promo_scope())


async def promo_list(message: Message, user: UserView, promotions: Promotions) -> None:
    await promotions.require_admin(user.telegram_id)
    upcoming = await promotions.upcoming()
    await message.answer(scheduler_texts.promo_list(upcoming))


async def promo_cancel_typed(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(scheduler_texts.promo_cancelled(), reply_markup=None)


async def promo_cancel(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(scheduler_texts.promo_cancelled())


async def promo_by_skus(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(PromoFlow.skus)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(scheduler_texts.promo_ask_skus())


async def promo_by_category(
    query: CallbackQuery, state: FSMContext, storefront: Storefront
) -> None:
    lines = await storefront.categories()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if not lines:
        await state.set_state(PromoFlow.skus)
        await query.message.answer(scheduler_texts.promo_no_categories())
        return
    await state.set_state(PromoFlow.category)
    await query.message.answer(
        scheduler_texts.promo_choose_category(), reply_markup=kb.promo_categories(lines)
    )


async def promo_category_chosen(
    query: CallbackQuery, callback_data: PromoCb, state: FSMContext, storefront: Storefront
) -> None:
    names = {line.id: line.name for line in await storefront.categories()}
    name = names.get(callback_data.category)
    if name is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    await state.update_data(category=name, skus=[])
    await state.set_state(PromoFlow.discount)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(scheduler_texts.promo_ask_discount())


async def promo_skus(message: Message, state: FSMContext, catalogue: Catalogue) -> None:
    codes = list(dict.fromkeys(re.split(r"[\s,，]+", (message.text or "").strip().upper())))
    codes = [code for code in codes if code][:50]
    for code in codes:
        try:
            await catalogue.sku(code)
        except NotFound:
            await message.answer(scheduler_texts.promo_unknown_sku(code))
            return
    if not codes:
        await message.answer(scheduler_texts.promo_ask_skus())
        return
    await state.update_data(skus=codes, category=None)
    await state.set_state(PromoFlow.discount)
    await message.answer(scheduler_texts.promo_ask_discount())


def parse_discount(text: str) -> dict[str, Any] | None:
    text = text.strip()
    try:
        if text.endswith("%"):
            bps = parse_percent_bps(text)
            if not 0 < bps < 10_000:
                return None
            return {"kind": PromotionKind.PERCENT_OFF.value, "percent_off_bps": bps}
        price = parse_amount(text)
    except (ValueError, MalformedAmount):
        return None
    if price < 0:
        return None
    return {"kind": PromotionKind.FIXED_PRICE.value, "fixed_price": price}


async def promo_discount(message: Message, state: FSMContext) -> None:
    parsed = parse_discount(message.text or "")
    if parsed is None:
        await message.answer(scheduler_texts.promo_bad_discount())
        return
    await state.update_data({"percent_off_bps": None, "fixed_price": None, **parsed})
    await state.set_state(PromoFlow.starts)
    await message.answer(scheduler_texts.promo_ask_start(fmt.reader_zone().key))


async def _typed_time(message: Message) -> datetime | None:
    try:
        return parse_local_time(message.text or "", fmt.reader_zone())
    except InvalidInput:
        await message.answer(scheduler_texts.promo_bad_time())
        return None


async def promo_starts(message: Message, state: FSMContext) -> None:
    if (starts := await _typed_time(message)) is None:
        return
    await state.update_data(starts=starts.isoformat())
    await state.set_state(PromoFlow.ends)
    await message.answer(scheduler_texts.promo_ask_end(fmt.reader_zone().key))


async def promo_ends(
    message: Message, state: FSMContext, clock: Clock, catalogue: Catalogue
) -> None:
    if (ends := await _typed_time(message)) is None:
        return
    starts = datetime.fromisoformat((await state.get_data())["starts"])
    if ends <= starts or ends <= clock.now():
        await message.answer(scheduler_texts.promo_end_not_after_start())
        return
    await state.update_data(ends=ends.isoformat())
    await state.set_state(PromoFlow.levels)
    levels = await catalogue.levels()
    await message.answer(
        scheduler_texts.promo_ask_levels(levels), reply_markup=kb.promo_all_levels()
    )


async def promo_levels(message: Message, state: FSMContext, catalogue: Catalogue) -> None:
    known = await catalogue.levels()
    chosen = list(dict.fromkeys((message.text or "").lower().replace(",", " ").split()))
    if not chosen or any(name not in known for name in chosen):
        await message.answer(scheduler_texts.promo_bad_levels(known))
        return
    await _ask_announcement(message, state, chosen)


async def promo_all_levels(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_announcement(query.message, state, [])


async def _ask_announcement(message: Message, state: FSMContext, levels: list[str]) -> None:
    await state.update_data(levels=levels)
    await state.set_state(PromoFlow.announcement)
    await message.answer(scheduler_texts.promo_ask_announcement())


async def promo_announcement(message: Message, state: FSMContext) -> None:
    await state.update_data(announcement=(message.text or "").strip()[:MAX_ANNOUNCEMENT])
    await state.set_state(PromoFlow.reminder)
    await message.answer(scheduler_texts.promo_ask_reminder(), reply_markup=kb.promo_no_reminder())


async def promo_reminder(
    message: Message, state: FSMContext, promotions: Promotions, clock: Clock
) -> None:
    text = (message.text or "").strip()
    hours = int(text) if text.isdigit() else 0
    draft = draft_of(await state.get_data())
    window_hours = (draft.ends_at - max(draft.starts_at, clock.now())).total_seconds()
    if not 1 <= hours <= MAX_REMIND_HOURS or hours * 3600 >= window_hours:
        await message.answer(scheduler_texts.promo_bad_hours())
        return
    await _summary(message, state, promotions, hours)


async def promo_no_reminder(
    query: CallbackQuery, state: FSMContext, promotions: Promotions
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _summary(query.message, state, promotions, None)


async def _summary(
    message: Message, state: FSMContext, promotions: Promotions, hours: int | None
) -> None:
    token = secrets.token_urlsafe(6)
    await state.update_data(remind_hours=hours, token=token)
    await state.set_state(PromoFlow.confirm)
    draft = draft_of(await state.get_data())
    floored = await promotions.floored(draft)
    await message.answer(
        scheduler_texts.promo_summary(draft, floored),
        reply_markup=kb.promo_confirm(token),
    )


async def promo_confirm(
    query: CallbackQuery,
    callback_data: PromoCb,
    state: FSMContext,
    user: UserView,
    promotions: Promotions,
) -> None:
    data = await state.get_data()
    if callback_data.token != data.get("token"):
        await query.answer(texts.stale_button(), show_alert=True)
        return
    scheduled = await promotions.schedule(
        user.telegram_id, draft_of(data), idempotency_key=f"{user.telegram_id}:{data['token']}"
    )
    await state.clear()
    await query.answer()
    if isinstance(query.message, Message):
        if not scheduled.replayed:
            await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(
            scheduler_texts.promo_scheduled(scheduled.promotion, scheduled.replayed)
        )


def setup() -> Router:
    router = Router(name="promotions")
    router.message.register(promo_start, Command("promo"))
    router.message.register(promo_list, Command("promos"))
    router.message.register(promo_cancel_typed, StateFilter(PromoFlow), Command("cancel"))
    router.callback_query.register(
        promo_cancel, StateFilter(PromoFlow), PromoCb.filter(F.action == "cancel")
    )
    router.callback_query.register(
        promo_by_skus, StateFilter(PromoFlow.scope), PromoCb.filter(F.action == "skus")
    )
    router.callback_query.register(
        promo_by_category, StateFilter(PromoFlow.scope), PromoCb.filter(F.action == "cats")
    )
    router.callback_query.register(
        promo_category_chosen, StateFilter(PromoFlow.category), PromoCb.filter(F.action == "cat")
    )
    router.message.register(promo_skus, StateFilter(PromoFlow.skus), TYPED)
    router.message.register(promo_discount, StateFilter(PromoFlow.discount), TYPED)
    router.message.register(promo_starts, StateFilter(PromoFlow.starts), TYPED)
    router.message.register(promo_ends, StateFilter(PromoFlow.ends), TYPED)
    router.message.register(promo_levels, StateFilter(PromoFlow.levels), TYPED)
    router.callback_query.register(
        promo_all_levels, StateFilter(PromoFlow.levels), PromoCb.filter(F.action == "all")
    )
    router.message.register(promo_announcement, StateFilter(PromoFlow.announcement), TYPED)
    router.message.register(promo_reminder, StateFilter(PromoFlow.reminder), TYPED)
    router.callback_query.register(
        promo_no_reminder, StateFilter(PromoFlow.reminder), PromoCb.filter(F.action == "noremind")
    )
    router.callback_query.register(
        promo_confirm, StateFilter(PromoFlow.confirm), PromoCb.filter(F.action == "ok")
    )
    return router

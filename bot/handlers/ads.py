"""Featured placement bidding (/ads, suppliers) and paid services (/services, everyone).

Thin: each handler parses, calls one use case of ``Ads`` or ``PaidServices``, renders."""

from __future__ import annotations

import asyncio

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import ads_texts, texts
from bot.errors import is_stale_message
from bot.filters import TYPED
from bot.keyboards import ads as keyboards
from bot.keyboards.ads import AdsCb, ServiceCb
from core.ads import Ads
from core.catalogue import UserView
from core.demand import DemandReports, render_demand_chart, report_csv
from core.errors import InvalidAmount, InvalidState
from core.models import ServiceKind
from core.money import MalformedAmount, parse_amount
from core.paid_services import PaidServices
from core.storefront import Storefront


class BidFlow(StatesGroup):
    amount = State()


async def ads_menu(message: Message, user: UserView, ads: Ads) -> None:
    rounds = await ads.open_rounds(user.telegram_id)
    await message.answer(ads_texts.open_rounds(rounds), reply_markup=keyboards.rounds(rounds))


async def pick_round(query: CallbackQuery, callback_data: AdsCb, user: UserView, ads: Ads) -> None:
    choices = await ads.biddable(user.telegram_id, callback_data.round)
    await query.answer()
    if isinstance(query.message, Message):
        if not choices:
            await query.message.answer(ads_texts.no_sku())
            return
        await query.message.answer(
            ads_texts.choose_sku(), reply_markup=keyboards.skus(callback_data.round, choices)
        )


async def pick_sku(
    query: CallbackQuery, callback_data: AdsCb, state: FSMContext, user: UserView, ads: Ads
) -> None:
    rounds = {r.round_id: r for r in await ads.open_rounds(user.telegram_id)}
    chosen = rounds.get(callback_data.round)
    if chosen is None:  # an old button: the round has closed
        await query.answer(ads_texts.round_closed(), show_alert=True)
        return
    await state.set_state(BidFlow.amount)
    await state.update_data(round=callback_data.round, sku=callback_data.sku)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(ads_texts.ask_amount(chosen.reserve))


async def bid_amount(message: Message, state: FSMContext, user: UserView, ads: Ads) -> None:
    try:
        amount = parse_amount(message.text or "")
    except MalformedAmount:
        amount = 0
    if amount <= 0:
        await message.answer(texts.bad_amount())
        return
    data = await state.get_data()
    try:
        placed = await ads.bid(user.telegram_id, int(data["round"]), str(data["sku"]), amount)
    except InvalidAmount as refused:  # the state stays: he types another amount
        p = refused.params
        reason, limit = str(p.get("reason", "reserve")), int(p.get("limit", 0))
        await message.answer(ads_texts.bid_refused(reason, limit))
        return
    except InvalidState:
        await state.clear()
        await message.answer(ads_texts.round_closed())
        return
    await state.clear()
    await message.answer(ads_texts.bid_placed(placed))


async def services_menu(message: Message, user: UserView, paid_services: PaidServices) -> None:
    offers = await paid_services.offers(user.telegram_id)
    mine = await paid_services.subscriptions(user.telegram_id)
    await message.answer(ads_texts.services(offers, mine), reply_markup=keyboards.offers(offers))


async def pick_offer(
    query: CallbackQuery,
    callback_data: ServiceCb,
    user: UserView,
    paid_services: PaidServices,
    storefront: Storefront,
) -> None:
    offer = await paid_services.offer(callback_data.offer)
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if offer.kind is ServiceKind.DEMAND_REPORT:
        categories = [(c.id, c.name) for c in await storefront.categories()]
        await query.message.answer(
            ads_texts.demand_which_category(),
            reply_markup=keyboards.demand_categories(offer.code, categories),
        )
        return
    if offer.kind is ServiceKind.SEARCH_BOOST:
        choices = await paid_services.boostable(user.telegram_id)
        await query.message.answer(
            ads_texts.boost_which_sku(), reply_markup=keyboards.boost_skus(offer.code, choices)
        )
        return
    quote = await paid_services.quote(user.telegram_id, offer.code, None)
    await query.message.answer(
        ads_texts.confirm_purchase(quote), reply_markup=keyboards.confirm(offer, "")
    )


async def pick_boost_sku(
    query: CallbackQuery, callback_data: ServiceCb, user: UserView, paid_services: PaidServices
) -> None:
    quote = await paid_services.quote(user.telegram_id, callback_data.offer, callback_data.sku)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            ads_texts.confirm_purchase(quote),
            reply_markup=keyboards.confirm(quote.offer, callback_data.sku),
        )


async def pick_category(
    query: CallbackQuery, callback_data: ServiceCb, paid_services: PaidServices
) -> None:
    offer = await paid_services.offer(callback_data.offer)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            ads_texts.confirm_service(offer, None),
            reply_markup=keyboards.confirm_demand(offer, callback_data.sku),
        )


async def buy_demand_report(
    query: CallbackQuery, callback_data: ServiceCb, user: UserView, demand: DemandReports
) -> None:
    """The Buy button names one purchase (its key): the first press pays and sends the
    report, and the button becomes "send it again (free)"; any later press (a double tap, or
    days later) sends the report as it was bought, charges nothing, and says so."""
    bought = await demand.buy(
        user.telegram_id,
        callback_data.offer,
        int(callback_data.sku or 0),
        idempotency_key=f"bot:{callback_data.key}",
    )
    if bought.replayed:
        await query.answer(ads_texts.demand_resent())
    else:
        await query.answer()
    if not isinstance(query.message, Message):
        return
    if not bought.replayed:  # the same button, relabelled: what pressing it again does
        try:
            await query.message.edit_reply_markup(
                reply_markup=keyboards.resend_demand(callback_data)
            )
        except TelegramBadRequest as stale:  # too old to edit: the button keeps its label
            if not is_stale_message(stale):
                raise
    report = bought.report
    png = await asyncio.to_thread(render_demand_chart, report)  # CPU work: off the loop
    caption = ads_texts.demand_caption(report)
    if bought.replayed:
        caption = ads_texts.demand_resent() + "\n\n" + caption
    await query.message.answer_photo(BufferedInputFile(png, filename="demand.png"), caption=caption)
    await query.message.answer_document(
        BufferedInputFile(report_csv(report), filename="demand.csv"),
        caption=ads_texts.demand_restock(report),
    )


async def buy_service(
    query: CallbackQuery, callback_data: ServiceCb, user: UserView, paid_services: PaidServices
) -> None:
    """The Buy button names one purchase (its key): the first press pays and says until
    when (or, bought again while it ran, that it was extended to when); a later press (a
    double tap, an old copy of the message) charges nothing and says it was bought already,
    until when — in the alert and in place of the question."""
    bought = await paid_services.buy(
        user.telegram_id,
        callback_data.offer,
        sku_code=callback_data.sku or None,
        idempotency_key=f"bot:{callback_data.key}",
    )
    if bought.replayed:
        text = ads_texts.service_already(bought)
        await query.answer(text[:200])
    else:
        text = ads_texts.service_bought(bought)
        await query.answer()
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text)
    except TelegramBadRequest as stale:  # too old to edit, or gone: say it anew
        if not is_stale_message(stale):
            raise
        await query.message.answer(text)


def setup() -> Router:
    router = Router(name="ads")
    router.message.register(ads_menu, Command("ads"))
    router.callback_query.register(pick_round, AdsCb.filter(F.action == "round"))
    router.callback_query.register(pick_sku, AdsCb.filter(F.action == "sku"))
    router.message.register(bid_amount, StateFilter(BidFlow.amount), TYPED)
    router.message.register(services_menu, Command("services"))
    router.callback_query.register(pick_offer, ServiceCb.filter(F.action == "offer"))
    router.callback_query.register(pick_boost_sku, ServiceCb.filter(F.action == "sku"))
    router.callback_query.register(buy_service, ServiceCb.filter(F.action == "buy"))
    router.callback_query.register(pick_category, ServiceCb.filter(F.action == "cat"))
    router.callback_query.register(buy_demand_report, ServiceCb.filter(F.action == "data"))
    return router

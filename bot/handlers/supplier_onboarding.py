"""/supplier: apply to become a supplier; admins approve, or reject with a reason."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import command_menus
from bot import supplier_texts as st
from bot.approval_cards import Card, close_card
from bot.keyboards import supplier_menus
from bot.keyboards.callbacks import SupplierApplicationCb
from bot.notices import tell_admins
from bot.sender import Sender
from bot.supplier_replies import announce_decision
from core.catalogue import UserView
from core.errors import KamengError
from core.platform import Platform
from core.suppliers import ApplicationDecision

router = Router(name="supplier_onboarding")
TEXT = F.text & ~F.text.startswith("/")


class ApplyFlow(StatesGroup):
    company = State()
    contact = State()


class RejectApplication(StatesGroup):
    reason = State()


@router.message(Command("supplier"))
async def apply_start(
    message: Message, state: FSMContext, user: UserView, platform: Platform
) -> None:
    try:
        await platform.onboarding.check_open(user.telegram_id)
    except KamengError as exc:
        await message.answer(st.refusal(exc))
        return
    await state.set_state(ApplyFlow.company)
    await message.answer(st.apply_ask_company())


@router.message(StateFilter(ApplyFlow.company), TEXT)
async def apply_company(message: Message, state: FSMContext) -> None:
    await state.update_data(company=(message.text or "")[:128])
    await state.set_state(ApplyFlow.contact)
    await message.answer(st.apply_ask_contact())


@router.message(StateFilter(ApplyFlow.contact), TEXT)
async def apply_contact(
    message: Message,
    state: FSMContext,
    user: UserView,
    platform: Platform,
    sender: Sender,
    i18n: I18n,
) -> None:
    company = str((await state.get_data()).get("company", ""))
    await state.clear()
    try:
        view = await platform.onboarding.apply(
            user.telegram_id, company_name=company, contact_note=message.text or ""
        )
    except KamengError as exc:
        await message.answer(st.refusal(exc))
        return
    await message.answer(st.apply_sent(view))
    await tell_admins(
        sender,
        platform,
        i18n,
        lambda: (st.application_for_admin(view), supplier_menus.application_decision(view.id)),
    )


@router.message(StateFilter(ApplyFlow, RejectApplication), ~F.text)
async def needs_text(message: Message) -> None:
    await message.answer(st.type_text())


@router.callback_query(SupplierApplicationCb.filter(F.approve))
async def approve(
    query: CallbackQuery,
    callback_data: SupplierApplicationCb,
    user: UserView,
    platform: Platform,
    bot: Bot,
    sender: Sender,
    i18n: I18n,
) -> None:
    decision = await platform.onboarding.decide(
        callback_data.application, admin_telegram_id=user.telegram_id, approve=True
    )
    await query.answer(st.application_decided(decision.application, decision.already_decided))
    if not decision.already_decided:  # the new supplier's menu gains the supplier commands
        supplier = await platform.catalogue.user(decision.application.telegram_id)
        await command_menus.refresh(bot, i18n, supplier)
    await _after_decision(Card.of(query.message), decision, sender, platform, i18n)


@router.callback_query(SupplierApplicationCb.filter(~F.approve))
async def reject_start(
    query: CallbackQuery,
    callback_data: SupplierApplicationCb,
    state: FSMContext,
    user: UserView,
    platform: Platform,
    bot: Bot,
) -> None:
    view = await platform.onboarding.application(
        callback_data.application, admin_telegram_id=user.telegram_id
    )
    if view.status.value != "pending":
        await query.answer(st.application_decided(view, already=True))
        await close_card(bot, Card.of(query.message), view.verdict)
        return
    await state.set_state(RejectApplication.reason)
    card = Card.of(query.message)
    await state.update_data(application=view.id, card=card.as_data() if card else None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(st.ask_reject_reason(st.application_label(view.id)))


@router.message(StateFilter(RejectApplication.reason), TEXT)
async def reject_reason(
    message: Message,
    state: FSMContext,
    user: UserView,
    platform: Platform,
    sender: Sender,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    application_id, card = int(data["application"]), Card.from_data(data.get("card"))
    await state.clear()
    decision = await platform.onboarding.decide(
        application_id,
        admin_telegram_id=user.telegram_id,
        approve=False,
        reason=message.text or "",
    )
    await message.answer(st.application_decided(decision.application, decision.already_decided))
    await _after_decision(card, decision, sender, platform, i18n)


async def _after_decision(
    card: Card | None,
    decision: ApplicationDecision,
    sender: Sender,
    platform: Platform,
    i18n: I18n,
) -> None:
    view = decision.application
    render = st.application_approved if view.status.value == "approved" else st.application_rejected
    await announce_decision(
        card,
        decision.verdict,
        decision.already_decided,
        sender,
        platform,
        i18n,
        view.telegram_id,
        lambda: render(view),
    )

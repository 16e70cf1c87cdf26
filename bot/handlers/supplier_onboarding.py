"""/supplier: apply to become a supplier; admins approve, or reject with a reason."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n

from bot import command_menus, supplier_texts
from bot.approval_cards import Card, close_card
from bot.filters import TYPED
from bot.keyboards import supplier_menus
from bot.keyboards.callbacks import SupplierApplicationCb
from bot.notices import tell_admins
from bot.sender import Sender
from bot.supplier_replies import announce_decision
from core.catalogue import Catalogue, UserView
from core.errors import KamengError
from core.settings import Settings
from core.suppliers import ApplicationDecision, SupplierOnboarding


class ApplyFlow(StatesGroup):
    company = State()
    contact = State()


class RejectApplication(StatesGroup):
    reason = State()


async def apply_start(
    message: Message, state: FSMContext, user: UserView, onboarding: SupplierOnboarding
) -> None:
    try:
        await onboarding.check_open(user.telegram_id)
    except KamengError as exc:
        await message.answer(supplier_texts.refusal(exc))
        return
    await state.set_state(ApplyFlow.company)
    await message.answer(supplier_texts.apply_ask_company())


async def apply_company(message: Message, state: FSMContext) -> None:
    await state.update_data(company=(message.text or "")[:128])
    await state.set_state(ApplyFlow.contact)
    await message.answer(supplier_texts.apply_ask_contact())


async def apply_contact(
    message: Message,
    state: FSMContext,
    user: UserView,
    catalogue: Catalogue,
    settings: Settings,
    onboarding: SupplierOnboarding,
    sender: Sender,
    i18n: I18n,
) -> None:
    company = str((await state.get_data()).get("company", ""))
    await state.clear()
    try:
        view = await onboarding.apply(
            user.telegram_id, company_name=company, contact_note=message.text or ""
        )
    except KamengError as exc:
        await message.answer(supplier_texts.refusal(exc))
        return
    await message.answer(supplier_texts.apply_sent(view))
    await tell_admins(
        sender,
        catalogue,
        settings,
        i18n,
        lambda: (
            supplier_texts.application_for_admin(view),
            supplier_menus.application_decision(view.id),
        ),
    )


async def needs_text(message: Message) -> None:
    await message.answer(supplier_texts.type_text())


async def approve(
    query: CallbackQuery,
    callback_data: SupplierApplicationCb,
    user: UserView,
    catalogue: Catalogue,
    settings: Settings,
    onboarding: SupplierOnboarding,
    bot: Bot,
    sender: Sender,
    i18n: I18n,
) -> None:
    decision = await onboarding.decide(
        callback_data.application, admin_telegram_id=user.telegram_id, approve=True
    )
    await query.answer(
        supplier_texts.application_decided(decision.application, decision.already_decided)
    )
    if not decision.already_decided:  # the new supplier's menu gains the supplier commands
        supplier = await catalogue.user(decision.application.telegram_id)
        await command_menus.refresh(bot, i18n, supplier)
    await _after_decision(Card.of(query.message), decision, sender, catalogue, settings, i18n)


async def reject_start(
    query: CallbackQuery,
    callback_data: SupplierApplicationCb,
    state: FSMContext,
    user: UserView,
    onboarding: SupplierOnboarding,
    bot: Bot,
) -> None:
    view = await onboarding.application(
        callback_data.application, admin_telegram_id=user.telegram_id
    )
    if view.status.value != "pending":
        await query.answer(supplier_texts.application_decided(view, already=True))
        await close_card(bot, Card.of(query.message), view.verdict)
        return
    await state.set_state(RejectApplication.reason)
    card = Card.of(query.message)
    await state.update_data(application=view.id, card=card.as_data() if card else None)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            supplier_texts.ask_reject_reason(supplier_texts.application_label(view.id))
        )


async def reject_reason(
    message: Message,
    state: FSMContext,
    user: UserView,
    catalogue: Catalogue,
    settings: Settings,
    onboarding: SupplierOnboarding,
    sender: Sender,
    i18n: I18n,
) -> None:
    data = await state.get_data()
    application_id, card = int(data["application"]), Card.from_data(data.get("card"))
    await state.clear()
    decision = await onboarding.decide(
        application_id,
        admin_telegram_id=user.telegram_id,
        approve=False,
        reason=message.text or "",
    )
    await message.answer(
        supplier_texts.application_decided(decision.application, decision.already_decided)
    )
    await _after_decision(card, decision, sender, catalogue, settings, i18n)


async def _after_decision(
    card: Card | None,
    decision: ApplicationDecision,
    sender: Sender,
    catalogue: Catalogue,
    settings: Settings,
    i18n: I18n,
) -> None:
    view = decision.application
    render = (
        supplier_texts.application_approved
        if view.status.value == "approved"
        else supplier_texts.application_rejected
    )
    await announce_decision(
        card,
        decision.verdict,
        decision.already_decided,
        sender,
        catalogue,
        settings,
        i18n,
        view.telegram_id,
        lambda: render(view),
    )


def setup() -> Router:
    router = Router(name="supplier_onboarding")
    router.message.register(apply_start, Command("supplier"))
    router.message.register(apply_company, StateFilter(ApplyFlow.company), TYPED)
    router.message.register(apply_contact, StateFilter(ApplyFlow.contact), TYPED)
    router.message.register(needs_text, StateFilter(ApplyFlow, RejectApplication), ~F.text)
    router.callback_query.register(approve, SupplierApplicationCb.filter(F.approve))
    router.callback_query.register(reject_start, SupplierApplicationCb.filter(~F.approve))
    router.message.register(reject_reason, StateFilter(RejectApplication.reason), TYPED)
    return router

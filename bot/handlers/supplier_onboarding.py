"""/supplier: apply to become a supplier; admins approve, or reject with a reason."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot import supplier_texts
from bot.filters import TYPED
from core.catalogue import UserView
from core.errors import KamengError
from core.suppliers import SupplierOnboarding


class ApplyFlow(StatesGroup):
    company = State()
    contact = State()


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
    onboarding: SupplierOnboarding,
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
    # the admins' cards were promised with the application (core.approvals.ask_admins)
    await message.answer(supplier_texts.apply_sent(view))


async def needs_text(message: Message) -> None:
    await message.answer(supplier_texts.type_text())


def setup() -> Router:
    router = Router(name="supplier_onboarding")
    router.message.register(apply_start, Command("supplier"))
    router.message.register(apply_company, StateFilter(ApplyFlow.company), TYPED)
    router.message.register(apply_contact, StateFilter(ApplyFlow.contact), TYPED)
    router.message.register(needs_text, StateFilter(ApplyFlow), ~F.text)
    return router

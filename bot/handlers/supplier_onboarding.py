"""/supplier: apply to become a supplier; admins approve, or reject with a reason."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import I18n

from bot import supplier_texts as st
from bot.keyboards.approvals import decision_buttons
from bot.notices import tell_admins
from core.catalogue import UserView
from core.errors import KamengError
from core.platform import Platform
from core.suppliers import ApplicationKind

router = Router(name="supplier_onboarding")
TEXT = F.text & ~F.text.startswith("/")


class ApplyFlow(StatesGroup):
    company = State()
    contact = State()


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
    bot: Bot,
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
        bot,
        platform,
        i18n,
        lambda: (st.application_for_admin(view), decision_buttons(ApplicationKind.name, view.id)),
    )


@router.message(StateFilter(ApplyFlow), ~F.text)
async def needs_text(message: Message) -> None:
    await message.answer(st.type_text())

"""The admin panel's waiting lists that had no listing of their own: supplier applications,
withdrawal requests and registration requests. Each item is re-sent with the approve / reject
buttons the admins were first sent, so deciding from here works exactly as from there."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot import admin_texts, registration_texts, supplier_texts
from bot.filters import admin_router
from bot.keyboards import admin as kb
from bot.keyboards import menus, supplier_menus, supplier_sales
from bot.replies import reply
from core.catalogue import UserView
from core.registration import Registrations
from core.supplier_payouts import SupplierPayouts
from core.suppliers import SupplierOnboarding


async def _send(
    query: CallbackQuery, name: str, items: Sequence[tuple[str, InlineKeyboardMarkup]]
) -> None:
    await reply(query, admin_texts.panel({name: len(items)}))
    if isinstance(query.message, Message):
        for text, markup in items:
            await query.message.answer(text, reply_markup=markup)


async def supplier_applications(
    query: CallbackQuery, user: UserView, onboarding: SupplierOnboarding
) -> None:
    pending = await onboarding.pending(admin_telegram_id=user.telegram_id)
    items = [
        (supplier_texts.application_for_admin(view), supplier_menus.application_decision(view.id))
        for view in pending
    ]
    await _send(query, "supplier_applications", items)


async def withdrawals(
    query: CallbackQuery, user: UserView, supplier_payouts: SupplierPayouts
) -> None:
    pending = await supplier_payouts.pending(admin_telegram_id=user.telegram_id)
    items = [
        (admin_texts.withdrawal_waiting(view), supplier_sales.withdrawal_decision(view.id))
        for view in pending
    ]
    await _send(query, "withdrawals", items)


async def registrations(query: CallbackQuery, user: UserView, registration: Registrations) -> None:
    pending = await registration.pending(admin_telegram_id=user.telegram_id)
    items = [
        (registration_texts.request_for_admin(view), menus.registration_decision(view.id))
        for view in pending
    ]
    await _send(query, "registrations", items)


def setup() -> Router:
    router = admin_router("admin_queues")
    router.callback_query.register(
        supplier_applications, kb.AdminCb.filter(F.action == "supplier_applications")
    )
    router.callback_query.register(withdrawals, kb.AdminCb.filter(F.action == "withdrawals"))
    router.callback_query.register(registrations, kb.AdminCb.filter(F.action == "registrations"))
    return router

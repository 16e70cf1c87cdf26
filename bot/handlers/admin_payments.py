"""Admins and payments: the stuck and mismatched ones (the panel's button, ``/payments``)
and crediting one to a named reseller (``/paycredit ID TELEGRAM_ID note``: audited, once)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import payment_texts, texts
from bot.filters import admin_router
from bot.keyboards.payments import PaymentAdminCb
from core.catalogue import UserView
from core.errors import KamengError
from core.payments import Payments

_LIMIT = 10


async def _stuck_text(payments: Payments) -> str:
    stuck = await payments.stuck(limit=_LIMIT)
    lines = [payment_texts.stuck_title(len(stuck))]
    lines.extend(payment_texts.stuck_line(p) for p in stuck)
    return "\n\n".join(lines)[:4096]


async def stuck_command(message: Message, payments: Payments) -> None:
    await message.answer(await _stuck_text(payments), disable_web_page_preview=True)


async def stuck_button(query: CallbackQuery, payments: Payments) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(await _stuck_text(payments), disable_web_page_preview=True)


async def paycredit(
    message: Message, command: CommandObject, user: UserView, payments: Payments
) -> None:
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 3 or not parts[1].isdigit():
        await message.answer(payment_texts.paycredit_usage())
        return
    payment_id, to, note = parts
    try:
        settled = await payments.credit_manually(
            payment_id, admin_telegram_id=user.telegram_id, to_telegram_id=int(to), note=note
        )
    except KamengError as refused:
        await message.answer(texts.error(refused))
        return
    await message.answer(payment_texts.paycredit_done(settled))


def setup() -> Router:
    router = admin_router("admin_payments")
    router.message.register(stuck_command, Command("payments"))
    router.callback_query.register(stuck_button, PaymentAdminCb.filter(F.action == "stuck"))
    router.message.register(paycredit, Command("paycredit"))
    return router

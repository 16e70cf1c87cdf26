"""Admins and USDT: the exchange rate (``/usdtrate``; ``/usdtrate 7.25`` sets it, audited;
a rate outside the currency's sane range is refused, one more than 20% from the rate in
force is set only after ✅: ``bot/handlers/admin_rates.py``),
the transfers that paid no payment (``/usdt``), kept for an admin to look at, and crediting
one to a named reseller (``/usdtcredit TX TELEGRAM_ID note``: audited, once)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import payment_texts, texts, usdt_texts
from bot.filters import admin_router
from bot.rate_question import answer_refusal
from core.catalogue import UserView
from core.errors import KamengError, RateRefused
from core.models import UsdtTransferStatus
from core.money import MalformedAmount, parse_amount
from core.payments.usdt import Usdt

_LIMIT = 10


async def rate(message: Message, command: CommandObject, user: UserView, usdt: Usdt) -> None:
    if not command.args:
        await message.answer(usdt_texts.rate(await usdt.rate()))
        return
    try:
        price = parse_amount(command.args)
    except MalformedAmount:
        price = 0
    if price <= 0:
        await message.answer(usdt_texts.rate_usage())
        return
    try:
        view = await usdt.set_rate(price, admin_telegram_id=user.telegram_id)
    except RateRefused as refused:  # out of range, or a big move: ✅ / ✖ (admin_rates)
        await answer_refusal(message, refused)
        return
    except KamengError as refused:
        await message.answer(texts.error(refused))
        return
    await message.answer(usdt_texts.rate_set(view))


async def credit(message: Message, command: CommandObject, user: UserView, usdt: Usdt) -> None:
    """``/usdtcredit TX TELEGRAM_ID note``: a transfer that paid nothing, to that reseller."""
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 3 or not parts[1].isdigit():
        await message.answer(usdt_texts.credit_usage())
        return
    tx_id, to, note = parts
    try:
        settled = await usdt.credit_transfer(
            tx_id, admin_telegram_id=user.telegram_id, to_telegram_id=int(to), note=note
        )
    except KamengError as refused:
        await message.answer(texts.error(refused))
        return
    await message.answer(payment_texts.paycredit_done(settled))


async def unmatched(message: Message, usdt: Usdt) -> None:
    kept = await usdt.transfers(UsdtTransferStatus.MISMATCHED, limit=_LIMIT)
    footer = "\n\n" + usdt_texts.credit_usage() if kept else ""
    await message.answer(usdt_texts.unmatched(kept)[: 4096 - len(footer)] + footer)


def setup() -> Router:
    router = admin_router("admin_usdt")
    router.message.register(rate, Command("usdtrate"))
    router.message.register(unmatched, Command("usdt"))
    router.message.register(credit, Command("usdtcredit"))
    return router

"""Admins and USDT: the exchange rate (``/usdtrate``; ``/usdtrate 7.25`` sets it, audited;
a rate outside the currency's sane range is refused, one more than 20% from the rate in
force is set only after ✅),
the transfers that paid no payment (``/usdt``), kept for an admin to look at, and crediting
one to a named reseller (``/usdtcredit TX TELEGRAM_ID note``: audited, once)."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot import payment_texts, texts, usdt_texts
from bot.errors import is_stale_message
from bot.filters import admin_router
from bot.keyboards.payments import UsdtRateCb, usdt_rate_confirm
from bot.replies import show_in_place
from core.catalogue import UserView
from core.errors import KamengError, UsdtRateRefused
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
    except UsdtRateRefused as refused:
        p = refused.params
        if p["reason"] == "confirm":  # a big move: asked, set only when he presses ✅
            await message.answer(
                usdt_texts.rate_confirm(price, p["current"], p["change_bps"]),
                reply_markup=usdt_rate_confirm(price, p["current"]),
            )
        else:
            await message.answer(_rate_refusal(refused))
        return
    except KamengError as refused:
        await message.answer(texts.error(refused))
        return
    await message.answer(usdt_texts.rate_set(view))


async def rate_pressed(
    query: CallbackQuery, callback_data: UsdtRateCb, user: UserView, usdt: Usdt
) -> None:
    """✅ sets the rate asked for, only if the rate in force is still the one the question
    showed: a second press, or a press after another admin's change, sets nothing and says
    what is in force. ✖ changes nothing. An old message that can no longer be edited gets
    the answer as a new message."""
    if callback_data.action != "ok":
        await query.answer()
        now_in_force = await usdt.rate()  # what "stays" is the rate in force now
        kept = callback_data.was if now_in_force is None else now_in_force.fen_per_usdt
        await _show(query, usdt_texts.rate_kept(kept))
        return
    try:
        view = await usdt.set_rate(
            callback_data.rate,
            admin_telegram_id=user.telegram_id,
            confirmed=True,
            replacing=callback_data.was,
        )
    except UsdtRateRefused as refused:
        text = _rate_refusal(refused)
        await query.answer(text[:200], show_alert=True)
        await _show(query, text)
        return
    await query.answer()
    await _show(query, usdt_texts.rate_set(view))


def _rate_refusal(refused: UsdtRateRefused) -> str:
    p = refused.params
    if p["reason"] == "range":
        return usdt_texts.rate_out_of_range(p["rate"], p["low"], p["high"])
    if p.get("current") == p["rate"]:  # his own second press: the rate is what he asked for
        return usdt_texts.rate_already(p["rate"])
    return usdt_texts.rate_changed_meanwhile(p.get("current"))


async def _show(query: CallbackQuery, text: str) -> None:
    """``text`` in place of the question (its buttons go), or as a new message when the
    question is too old or gone."""
    if isinstance(query.message, Message):
        try:
            await show_in_place(query.message, text)
            return
        except TelegramBadRequest as stale:
            if not is_stale_message(stale):
                raise
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, text)


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
    router.callback_query.register(rate_pressed, UsdtRateCb.filter())
    router.message.register(unmatched, Command("usdt"))
    router.message.register(credit, Command("usdtcredit"))
    return router

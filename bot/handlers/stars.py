"""Telegram Stars: a top-up paid with an invoice in the chat (``/stars AMOUNT``, and the
Stars method of Balance → Top up), the pre-checkout answer, the successful payment credited
once, and an admin's refund (``/stars_refund PAYMENT_ID REASON``, ``/stars_rate``)."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message, PreCheckoutQuery

from bot import stars_texts
from bot.filters import IsAdmin
from bot.keyboards import stars as stars_keyboards
from bot.keyboards.stars import StarsRefundCb
from bot.stars_invoices import send_invoice
from bot.stars_refunds import refund_on_telegram
from core.catalogue import UserView
from core.decisions.stars import Accept, Decline
from core.errors import BadNotification, KamengError, StarsRefused
from core.money import parse_positive_amount
from core.payments.service import Payments
from core.payments.stars import NAME, Stars

log = logging.getLogger("kameng.stars")


async def top_up(
    message: Message, command: CommandObject, user: UserView, payments: Payments, bot: Bot
) -> None:
    amount = parse_positive_amount(command.args)
    if amount is None or NAME not in payments.methods:
        await message.answer(stars_texts.stars_usage())
        return
    try:
        created = await payments.create(user.telegram_id, NAME, amount)
    except StarsRefused as refused:
        await message.answer(stars_texts.refused(str(refused.params.get("reason")), _max(refused)))
        return
    await send_invoice(bot, message.chat.id, created)


async def pre_checkout(query: PreCheckoutQuery, stars: Stars) -> None:
    """Answered at once: one read of the payment and a pure decision."""
    try:
        answer: Accept | Decline = await stars.pre_checkout(
            query.invoice_payload,
            payer=query.from_user.id,
            currency=query.currency,
            total_amount=query.total_amount,
        )
    except KamengError:  # the database is not answering: take no money
        answer = Decline("unavailable")
    if isinstance(answer, Accept):
        await query.answer(ok=True)
        return
    log.info(
        "stars pre-checkout declined (%s) for payment %s", answer.reason, query.invoice_payload
    )
    await query.answer(ok=False, error_message=stars_texts.declined(answer.reason))


async def successful_payment(message: Message, payments: Payments) -> None:
    """Credited once: the charge id is the payment's provider reference (UNIQUE); the
    "credited ✅" (or "held") notice is written in the same transaction (the outbox)."""
    paid = message.successful_payment
    assert paid is not None
    params = {
        "currency": paid.currency,
        "total_amount": str(paid.total_amount),
        "invoice_payload": paid.invoice_payload,
        "telegram_payment_charge_id": paid.telegram_payment_charge_id,
        "provider_payment_charge_id": paid.provider_payment_charge_id,
    }
    try:
        # "credited ✅" or "held": the outbox tells
        await payments.notify(NAME, params, via="telegram")
    except BadNotification as bad:
        log.warning("stars payment not settled: %s (%s)", bad, paid.telegram_payment_charge_id)


async def refunded_payment(message: Message) -> None:
    """Telegram's service message about a refund we made: nothing to do."""


async def set_rate(message: Message, command: CommandObject, user: UserView, stars: Stars) -> None:
    argument = (command.args or "").strip()
    if not argument:
        await message.answer(stars_texts.rate_now(await stars.rate()))
        return
    if not argument.isdigit() or len(argument) > 9 or int(argument) <= 0:
        await message.answer(stars_texts.rate_usage())
        return
    view = await stars.set_rate(int(argument), admin_telegram_id=user.telegram_id)
    await message.answer(stars_texts.rate_set(view.fen_per_star))


async def refund_ask(message: Message, command: CommandObject, payments: Payments) -> None:
    payment_id, _, reason = (command.args or "").strip().partition(" ")
    if not payment_id or not reason.strip():
        await message.answer(stars_texts.refund_usage())
        return
    view = await payments.get(payment_id[:32])
    if view.provider != NAME or view.paid_amount is None:
        await message.answer(stars_texts.refused("unknown"))
        return
    await message.answer(
        stars_texts.refund_card(view) + "\n" + escape(reason.strip()[:200]),
        reply_markup=stars_keyboards.refund_card(view.id, view.paid_amount),
    )


async def refund_decide(
    query: CallbackQuery, callback_data: StarsRefundCb, user: UserView, stars: Stars, bot: Bot
) -> None:
    if callback_data.action != "ok":
        await query.answer(stars_texts.refund_cancelled())
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)
        return
    reason = _reason_of(query)
    try:
        refund = await stars.refund(
            callback_data.payment, admin_telegram_id=user.telegram_id, reason=reason
        )
    except StarsRefused as refused:
        await query.answer(stars_texts.refused(str(refused.params.get("reason"))), show_alert=True)
        return
    if refund.refunded_at is None:
        refund = await refund_on_telegram(bot, stars, refund)
    done = refund.refunded_at is not None
    text = stars_texts.refund_done(refund) if done else stars_texts.refund_pending(refund)
    await query.answer(text, show_alert=not done)
    if isinstance(query.message, Message) and done:
        await query.message.edit_reply_markup(reply_markup=None)
        await query.message.answer(text)


def _reason_of(query: CallbackQuery) -> str:
    message = query.message
    text = message.text if isinstance(message, Message) and message.text else ""
    return text.rsplit("\n", 1)[-1][:200] if "\n" in text else ""


def _max(refused: StarsRefused) -> int:
    return int(refused.params.get("max", 0))


def setup() -> Router:
    router = Router(name="stars")
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(successful_payment, F.successful_payment)
    router.message.register(refunded_payment, F.refunded_payment)
    router.message.register(top_up, Command("stars"))
    router.message.register(set_rate, Command("stars_rate"), IsAdmin())
    router.message.register(refund_ask, Command("stars_refund"), IsAdmin())
    router.callback_query.register(refund_decide, StarsRefundCb.filter(), IsAdmin())
    return router

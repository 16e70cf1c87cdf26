"""Sending a Stars payment's invoice: the pay step of the Telegram Stars top-up method
(``PayStep.telegram_invoice``), shared by every handler that opens such a payment."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import LabeledPrice, Message

from bot import stars_texts
from bot.keyboards import stars as stars_keyboards
from core.payments.service import Created


async def send_invoice(bot: Bot, chat_id: int, created: Created) -> Message:
    """The invoice for ``created`` (its payload is the payment's id: what the pre-checkout
    query and the successful payment name)."""
    payment = created.payment
    stars = int(payment.provider_amount or 0)
    return await bot.send_invoice(
        chat_id=chat_id,
        title=stars_texts.invoice_title(),
        description=stars_texts.invoice_description(payment.amount, stars, payment.expires_at),
        payload=payment.id,
        currency="XTR",
        prices=[LabeledPrice(label=stars_texts.invoice_label(payment.amount), amount=stars)],
        provider_token="",
        reply_markup=stars_keyboards.pay(stars),
    )


async def invoice_step(message: Message, created: Created) -> None:
    """The pay step of the Stars method (``bot/payment_steps.py``): the invoice, in the chat
    the amount was typed in."""
    assert message.bot is not None
    await send_invoice(message.bot, message.chat.id, created)

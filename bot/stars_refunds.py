"""Giving a refunded Stars payment's stars back through Telegram (``refundStarPayment``),
for the admin's Refund button (``bot/handlers/stars.py``) and the ``stars.refund_retry``
job (``bot/scheduler.py``). The ledger is reversed already (``Stars.refund``); Telegram
refunds a charge once and says ``CHARGE_ALREADY_REFUNDED`` after, which counts as done."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest

from bot.sender import Priority, Sender
from core.jobs import JobContext
from core.payments.stars import RefundView, Stars

log = logging.getLogger("kameng.stars")
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


async def refund_on_telegram(bot: Bot, stars: Stars, refund: RefundView) -> RefundView:
    """The admin's press: one call now; a failure stays pending for the retry job."""
    try:
        await bot.refund_star_payment(
            user_id=refund.telegram_id, telegram_payment_charge_id=refund.charge_id
        )
    except TelegramBadRequest as refused:
        if ALREADY_REFUNDED not in refused.message:
            log.warning("refundStarPayment refused for %s: %s", refund.payment_id, refused.message)
            return refund
    except TelegramAPIError as failed:
        log.warning("refundStarPayment failed for %s: %s", refund.payment_id, failed)
        return refund
    return await stars.refunded(refund.payment_id)


class RefundRetries:
    """The ``stars.refund_retry`` job's handler: a refund still pending is asked of Telegram
    again through the one ``Sender``; a failure schedules the next try (backoff in
    ``core/decisions/stars.py``), never an ERROR."""

    def __init__(self, stars: Stars, sender: Sender) -> None:
        self._stars = stars
        self._sender = sender

    async def run(self, context: JobContext) -> None:
        payment_id = str(context.job.payload["payment"])
        attempt = int(context.job.payload["attempt"])
        refund = await self._stars.pending_refund(payment_id)
        if refund is None:
            return  # the admin's own press (or an earlier retry) gave the stars back
        bot = self._sender.bot
        delivery = await self._sender.send(
            refund.telegram_id,
            lambda: bot.refund_star_payment(
                user_id=refund.telegram_id, telegram_payment_charge_id=refund.charge_id
            ),
            priority=Priority.NOTICE,
            retry=False,
        )
        error = delivery.error
        if delivery.sent or (
            isinstance(error, TelegramBadRequest) and ALREADY_REFUNDED in error.message
        ):
            await self._stars.refunded(payment_id)
            log.info("stars refund of payment %s done on retry %s", payment_id, attempt)
            return
        log.warning(
            "stars refund of payment %s: retry %s not done (%s)",
            payment_id,
            attempt,
            delivery.reason,
        )
        await self._stars.retry_refund_later(payment_id, attempt + 1)

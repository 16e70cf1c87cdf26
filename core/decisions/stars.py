"""Telegram Stars (``XTR``): how many stars a top-up costs, whether a pre-checkout query
may go on, whether an admin may refund a payment. Pure: no database, no clock.

A star is counted in whole stars (Telegram's ``total_amount`` for ``XTR``); the rate is fen
per star, set by admins. A top-up of ``amount`` fen costs ``ceil(amount / rate)`` stars, so
the platform never gets less than it credits; the balance gets exactly ``amount``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.models import PaymentStatus

STARS = "XTR"
#: the most stars one invoice may ask for (Telegram's limit for a bot's invoice)
MAX_STARS = 10_000


def stars_for(amount: int, fen_per_star: int) -> int:
    """Stars to pay for ``amount`` fen at ``fen_per_star``: rounded up, at least one."""
    if amount <= 0 or fen_per_star <= 0:
        raise ValueError("amount and rate must be positive")
    return max(1, -(-amount // fen_per_star))


@dataclass(frozen=True)
class CheckoutContext:
    """The payment a pre-checkout query names, as loaded (``None`` fields: no such payment)."""

    found: bool
    provider: str
    status: PaymentStatus | None
    owner_telegram_id: int | None
    stars: int | None  # what the invoice asked
    expires_at: datetime | None


@dataclass(frozen=True)
class Accept:
    """Answer ``ok``: Telegram may take the stars."""


@dataclass(frozen=True)
class Decline:
    """Answer ``ok=False``; ``reason``: ``unknown``, ``closed``, ``expired``, ``amount``,
    ``currency`` or ``payer``."""

    reason: str


def decide_pre_checkout(
    ctx: CheckoutContext, *, payer: int, currency: str, total_amount: int, now: datetime
) -> Accept | Decline:
    """May the payer pay ``total_amount`` ``currency`` for this payment now? Only while it is
    open (``created``, not past its expiry), for exactly the invoice's stars, by its owner."""
    if not ctx.found or ctx.provider != "stars":
        return Decline("unknown")
    if ctx.status != PaymentStatus.CREATED:
        return Decline("closed")
    if ctx.expires_at is None or now >= ctx.expires_at:
        return Decline("expired")
    if currency != STARS:
        return Decline("currency")
    if total_amount != ctx.stars:
        return Decline("amount")
    if payer != ctx.owner_telegram_id:
        return Decline("payer")
    return Accept()


@dataclass(frozen=True)
class Reverse:
    """Refund: take ``amount`` fen back from the reseller's balance (``fee`` of it back from
    the provider's fee account, the rest from the top-up clearing), and ``stars`` back to the
    payer through Telegram."""

    amount: int
    fee: int
    stars: int


def decide_stars_refund(
    *,
    provider: str,
    status: PaymentStatus,
    amount: int,
    fee: int,
    paid_stars: int | None,
    charge_id: str | None,
    refunded_before: bool,
) -> Reverse | Decline:
    """May an admin refund this payment? A credited Stars payment, once; ``reason``:
    ``unknown`` (not Stars), ``closed`` (not credited), ``already`` (refunded before)."""
    if provider != "stars" or not charge_id or paid_stars is None:
        return Decline("unknown")
    if refunded_before:
        return Decline("already")
    if status != PaymentStatus.CREDITED:
        return Decline("closed")
    return Reverse(amount=amount, fee=fee, stars=paid_stars)


# A pending refund is asked of Telegram again by a job: after 1, 2, 4, … minutes, at most an
# hour apart, this many times; then only an admin pressing Refund again asks.
REFUND_RETRIES = 10
REFUND_RETRY_FIRST = timedelta(minutes=1)
REFUND_RETRY_MOST = timedelta(hours=1)


def refund_retry_delay(attempt: int) -> timedelta | None:
    """How long after the ``attempt``-th retry is scheduled (1 = the first, right after the
    refund) the job asks Telegram; ``None``: no more retries."""
    if not 1 <= attempt <= REFUND_RETRIES:
        return None
    delay: timedelta = REFUND_RETRY_FIRST * (2 ** (attempt - 1))
    return min(delay, REFUND_RETRY_MOST)

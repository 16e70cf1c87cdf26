"""A provider says a payment was paid: credit it, hold it for an admin, or do nothing. Pure.

The payer pays ``expected`` in the provider's unit (fen for epay, USDT micro-units, stars);
the balance gets the payment's ``amount`` in the deployment's currency, less nothing: the
provider's fee (basis points, rounded half-up once) is the platform's cost, posted to its
own account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from core.models import PaymentStatus
from core.money import BPS


@dataclass(frozen=True)
class PaymentContext:
    """What a notification (or a provider's answer to a query) is decided against."""

    status: PaymentStatus
    amount: int  # what the reseller's balance gets (fen)
    expected: int  # what the payer must pay, in the provider's unit
    expires_at: datetime
    grace: timedelta  # paid this long after ``expires_at`` still counts
    fee_bps: int


@dataclass(frozen=True)
class Credit:
    """Credit ``amount`` to the reseller; the provider kept ``fee`` of it."""

    amount: int
    fee: int


@dataclass(frozen=True)
class Hold:
    """Paid, but not as asked: ``mismatched``, shown to admins. ``reason``: ``short``,
    ``over`` or ``late``."""

    reason: str


@dataclass(frozen=True)
class Already:
    """Decided before (credited, or held, or closed): a repeated notification changes nothing."""

    status: PaymentStatus


FINAL = frozenset({PaymentStatus.CREDITED, PaymentStatus.MISMATCHED, PaymentStatus.FAILED})


def fee_of(amount: int, fee_bps: int) -> int:
    """The provider's fee on ``amount``, rounded half-up to the fen, once."""
    exact = Decimal(amount) * fee_bps / BPS
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def decide_payment(ctx: PaymentContext, paid: int, paid_at: datetime) -> Credit | Hold | Already:
    """``paid`` (the provider's unit) arrived at ``paid_at`` for this payment."""
    if ctx.status in FINAL:
        return Already(ctx.status)
    if paid_at > ctx.expires_at + ctx.grace:
        return Hold("late")
    if paid < ctx.expected:
        return Hold("short")
    if paid > ctx.expected:
        return Hold("over")
    return Credit(ctx.amount, fee_of(ctx.amount, ctx.fee_bps))


def may_credit_manually(status: PaymentStatus) -> bool:
    """An admin may credit a payment that was never credited: stuck (``created``,
    ``expired``), held (``mismatched``) or ``paid``; never twice."""
    return status != PaymentStatus.CREDITED and status != PaymentStatus.FAILED

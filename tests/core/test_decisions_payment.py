"""What a provider's "paid" does to a payment: tables of worked examples (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.decisions.payment import (
    Already,
    Credit,
    Hold,
    PaymentContext,
    decide_payment,
    fee_of,
    may_credit_manually,
)
from core.models import PaymentStatus

OPENED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
EXPIRES = OPENED + timedelta(minutes=15)
GRACE = timedelta(minutes=30)


def ctx(
    status: PaymentStatus = PaymentStatus.CREATED,
    amount: int = 100_00,
    expected: int | None = None,
    fee_bps: int = 0,
) -> PaymentContext:
    return PaymentContext(
        status=status,
        amount=amount,
        expected=amount if expected is None else expected,
        expires_at=EXPIRES,
        grace=GRACE,
        fee_bps=fee_bps,
    )


@pytest.mark.parametrize(
    ("context", "paid", "at", "answer"),
    [
        # 100.00 asked, 100.00 paid five minutes in: credited, no fee configured
        (ctx(), 100_00, OPENED + timedelta(minutes=5), Credit(100_00, 0)),
        # the gateway keeps 0.6 % (60 bps): 0.60 of 100.00 is the platform's cost
        (ctx(fee_bps=60), 100_00, OPENED + timedelta(minutes=5), Credit(100_00, 60)),
        # 0.6 % of 12.34 is 7.404 fen → 7 (half-up, once); of 12.50 it is 7.5 → 8
        (ctx(amount=12_34, fee_bps=60), 12_34, OPENED, Credit(12_34, 7)),
        (ctx(amount=12_50, fee_bps=60), 12_50, OPENED, Credit(12_50, 8)),
        # one fen short, one fen over: held for an admin, never guessed
        (ctx(), 99_99, OPENED + timedelta(minutes=5), Hold("short")),
        (ctx(), 100_01, OPENED + timedelta(minutes=5), Hold("over")),
        # USDT: 100.00 CNY is 13.847 USDT (micro-units); the payer must send exactly that
        (ctx(expected=13_847_000), 13_847_000, OPENED, Credit(100_00, 0)),
        (ctx(expected=13_847_000), 13_846_000, OPENED, Hold("short")),
        # paid after expiry but within the 30-minute grace: still credited, even if
        # the recovery job already marked it expired
        (ctx(), 100_00, EXPIRES + timedelta(minutes=29), Credit(100_00, 0)),
        (ctx(PaymentStatus.EXPIRED), 100_00, EXPIRES + GRACE, Credit(100_00, 0)),
        # after the grace: held (the payer may have paid a stale link)
        (ctx(), 100_00, EXPIRES + GRACE + timedelta(seconds=1), Hold("late")),
        (ctx(PaymentStatus.EXPIRED), 100_00, EXPIRES + timedelta(hours=3), Hold("late")),
        # decided before: a repeated notification changes nothing
        (ctx(PaymentStatus.CREDITED), 100_00, OPENED, Already(PaymentStatus.CREDITED)),
        (ctx(PaymentStatus.MISMATCHED), 100_00, OPENED, Already(PaymentStatus.MISMATCHED)),
        (ctx(PaymentStatus.FAILED), 100_00, OPENED, Already(PaymentStatus.FAILED)),
        # paid but not credited yet (a provider that reports paid first): credit now
        (ctx(PaymentStatus.PAID), 100_00, OPENED, Credit(100_00, 0)),
    ],
)
def test_a_paid_notification_is_credited_held_or_ignored(
    context: PaymentContext, paid: int, at: datetime, answer: Credit | Hold | Already
) -> None:
    assert decide_payment(context, paid, at) == answer


@pytest.mark.parametrize(
    ("amount", "bps", "fee"),
    [
        (100_00, 0, 0),
        (100_00, 60, 60),
        (1, 60, 0),
        (83, 60, 0),
        (84, 60, 1),
        (100_00, 10_000, 100_00),
    ],
)
def test_the_providers_fee_is_rounded_half_up_once(amount: int, bps: int, fee: int) -> None:
    assert fee_of(amount, bps) == fee


@pytest.mark.parametrize(
    ("status", "may"),
    [
        (PaymentStatus.CREATED, True),
        (PaymentStatus.EXPIRED, True),
        (PaymentStatus.MISMATCHED, True),
        (PaymentStatus.PAID, True),
        (PaymentStatus.CREDITED, False),
        (PaymentStatus.FAILED, False),
    ],
)
def test_an_admin_credits_a_payment_that_was_never_credited(
    status: PaymentStatus, may: bool
) -> None:
    assert may_credit_manually(status) is may

"""Telegram Stars' rules: stars for a top-up, the pre-checkout answer, a refund. Tables of
worked examples (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.decisions.stars import (
    Accept,
    CheckoutContext,
    Decline,
    Reverse,
    decide_pre_checkout,
    decide_stars_refund,
    refund_retry_delay,
    stars_for,
)
from core.models import PaymentStatus

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
OWNER = 1001


@pytest.mark.parametrize(
    ("amount", "fen_per_star", "stars"),
    [
        (100_00, 20, 500),  # ¥100.00 at ¥0.20 a star
        (100_00, 13, 770),  # 769.23… rounded up: the platform never gets less than it credits
        (1, 20, 1),  # at least one star
        (20, 20, 1),
        (21, 20, 2),
        (1_000_00, 10, 10_000),
    ],
)
def test_stars_for_a_top_up_are_rounded_up(amount: int, fen_per_star: int, stars: int) -> None:
    assert stars_for(amount, fen_per_star) == stars


@pytest.mark.parametrize(("amount", "rate"), [(0, 20), (-5, 20), (100, 0)])
def test_stars_for_needs_positive_numbers(amount: int, rate: int) -> None:
    with pytest.raises(ValueError):
        stars_for(amount, rate)


def checkout(
    *,
    found: bool = True,
    provider: str = "stars",
    status: PaymentStatus = PaymentStatus.CREATED,
    stars: int = 500,
    expires_at: datetime = NOW + timedelta(minutes=10),
) -> CheckoutContext:
    return CheckoutContext(
        found=found,
        provider=provider,
        status=status,
        owner_telegram_id=OWNER,
        stars=stars,
        expires_at=expires_at,
    )


@pytest.mark.parametrize(
    ("ctx", "payer", "currency", "total", "answer"),
    [
        (checkout(), OWNER, "XTR", 500, Accept()),
        (checkout(found=False), OWNER, "XTR", 500, Decline("unknown")),
        (checkout(provider="epay"), OWNER, "XTR", 500, Decline("unknown")),
        (checkout(status=PaymentStatus.CREDITED), OWNER, "XTR", 500, Decline("closed")),
        (checkout(status=PaymentStatus.EXPIRED), OWNER, "XTR", 500, Decline("closed")),
        (checkout(status=PaymentStatus.MISMATCHED), OWNER, "XTR", 500, Decline("closed")),
        (checkout(expires_at=NOW), OWNER, "XTR", 500, Decline("expired")),
        (checkout(expires_at=NOW - timedelta(seconds=1)), OWNER, "XTR", 500, Decline("expired")),
        (checkout(), OWNER, "USD", 500, Decline("currency")),
        (checkout(), OWNER, "XTR", 499, Decline("amount")),
        (checkout(), OWNER, "XTR", 501, Decline("amount")),
        (checkout(), 2002, "XTR", 500, Decline("payer")),  # a forwarded invoice
    ],
)
def test_pre_checkout(
    ctx: CheckoutContext, payer: int, currency: str, total: int, answer: Accept | Decline
) -> None:
    assert (
        decide_pre_checkout(ctx, payer=payer, currency=currency, total_amount=total, now=NOW)
        == answer
    )


@pytest.mark.parametrize(
    ("provider", "status", "stars", "charge", "before", "answer"),
    [
        ("stars", PaymentStatus.CREDITED, 500, "stx1", False, Reverse(100_00, 3_00, 500)),
        ("stars", PaymentStatus.CREDITED, 500, "stx1", True, Decline("already")),
        ("stars", PaymentStatus.CREATED, None, None, False, Decline("unknown")),
        ("stars", PaymentStatus.MISMATCHED, 400, "stx1", False, Decline("closed")),
        ("epay", PaymentStatus.CREDITED, 100_00, "T1", False, Decline("unknown")),
    ],
)
def test_stars_refund(
    provider: str,
    status: PaymentStatus,
    stars: int | None,
    charge: str | None,
    before: bool,
    answer: Reverse | Decline,
) -> None:
    decided = decide_stars_refund(
        provider=provider,
        status=status,
        amount=100_00,
        fee=3_00,
        paid_stars=stars,
        charge_id=charge,
        refunded_before=before,
    )
    assert decided == answer


@pytest.mark.parametrize(
    ("attempt", "delay"),
    [
        (0, None),  # no such attempt
        (1, timedelta(minutes=1)),  # right after the admin's own try failed
        (2, timedelta(minutes=2)),
        (4, timedelta(minutes=8)),
        (7, timedelta(hours=1)),  # 64 minutes: held to an hour
        (10, timedelta(hours=1)),  # the last one
        (11, None),  # given up: an admin presses Refund again
    ],
)
def test_a_pending_refund_is_retried_with_backoff_then_left_to_the_admin(
    attempt: int, delay: timedelta | None
) -> None:
    assert refund_retry_delay(attempt) == delay

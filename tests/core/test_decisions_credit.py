"""Credit lines' money rules, worked examples with real numbers."""

from __future__ import annotations

from datetime import date

import pytest

from core.decisions.credit import (
    History,
    allocate_repayment,
    daily_interest,
    days_to_accrue,
    due_on,
    overdue,
    suggest_limit,
    usable_limit,
    would_draw,
)


@pytest.mark.parametrize(
    ("drawn", "rate_bps", "interest"),
    [
        (500_00, 5, 25),  # 500.00 at 0.05% a day: 0.25
        (1_000_00, 5, 50),
        (333_33, 5, 17),  # 16.6665 fen, rounded up toward the platform
        (1, 5, 1),  # any drawn fen costs at least a fen
        (0, 5, 0),  # nothing drawn, nothing owed
        (-200_00, 5, 0),  # a positive balance is not drawn
        (800_00, 0, 0),  # an interest-free line
        (12_345_67, 10, 12_35),  # 12345.67 at 0.1%: 12.34567 → 12.35
    ],
)
def test_a_days_interest(drawn: int, rate_bps: int, interest: int) -> None:
    assert daily_interest(drawn, rate_bps) == interest


@pytest.mark.parametrize(
    ("amount", "owed", "interest", "principal"),
    [
        (100_00, 3_50, 3_50, 96_50),  # interest first, the rest onto the balance
        (2_00, 3_50, 2_00, 0),  # not even the interest: all of it to interest
        (3_50, 3_50, 3_50, 0),
        (100_00, 0, 0, 100_00),  # nothing owed: all principal
    ],
)
def test_a_top_up_repays_interest_first(
    amount: int, owed: int, interest: int, principal: int
) -> None:
    paid = allocate_repayment(amount, owed)
    assert (paid.interest, paid.principal, paid.total) == (interest, principal, amount)


def test_days_to_accrue_are_the_whole_days_not_posted_yet() -> None:
    start = date(2026, 11, 1)
    assert days_to_accrue(start, None, date(2026, 11, 1)) == []  # today is not over
    assert days_to_accrue(start, None, date(2026, 11, 3)) == [date(2026, 11, 1), date(2026, 11, 2)]
    assert days_to_accrue(start, date(2026, 11, 2), date(2026, 11, 3)) == []  # run twice
    # four days late: four days caught up, oldest first
    assert days_to_accrue(start, date(2026, 11, 2), date(2026, 11, 7)) == [
        date(2026, 11, 3),
        date(2026, 11, 4),
        date(2026, 11, 5),
        date(2026, 11, 6),
    ]


def test_the_term_and_the_due_date() -> None:
    assert due_on(date(2026, 11, 1), 30) == date(2026, 11, 30)
    assert not overdue(date(2026, 11, 30), date(2026, 11, 30))
    assert overdue(date(2026, 11, 30), date(2026, 12, 1))
    assert usable_limit(500_00, blocked=False) == 500_00
    assert usable_limit(500_00, blocked=True) == 0
    assert would_draw(100_00, 120_00) and would_draw(-10_00, 1)
    assert not would_draw(100_00, 100_00)


@pytest.mark.parametrize(
    ("history", "limit", "figures"),
    [
        # 9000.00 over 90 days (3000.00 a month) bought every week, no refunds, top-ups
        # covering it all: half a month, 1500.00
        (History(900_000, 0, 60, 13, 10, 900_000), 1_500_00, (300_000, 10_000, 0, 10_000)),
        # the same spend in 6 of 13 weeks: 1500.00 × 46.15% = 692.25 → 600.00
        (History(900_000, 0, 20, 6, 10, 900_000), 600_00, (300_000, 4_615, 0, 10_000)),
        # 10% refunded (1000.00 of 10000.00 gross) counts double: 1500.00 × 80% = 1200.00
        (
            History(900_000, 100_000, 60, 13, 10, 900_000),
            1_200_00,
            (300_000, 10_000, 1_000, 10_000),
        ),
        # top-ups covered only half the spend: 1500.00 × 50% = 750.00 → 700.00
        (History(900_000, 0, 60, 13, 3, 450_000), 700_00, (300_000, 10_000, 0, 5_000)),
        # no history, no line
        (History(0, 0, 0, 0, 0, 0), 0, (0, 0, 0, 0)),
    ],
)
def test_the_suggested_limit_shows_its_figures(
    history: History, limit: int, figures: tuple[int, int, int, int]
) -> None:
    s = suggest_limit(history)
    assert s.limit == limit
    assert (s.monthly_spend, s.regularity_bps, s.refund_bps, s.top_up_bps) == figures

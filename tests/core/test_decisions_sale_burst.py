"""When a burst of sale notices to one supplier chat becomes one summary, and what that
summary says: tables with real numbers (no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.decisions.sale_burst import BURST, FOLD_OVER, burst_summary, fold_due
from core.supplier_sales import SaleNotice

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("count", "over", "folded"),
    [
        (0, FOLD_OVER, False),
        (1, FOLD_OVER, False),  # a single sale: its own notice, as ever
        (FOLD_OVER, FOLD_OVER, False),  # N: still one by one
        (FOLD_OVER + 1, FOLD_OVER, True),  # N + 1: one summary
        (40, FOLD_OVER, True),
        (2, 1, True),
    ],
)
def test_more_than_n_due_sale_notices_fold(count: int, over: int, folded: bool) -> None:
    assert fold_due(count, over) is folded


def steam(quantity: int = 1, stock: int | None = 8) -> SaleNotice:
    return SaleNotice(1, "STEAM-100", "STEAM-100 card", quantity, 85_84 * quantity, stock)


def xbox(quantity: int = 1, stock: int | None = 3) -> SaleNotice:
    return SaleNotice(2, "XBOX-50", "Xbox 50", quantity, 40_50 * quantity, stock)


@dataclass(frozen=True)
class Case:
    sales: list[SaleNotice]
    lines: list[dict[str, Any]]
    orders: int
    units: int
    earnings: int


CASES = {
    "one sale": Case(
        [steam()],
        [{"sku": "STEAM-100", "orders": 1, "units": 1, "earnings": 85_84, "stock": 8}],
        1,
        1,
        85_84,
    ),
    "N + 1 sales of one SKU, the newest stock wins": Case(
        [steam(stock=11), steam(stock=10), steam(2, stock=8), steam(stock=7)],
        [{"sku": "STEAM-100", "orders": 4, "units": 5, "earnings": 429_20, "stock": 7}],
        4,
        5,
        429_20,
    ),
    "several SKUs, the best earner first": Case(
        [xbox(3, stock=5), steam(stock=9), xbox(stock=4), steam(stock=None)],
        [
            {"sku": "STEAM-100", "orders": 2, "units": 2, "earnings": 171_68, "stock": None},
            {"sku": "XBOX-50", "orders": 2, "units": 4, "earnings": 162_00, "stock": 4},
        ],
        4,
        6,
        333_68,
    ),
    "equal earnings: by SKU code": Case(
        [
            SaleNotice(3, "B", "b", 1, 10_00, 1),
            SaleNotice(4, "A", "a", 1, 10_00, 2),
        ],
        [
            {"sku": "A", "orders": 1, "units": 1, "earnings": 10_00, "stock": 2},
            {"sku": "B", "orders": 1, "units": 1, "earnings": 10_00, "stock": 1},
        ],
        2,
        2,
        20_00,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_summary_adds_up_the_sales_per_sku(case: Case) -> None:
    times = [T0 + timedelta(seconds=n) for n in range(len(case.sales))]
    summary = burst_summary(case.sales, times)
    lines = [{k: v for k, v in line.items() if k != "name"} for line in summary["lines"]]
    assert lines == case.lines
    assert (summary["orders"], summary["units"], summary["earnings"]) == (
        case.orders,
        case.units,
        case.earnings,
    )
    assert summary["period"] == BURST
    # the window runs from the first sale to the last, whatever order the rows came in
    assert summary["start"] == T0.isoformat()
    assert summary["end"] == times[-1].isoformat()


def test_the_summary_needs_a_time_per_sale() -> None:
    with pytest.raises(ValueError):
        burst_summary([], [])
    with pytest.raises(ValueError):
        burst_summary([steam()], [T0, T0])

"""Worked examples for the unit-price rules, with real numbers (fen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models import PromotionKind
from core.pricing.rules import PriceBook, PromotionRule, QuantityBreakRule, price_unit

NOON = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
BREAKS = (QuantityBreakRule(10, 100), QuantityBreakRule(100, 250))  # −1 % from 10, −2.5 % from 100


def promo(
    kind: PromotionKind = PromotionKind.PERCENT_OFF,
    *,
    percent: int | None = 1000,
    fixed: int | None = None,
    starts: datetime = NOON - timedelta(hours=1),
    ends: datetime = NOON + timedelta(hours=1),
    levels: frozenset[int] = frozenset(),
    pid: int = 1,
) -> PromotionRule:
    return PromotionRule(
        id=pid,
        name=f"promo {pid}",
        kind=kind,
        starts_at=starts,
        ends_at=ends,
        percent_off_bps=percent if kind is PromotionKind.PERCENT_OFF else None,
        fixed_price=fixed,
        level_ids=levels,
    )


def book(**overrides: object) -> PriceBook:
    fields: dict[str, object] = {
        "supply_price": 85_00,
        "default_price": 92_00,
        "level_id": 1,
        "level_price": None,
        "breaks": BREAKS,
        "promotions": (),
    }
    fields.update(overrides)
    return PriceBook(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "price_book", "quantity", "at", "unit"),
    [
        ("default price for a level without its own", book(), 1, NOON, 92_00),
        ("gold's own price", book(level_id=3, level_price=90_00), 1, NOON, 90_00),
        ("9 units: no break yet", book(), 9, NOON, 92_00),
        ("10 units: −1 %", book(), 10, NOON, 91_08),
        ("100 units: −2.5 %, the bigger break", book(), 100, NOON, 89_70),
        ("−1 % on 99.99 rounds half-up to 98.99", book(default_price=99_99), 10, NOON, 98_99),
        ("10 % off inside the window", book(promotions=(promo(),)), 1, NOON, 85_00),
        (
            "percent off applies after the break",
            book(promotions=(promo(percent=500),)),
            10,
            NOON,
            86_53,
        ),
        ("window start is inclusive", book(promotions=(promo(starts=NOON),)), 1, NOON, 85_00),
        ("window end is exclusive", book(promotions=(promo(ends=NOON),)), 1, NOON, 92_00),
        (
            "a future promotion does nothing yet",
            book(promotions=(promo(starts=NOON + timedelta(minutes=1)),)),
            1,
            NOON,
            92_00,
        ),
        (
            "fixed price promotion",
            book(promotions=(promo(PromotionKind.FIXED_PRICE, fixed=88_00),)),
            1,
            NOON,
            88_00,
        ),
        (
            "the lowest of several promotions wins",
            book(
                promotions=(
                    promo(percent=200, pid=1),
                    promo(PromotionKind.FIXED_PRICE, fixed=87_50, pid=2),
                )
            ),
            1,
            NOON,
            87_50,
        ),
        (
            "a promotion for gold only skips bronze",
            book(promotions=(promo(levels=frozenset({3})),)),
            1,
            NOON,
            92_00,
        ),
        (
            "a promotion for gold applies to gold",
            book(level_id=3, promotions=(promo(percent=200, levels=frozenset({3})),)),
            1,
            NOON,
            90_16,
        ),
        (
            "a promotion never cuts below the supply price",
            book(promotions=(promo(percent=5000),)),
            1,
            NOON,
            85_00,
        ),
        (
            "a fixed price above the current price is ignored",
            book(promotions=(promo(PromotionKind.FIXED_PRICE, fixed=95_00),)),
            1,
            NOON,
            92_00,
        ),
    ],
)
def test_unit_price(
    case: str, price_book: PriceBook, quantity: int, at: datetime, unit: int
) -> None:
    assert price_unit(price_book, quantity, at).unit_price == unit, case


def test_breakdown_names_what_applied() -> None:
    result = price_unit(
        book(level_id=3, level_price=90_00, promotions=(promo(percent=500),)), 100, NOON
    )
    assert result.base_price == 90_00 and result.from_level_price
    assert result.quantity_break == QuantityBreakRule(100, 250)
    assert result.after_break == 87_75
    assert result.promotion is not None and result.promotion.id == 1
    assert result.unit_price == 85_00 and result.capped_at_supply


def test_no_promotion_means_no_promotion_in_breakdown() -> None:
    result = price_unit(book(), 1, NOON)
    assert result.promotion is None and result.quantity_break is None
    assert not result.capped_at_supply

"""Worked examples for the unit-price rules, with real numbers (fen)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.models import PromotionKind
from core.pricing.rules import (
    PriceBook,
    PromotionRule,
    QuantityBreakRule,
    floored_promotion,
    price_unit,
    useful_breaks,
)

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


# what a buyer is shown: the price without the promotion, breaks that save, the floor ------


@pytest.mark.parametrize(
    ("the_book", "quantity", "without_promotion", "unit", "promotion_saves", "break_saves"),
    [
        (book(), 1, 92_00, 92_00, False, False),
        (book(), 10, 91_08, 91_08, False, True),  # −1 %
        (
            book(promotions=(promo(fixed=88_00, kind=PromotionKind.FIXED_PRICE),)),
            1,
            92_00,
            88_00,
            True,
            False,
        ),
        # 88.00 beats the 10-unit break's 91.08: the break saves nothing
        (
            book(promotions=(promo(fixed=88_00, kind=PromotionKind.FIXED_PRICE),)),
            10,
            91_08,
            88_00,
            True,
            False,
        ),
        # 50 % off 92.00 = 46.00 is cut to the supply price 85.00
        (book(promotions=(promo(percent=5000),)), 1, 92_00, 85_00, True, False),
        # the break takes 92.00 below the floor already: neither saves anything
        (
            book(default_price=85_50, promotions=(promo(percent=5000),)),
            100,
            85_00,
            85_00,
            False,
            False,
        ),
    ],
)
def test_what_the_buyer_is_shown(
    the_book: PriceBook,
    quantity: int,
    without_promotion: int,
    unit: int,
    promotion_saves: bool,
    break_saves: bool,
) -> None:
    price = price_unit(the_book, quantity, NOON)
    assert (price.without_promotion, price.unit_price) == (without_promotion, unit)
    assert (price.promotion_saves, price.break_saves) == (promotion_saves, break_saves)


@pytest.mark.parametrize(
    ("the_book", "shown"),
    [
        (book(), [(10, 91_08), (100, 89_70)]),
        # a fixed 90.00 leaves only the 100-unit break (89.70) cheaper
        (book(promotions=(promo(fixed=90_00, kind=PromotionKind.FIXED_PRICE),)), [(100, 89_70)]),
        (book(promotions=(promo(fixed=80_00, kind=PromotionKind.FIXED_PRICE),)), []),
        # 100 units: 83.85, lifted to the floor 85.00, still below 86.00
        (book(default_price=86_00), [(10, 85_14), (100, 85_00)]),
        (book(default_price=85_00), []),  # at the floor: no break can lower it
    ],
)
def test_only_breaks_that_save_money_are_shown(
    the_book: PriceBook, shown: list[tuple[int, int]]
) -> None:
    assert [(r.min_quantity, unit) for r, unit in useful_breaks(the_book, NOON)] == shown


@pytest.mark.parametrize(
    ("the_book", "draft", "cut"),
    [
        (book(), promo(percent=1000), (92_00, 82_80, 85_00)),  # 82.80 < 85.00 → cut
        (book(), promo(percent=500), None),  # 87.40: above the floor, nothing cut
        (book(level_price=90_00), promo(percent=2000), (90_00, 72_00, 85_00)),
        (book(), promo(fixed=70_00, kind=PromotionKind.FIXED_PRICE), (92_00, 70_00, 85_00)),
        # for another level only: it does not touch this one
        (book(), promo(percent=2000, levels=frozenset({2})), None),
    ],
)
def test_the_floor_cut_of_a_promotion(
    the_book: PriceBook, draft: PromotionRule, cut: tuple[int, int, int] | None
) -> None:
    found = floored_promotion(the_book, draft, NOON)
    got = None if found is None else (found.without_promotion, found.promoted, found.unit_price)
    assert got == cut

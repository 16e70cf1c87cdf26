"""What Confirm and a quote decide, table by table, with real numbers (no database).

The seed's worked example (README "Commission ladder"): face 100.00, supply 85.00, sold at
92.00, spread 50/50, the default ladder: the supplier nets 85.84 a unit, the platform keeps
3.50 of spread and 2.66 of commission.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.decisions.refusal import Refusal
from core.decisions.sale import (
    Charge,
    Offer,
    QuoteContext,
    Requote,
    SaleContext,
    decide_quote,
    decide_sale,
    may_buy,
)
from core.errors import (
    InsufficientBalance,
    InvalidQuantity,
    NotRegistered,
    QuoteUsed,
    SkuNotForSale,
    UserBanned,
)
from core.models import PromotionKind, SkuStatus, StockKind, UserStatus
from core.pricing.rules import PriceBook, PromotionRule, QuantityBreakRule
from core.pricing.split import LadderTier, UnitSplit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NORMAL = (LadderTier(0, 300), LadderTier(1000, 200), LadderTier(10000, 100))
EXCLUSIVE = (LadderTier(0, 150), LadderTier(1000, 100), LadderTier(10000, 50))
SEED_BOOK = PriceBook(supply_price=85_00, default_price=92_00, level_id=1, level_price=None)

SALE = SaleContext(
    user_id=1,
    user_status=UserStatus.ACTIVE,
    is_admin=False,
    level_id=1,
    credit_limit=0,
    credit_blocked=None,
    balance=184_00,  # exactly two seed units
    quote_id="q1",
    quantity=2,
    unit_price=92_00,
    total=184_00,
    quote_live=True,
    quote_spent_by=None,
    sku_id=1,
    sku_code="STEAM-100",
    sku_name="Steam 100",
    sku_status=SkuStatus.ACTIVE,
    stock_kind=StockKind.UNIQUE,
    supplier_id=1,
    supplier_user_id=2,
    book=SEED_BOOK,
    ladder=NORMAL,
    commission_schedule="default",
    trailing_units=0,
    spread_supplier_bps=5000,
)


def _charge(rate_bps: int, supplier: int, spread: int, commission: int, **kw: int) -> Charge:
    fields = {
        "quantity": 2,
        "unit_price": 92_00,
        "total": 184_00,
        "buyer_floor": 0,
        "commission_tier": 0,
        **kw,
    }
    return Charge(commission_bps=rate_bps, split=UnitSplit(supplier, spread, commission), **fields)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # the seed's example, a newcomer supplier: 3 %, ⌈88.50 × 3 %⌉ = 2.66
        ({}, _charge(300, 85_84, 3_50, 2_66)),
        # the ladder decides from the trailing volume: the tier's bounds
        ({"trailing_units": 999}, _charge(300, 85_84, 3_50, 2_66)),
        ({"trailing_units": 1000}, _charge(200, 86_73, 3_50, 1_77, commission_tier=1000)),
        (
            {"trailing_units": 10_000},
            _charge(100, 87_61, 3_50, 89, commission_tier=10_000),
        ),  # ⌈0.885⌉ = 0.89
        # an exclusive SKU has its own, lower ladder
        ({"ladder": EXCLUSIVE}, _charge(150, 87_17, 3_50, 1_33)),  # ⌈1.3275⌉
        (
            {"ladder": EXCLUSIVE, "trailing_units": 1000},
            _charge(100, 87_61, 3_50, 89, commission_tier=1000),
        ),
        # no ladder at all: no commission
        ({"ladder": ()}, _charge(0, 88_50, 3_50, 0)),
        # an upstream's product: the upstream is owed its cost, 85.00, no more and no less;
        # no commission, the whole 7.00 spread is the platform's
        ({"upstream_sku_id": 7}, _charge(0, 85_00, 7_00, 0)),
        ({"upstream_sku_id": 7, "spread_supplier_bps": 7000}, _charge(0, 85_00, 7_00, 0)),
        # a 70/30 spread ratio: the supplier gets 4.90 of the 7.00
        ({"spread_supplier_bps": 7000}, _charge(300, 87_20, 2_10, 2_70)),  # ⌈2.697⌉ = 2.70
        # a credit line lets the buyer go down to minus it
        (
            {"credit_limit": 500_00, "balance": 0},
            _charge(300, 85_84, 3_50, 2_66, buyer_floor=-500_00),
        ),
        (
            {"credit_limit": 100_00, "balance": 84_00},
            _charge(300, 85_84, 3_50, 2_66, buyer_floor=-100_00),
        ),
        # an admin whose registration is pending still buys
        (
            {"user_status": UserStatus.PENDING, "is_admin": True},
            _charge(300, 85_84, 3_50, 2_66),
        ),
    ],
)
def test_a_sale_is_charged_and_split_by_the_ladder(
    change: dict[str, object], expected: Charge
) -> None:
    charge = decide_sale(replace(SALE, **change), NOW)  # type: ignore[arg-type]
    assert charge == expected
    assert isinstance(charge, Charge)
    # every fen of the total is somebody's
    assert charge.supplier_earning + charge.platform_spread + charge.platform_commission == (
        charge.total
    )


def test_the_seed_example_in_totals() -> None:
    charge = decide_sale(SALE, NOW)
    assert isinstance(charge, Charge)
    assert (charge.supplier_earning, charge.platform_spread, charge.platform_commission) == (
        171_68,
        7_00,
        5_32,
    )


@pytest.mark.parametrize(
    ("change", "error", "params"),
    [
        ({"quote_spent_by": 41}, QuoteUsed, {"order_id": 41}),
        ({"user_status": UserStatus.BANNED}, UserBanned, {}),
        ({"user_status": UserStatus.BANNED, "is_admin": True}, UserBanned, {}),
        ({"user_status": UserStatus.PENDING}, NotRegistered, {"status": "pending"}),
        ({"user_status": UserStatus.REJECTED}, NotRegistered, {"status": "rejected"}),
        (
            {"sku_status": SkuStatus.SUSPENDED},
            SkuNotForSale,
            {"sku": "STEAM-100", "status": "suspended"},
        ),
        # refusals come before a requote: an expired quote of a banned user is refused
        ({"user_status": UserStatus.BANNED, "quote_live": False}, UserBanned, {}),
        # one fen short, and short beside a credit line
        (
            {"balance": 183_99},
            InsufficientBalance,
            {"shortfall": 1, "spendable": 183_99, "needed": 184_00},
        ),
        (
            {"balance": 100_00, "credit_limit": 50_00},
            InsufficientBalance,
            {"shortfall": 34_00, "spendable": 150_00, "needed": 184_00},
        ),
        (
            {"balance": -20_00, "credit_limit": 100_00},
            InsufficientBalance,
            {"shortfall": 104_00, "spendable": 80_00, "needed": 184_00},
        ),
        # a spent quote is refused before anything else
        ({"quote_spent_by": 41, "user_status": UserStatus.BANNED}, QuoteUsed, {"order_id": 41}),
    ],
)
def test_a_sale_is_refused(
    change: dict[str, object], error: type[Exception], params: dict[str, object]
) -> None:
    refusal = decide_sale(replace(SALE, **change), NOW)  # type: ignore[arg-type]
    assert isinstance(refusal, Refusal)
    assert type(refusal.error) is error
    assert refusal.error.params == params


PROMOTION = PromotionRule(
    id=1,
    name="Double 11",
    kind=PromotionKind.PERCENT_OFF,
    starts_at=NOW - timedelta(days=1),
    ends_at=NOW + timedelta(hours=1),
    percent_off_bps=500,
)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"quote_live": False}, Requote("expired")),
        # a stale quote is requoted before the balance is looked at: the buyer sees the
        # fresh price and what he is short of
        ({"quote_live": False, "balance": 0}, Requote("expired")),
        # the level price moved to 90.00 since the quote said 92.00
        ({"book": replace(SEED_BOOK, level_price=90_00)}, Requote("changed")),
        # a promotion started since: 5 % off is 87.40, not the quoted 92.00
        ({"book": replace(SEED_BOOK, promotions=(PROMOTION,))}, Requote("changed")),
    ],
)
def test_a_stale_quote_is_requoted(change: dict[str, object], expected: Requote) -> None:
    assert decide_sale(replace(SALE, **change), NOW) == expected  # type: ignore[arg-type]


def test_a_quote_priced_by_a_live_promotion_is_charged_at_that_price() -> None:
    promoted = replace(
        SALE, book=replace(SEED_BOOK, promotions=(PROMOTION,)), unit_price=87_40, total=174_80
    )
    charge = decide_sale(promoted, NOW)
    # spread 2.40 → 1.20 each; gross 86.20; ⌈2.586⌉ = 2.59
    assert charge == _charge(300, 83_61, 1_20, 2_59, unit_price=87_40, total=174_80)
    # once the promotion has ended, the same quote is requoted
    assert decide_sale(promoted, PROMOTION.ends_at) == Requote("changed")


@pytest.mark.parametrize(
    ("user_status", "is_admin", "sku_status", "refused"),
    [
        (UserStatus.ACTIVE, False, SkuStatus.ACTIVE, None),
        (UserStatus.PENDING, True, SkuStatus.ACTIVE, None),
        (UserStatus.BANNED, False, SkuStatus.ACTIVE, UserBanned),
        (UserStatus.PENDING, False, SkuStatus.ACTIVE, NotRegistered),
        (UserStatus.REJECTED, False, SkuStatus.ACTIVE, NotRegistered),
        (UserStatus.ACTIVE, False, SkuStatus.PENDING_REVIEW, SkuNotForSale),
        (UserStatus.ACTIVE, True, SkuStatus.DRAFT, SkuNotForSale),
        (UserStatus.BANNED, False, SkuStatus.SUSPENDED, UserBanned),  # the user first
    ],
)
def test_may_buy(
    user_status: UserStatus,
    is_admin: bool,
    sku_status: SkuStatus,
    refused: type[Exception] | None,
) -> None:
    error = may_buy(user_status, is_admin, "STEAM-100", sku_status)
    assert (None if error is None else type(error)) is refused


QUOTE = QuoteContext(
    user_id=1,
    user_status=UserStatus.ACTIVE,
    is_admin=False,
    level_id=1,
    credit_limit=0,
    balance=500_00,
    sku_id=1,
    sku_code="STEAM-100",
    sku_name="Steam 100",
    sku_status=SkuStatus.ACTIVE,
    stock_kind=StockKind.UNIQUE,
    stock=40,
    book=SEED_BOOK,
)
BREAK_10 = QuantityBreakRule(min_quantity=10, discount_bps=500)


@pytest.mark.parametrize(
    ("change", "quantity", "unit_price", "total"),
    [
        ({}, 1, 92_00, 92_00),
        ({}, 3, 92_00, 276_00),
        # a gold reseller's level price
        ({"book": replace(SEED_BOOK, level_id=3, level_price=89_00)}, 2, 89_00, 178_00),
        # 5 % off from 10 units: 87.40
        ({"book": replace(SEED_BOOK, breaks=(BREAK_10,))}, 9, 92_00, 828_00),
        ({"book": replace(SEED_BOOK, breaks=(BREAK_10,))}, 10, 87_40, 874_00),
        # a fixed-price promotion below the supply price is floored at 85.00
        (
            {
                "book": replace(
                    SEED_BOOK,
                    promotions=(
                        replace(
                            PROMOTION,
                            kind=PromotionKind.FIXED_PRICE,
                            percent_off_bps=None,
                            fixed_price=80_00,
                        ),
                    ),
                )
            },
            1,
            85_00,
            85_00,
        ),
        ({}, 10_000, 92_00, 920_000_00),
    ],
)
def test_a_quote_is_priced(
    change: dict[str, object], quantity: int, unit_price: int, total: int
) -> None:
    offer = decide_quote(replace(QUOTE, **change), quantity, NOW)  # type: ignore[arg-type]
    assert isinstance(offer, Offer)
    assert (offer.price.unit_price, offer.total) == (unit_price, total)


@pytest.mark.parametrize(
    ("change", "quantity", "error"),
    [
        ({}, 0, InvalidQuantity),
        ({}, 10_001, InvalidQuantity),
        ({"user_status": UserStatus.BANNED}, 1, UserBanned),
        ({"user_status": UserStatus.PENDING}, 1, NotRegistered),
        ({"sku_status": SkuStatus.SUSPENDED}, 1, SkuNotForSale),
    ],
)
def test_a_quote_is_refused(
    change: dict[str, object], quantity: int, error: type[Exception]
) -> None:
    refusal = decide_quote(replace(QUOTE, **change), quantity, NOW)  # type: ignore[arg-type]
    assert isinstance(refusal, Refusal)
    assert type(refusal.error) is error


def test_cyclic_stock_has_no_limit_to_show() -> None:
    assert QUOTE.available == 40
    assert replace(QUOTE, stock_kind=StockKind.CYCLIC, stock=1).available is None

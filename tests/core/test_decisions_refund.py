"""What a refund decides, table by table, with real numbers (no database): which units,
the exact reversal of their split, and what becomes of their codes and of the order."""

from __future__ import annotations

import pytest

from core.decisions.refund import (
    ChargedLine,
    RefundContext,
    Reversal,
    TakeBack,
    code_status_after_refund,
    decide_refund,
    order_status_after_refund,
    reverse,
)
from core.decisions.refusal import Refusal
from core.errors import InvalidInput
from core.ledger import Posting, platform
from core.models import AccountKind, CodeStatus, OrderStatus, StockKind

# The seed's example sold at the newcomer's 3 %: 85.84 + 3.50 + 2.66 = 92.00 a unit.
SEED_LINE = ChargedLine(
    price=92_00, supplier_amount=85_84, platform_spread=3_50, platform_commission=2_66
)
# The same SKU sold later at the 2 % tier: 86.73 + 3.50 + 1.77.
TIER_2_LINE = ChargedLine(
    price=92_00, supplier_amount=86_73, platform_spread=3_50, platform_commission=1_77
)


def _order(*line_ids: int) -> RefundContext:
    return RefundContext(
        order_id=9,
        user_id=1,
        supplier_id=2,
        stock_kind=StockKind.UNIQUE,
        delivered_line_ids=line_ids,
    )


@pytest.mark.parametrize(
    ("delivered", "units", "take_back"),
    [
        ((33, 32, 31), None, (33, 32, 31)),  # all delivered ones, newest first
        ((33, 32, 31), 1, (33,)),
        ((33, 32), 2, (33, 32)),
    ],
)
def test_a_refund_takes_back_the_newest_delivered_units(
    delivered: tuple[int, ...], units: int | None, take_back: tuple[int, ...]
) -> None:
    decision = decide_refund(_order(*delivered), units)
    assert decision == TakeBack(take_back)
    assert isinstance(decision, TakeBack)
    assert decision.units == len(take_back)


@pytest.mark.parametrize(
    ("delivered", "units", "params"),
    [
        ((), None, {"field": "units", "value": 0, "refundable": 0}),  # all refunded already
        ((), 1, {"field": "units", "value": 1, "refundable": 0}),
        ((33,), 2, {"field": "units", "value": 2, "refundable": 1}),  # only one left
    ],
)
def test_a_refund_of_more_than_is_delivered_is_refused(
    delivered: tuple[int, ...], units: int | None, params: dict[str, object]
) -> None:
    refusal = decide_refund(_order(*delivered), units)
    assert isinstance(refusal, Refusal)
    assert isinstance(refusal.error, InvalidInput)
    assert refusal.error.params == params


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ([SEED_LINE], Reversal(92_00, 85_84, 3_50, 2_66)),
        ([SEED_LINE, SEED_LINE], Reversal(184_00, 171_68, 7_00, 5_32)),
        # lines of different sales keep their own splits, to the fen
        ([SEED_LINE, TIER_2_LINE], Reversal(184_00, 172_57, 7_00, 4_43)),
    ],
)
def test_a_refund_reverses_each_lines_split_exactly(
    lines: list[ChargedLine], expected: Reversal
) -> None:
    reversal = reverse(lines)
    assert reversal == expected
    postings = reversal.postings(user_id=1, supplier_id=2)
    assert sum(p.amount for p in postings) == 0
    assert postings == [
        Posting(AccountKind.RESELLER_BALANCE, 1, expected.to_buyer),
        Posting(AccountKind.SUPPLIER_PAYABLE, 2, -expected.from_supplier),
        platform(AccountKind.PLATFORM_SPREAD, -expected.from_platform_spread),
        platform(AccountKind.PLATFORM_COMMISSION, -expected.from_platform_commission),
    ]


@pytest.mark.parametrize(
    ("stock_kind", "code_status"),
    [(StockKind.UNIQUE, CodeStatus.VOIDED), (StockKind.CYCLIC, None)],
)
def test_a_refunded_unique_code_is_voided_and_a_cyclic_one_left_alone(
    stock_kind: StockKind, code_status: CodeStatus | None
) -> None:
    assert code_status_after_refund(stock_kind) is code_status


@pytest.mark.parametrize(
    ("delivered_left", "status"),
    [(0, OrderStatus.REFUNDED), (1, OrderStatus.PARTLY_REFUNDED), (5, OrderStatus.PARTLY_REFUNDED)],
)
def test_the_order_is_refunded_once_no_unit_is_left(
    delivered_left: int, status: OrderStatus
) -> None:
    assert order_status_after_refund(delivered_left) is status

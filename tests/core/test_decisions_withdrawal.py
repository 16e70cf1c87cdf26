"""How much a supplier may ask to be paid, and how far a reseller may spend: tables with
real numbers (no database)."""

from __future__ import annotations

import pytest

from core.decisions.balance import reseller_floor, shortfall
from core.decisions.refusal import Refusal
from core.decisions.withdrawal import (
    Ask,
    PayableContext,
    decide_withdrawal_request,
    withdrawable,
)
from core.errors import InsufficientPayable


@pytest.mark.parametrize(
    ("payable", "pending", "amount"),
    [
        (171_68, 0, 171_68),  # two seed sales' earnings, all of it
        (171_68, 100_00, 71_68),  # what is left beside a waiting request
        (171_68, 0, 1),
    ],
)
def test_a_supplier_may_ask_for_what_he_has_not_asked_for_yet(
    payable: int, pending: int, amount: int
) -> None:
    ctx = PayableContext(supplier_id=2, payable=payable, pending=pending)
    assert decide_withdrawal_request(ctx, amount) == Ask(amount)


@pytest.mark.parametrize(
    ("payable", "pending", "amount", "params"),
    [
        (171_68, 0, 171_69, {"shortfall": 1, "available": 171_68, "needed": 171_69}),
        (171_68, 100_00, 80_00, {"shortfall": 8_32, "available": 71_68, "needed": 80_00}),
        # a refund took back 92.00 after he asked for 100.00: nothing is available, and
        # the shortfall counts what he is already over
        (85_84, 100_00, 10_00, {"shortfall": 24_16, "available": 0, "needed": 10_00}),
    ],
)
def test_a_request_over_the_unrequested_payable_is_refused(
    payable: int, pending: int, amount: int, params: dict[str, int]
) -> None:
    ctx = PayableContext(supplier_id=2, payable=payable, pending=pending)
    refusal = decide_withdrawal_request(ctx, amount)
    assert isinstance(refusal, Refusal)
    assert isinstance(refusal.error, InsufficientPayable)
    assert refusal.error.params == params


@pytest.mark.parametrize(
    ("payable", "pending", "available"),
    [(171_68, 0, 171_68), (171_68, 100_00, 71_68), (85_84, 100_00, 0)],
)
def test_withdrawable(payable: int, pending: int, available: int) -> None:
    assert withdrawable(payable, pending) == available


@pytest.mark.parametrize(
    ("balance", "credit_limit", "amount", "missing"),
    [
        (184_00, 0, 184_00, 0),  # two seed units, exactly covered
        (100_00, 0, 184_00, 84_00),
        (100_00, 100_00, 184_00, 0),  # the credit line covers the rest
        (100_00, 50_00, 184_00, 34_00),
        (-20_00, 100_00, 92_00, 12_00),  # already on credit
    ],
)
def test_a_reseller_may_spend_down_to_minus_his_credit_line(
    balance: int, credit_limit: int, amount: int, missing: int
) -> None:
    assert reseller_floor(credit_limit) == -credit_limit
    assert shortfall(balance, credit_limit, amount) == missing

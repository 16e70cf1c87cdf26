"""The exchange rates admins set (USDT, Telegram Stars), one rule: worked examples with
real numbers. Rates are minor units of the deployment's currency per 1 USDT or per star."""

from __future__ import annotations

import pytest

from core.decisions.rates import (
    STARS_RANGES,
    USDT_RANGES,
    RateAccepted,
    RateDecision,
    RateOutOfRange,
    RateToConfirm,
    decide_rate_change,
    rate_refusal,
)

CNY_USDT = USDT_RANGES["CNY"]
CNY_STARS = STARS_RANGES["CNY"]


@pytest.mark.parametrize(
    ("current", "new", "sane_range", "decision"),
    [
        # USDT in a CNY shop: 1 USDT ≈ ¥7.25
        (None, 725, CNY_USDT, RateAccepted()),  # the first rate: nothing to compare with
        (None, 7250, CNY_USDT, RateOutOfRange(5_00, 10_00)),  # 72.50 for 7.25: a slipped point
        (725, 72, CNY_USDT, RateOutOfRange(5_00, 10_00)),  # 0.72: the other way
        (None, 1000, CNY_USDT, RateAccepted()),  # the range's ends are in it
        (None, 1001, CNY_USDT, RateOutOfRange(5_00, 10_00)),
        (725, 730, CNY_USDT, RateAccepted()),  # a day's move
        (725, 870, CNY_USDT, RateAccepted()),  # exactly 20% up: no question asked
        (725, 871, CNY_USDT, RateToConfirm(2013)),  # just over 20%: the admin confirms
        (725, 580, CNY_USDT, RateAccepted()),  # exactly 20% down
        (725, 579, CNY_USDT, RateToConfirm(2013)),
        (99, 100, USDT_RANGES["USD"], RateAccepted()),  # a dollar shop: about 1.00
        (None, 725, USDT_RANGES["USD"], RateOutOfRange(80, 1_20)),  # a CNY rate, USD shop
        (None, 9_200, None, RateAccepted()),  # no range known (RUB): any first rate
        (9_200, 18_400, None, RateToConfirm(10_000)),  # but a doubling is confirmed
        # Telegram Stars in a CNY shop: 1 ⭐ ≈ ¥0.10
        (None, 20, CNY_STARS, RateAccepted()),
        (20, 200, CNY_STARS, RateOutOfRange(3, 30)),  # 200 fen for 20: ten times the credit
        (20, 2, CNY_STARS, RateOutOfRange(3, 30)),  # 2 for 20: a tenth
        (20, 24, CNY_STARS, RateAccepted()),  # 20% up
        (20, 25, CNY_STARS, RateToConfirm(2500)),  # 25%: asked
        (10, 30, CNY_STARS, RateToConfirm(20_000)),  # the top of the range, tripled: asked
        (None, 2, STARS_RANGES["USD"], RateAccepted()),  # a dollar shop: 1.3 cents a star
        (2, 20, STARS_RANGES["USD"], RateOutOfRange(1, 4)),  # 20 cents for 2
    ],
)
def test_a_rate_is_refused_out_of_its_range_and_confirmed_when_it_jumps(
    current: int | None, new: int, sane_range: tuple[int, int] | None, decision: RateDecision
) -> None:
    assert decide_rate_change(current, new, sane_range) == decision


@pytest.mark.parametrize(
    ("of", "current", "new", "currency", "confirmed", "replacing", "reason"),
    [
        ("stars", 20, 22, "CNY", False, None, None),  # set
        ("stars", 20, 200, "cny", True, None, "range"),  # a yes does not make a typo sane
        ("stars", 20, 25, "CNY", False, None, "confirm"),
        ("stars", 20, 25, "CNY", True, 20, None),  # confirmed while 20 is still in force
        ("stars", 25, 25, "CNY", True, 20, "changed"),  # his second press: 25 already set
        ("stars", 10, 25, "CNY", True, 20, "changed"),  # another admin set 10 meanwhile
        ("usdt", 725, 900, "CNY", False, None, "confirm"),
        ("usdt", 725, 900, "CNY", True, 725, None),
        ("usdt", None, 725, "USD", False, None, "range"),  # the CNY demo rate in a USD shop
        ("usdt", None, 9_200, "RUB", False, None, None),
        ("stars", None, 150, "RUB", False, None, None),  # no range known: the first rate goes
    ],
)
def test_one_rule_refuses_a_rate_change_for_both_rates(
    of: str,
    current: int | None,
    new: int,
    currency: str,
    confirmed: bool,
    replacing: int | None,
    reason: str | None,
) -> None:
    refused = rate_refusal(
        of, new, current, currency=currency, confirmed=confirmed, replacing=replacing
    )
    assert (None if refused is None else refused.params["reason"]) == reason
    if refused is not None:
        assert refused.params["of"] == of and refused.params["rate"] == new

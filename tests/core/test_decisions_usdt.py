"""USDT (TRC20) amounts and matching: worked examples with real numbers (no database).

Rates are fen per 1 USDT (7.25 CNY = 725); amounts are USDT's smallest unit (6 decimals).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.decisions.usdt import (
    ChainRules,
    Credit,
    Mismatched,
    NotOurs,
    OpenPayment,
    RateAccepted,
    RateDecision,
    RateOutOfRange,
    RateToConfirm,
    Transfer,
    Unconfirmed,
    decide_rate,
    decide_transfer,
    format_units,
    nominal_units,
    payable_units,
)

USDT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"  # the USDT contract on TRON mainnet
FAKE_USDT = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"  # a token calling itself USDT
OURS = "TJmmqjb1DK9TTZbQXzRQ2AuA94z4gKAPFh"
THEIRS = "TLCuBEirVzB6V4menLZKw1jfBTFMZbuKq7"
RULES = ChainRules(OURS, USDT, confirmations=19, grace=timedelta(minutes=30))
T0 = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fen", "rate", "units"),
    [
        (100_00, 725, 13_800_000),  # 100.00 CNY at 7.25 = 13.7931… → 13.80 USDT
        (725_00, 725, 100_000_000),  # exactly 100 USDT, nothing rounded
        (1, 725, 10_000),  # one fen still asks for a whole cent of USDT
        (50_00, 700, 7_150_000),  # 7.142857… → 7.15
        (1000_00, 1, 100_000_000_000),  # a silly rate stays exact in integers
    ],
)
def test_fen_become_usdt_rounded_up_to_a_cent(fen: int, rate: int, units: int) -> None:
    assert nominal_units(fen, rate) == units


@pytest.mark.parametrize(("fen", "rate"), [(0, 725), (-1, 725), (100, 0)])
def test_no_nominal_amount_for_nothing_or_a_zero_rate(fen: int, rate: int) -> None:
    with pytest.raises(ValueError):
        nominal_units(fen, rate)


@pytest.mark.parametrize(
    ("nominal", "taken", "payable"),
    [
        (12_340_000, set(), 12_341_000),  # the first payment: 12.341000
        (12_340_000, {12_341_000}, 12_342_000),  # a second one at once
        (12_340_000, {12_341_000, 12_343_000}, 12_342_000),  # a gap is reused
        (12_340_000, {12_350_000}, 12_341_000),  # 12.35 + 0.001 is another nominal's
    ],
)
def test_each_open_payment_expects_its_own_amount(
    nominal: int, taken: set[int], payable: int
) -> None:
    assert payable_units(nominal, taken) == payable


def test_no_amount_left_when_every_slot_is_taken() -> None:
    taken = {12_340_000 + k * 1_000 for k in range(1, 4)}
    assert payable_units(12_340_000, taken, slots=3) is None


@pytest.mark.parametrize(
    ("units", "text"), [(12_347_000, "12.347000"), (1, "0.000001"), (100_000_000, "100.000000")]
)
def test_amounts_are_shown_with_all_six_decimals(units: int, text: str) -> None:
    assert format_units(units) == text


def _transfer(amount: int = 12_347_000, **changes: object) -> Transfer:
    fields: dict[str, object] = {
        "tx_id": "a" * 64,
        "to_address": OURS,
        "contract": USDT,
        "amount": amount,
        "paid_at": T0 + timedelta(minutes=5),
        "block": 1_000,
    }
    fields.update(changes)
    return Transfer(**fields)  # type: ignore[arg-type]


PAYMENT = OpenPayment("pay-1", 12_347_000, T0, T0 + timedelta(minutes=30))
OTHER = OpenPayment("pay-2", 12_348_000, T0, T0 + timedelta(minutes=30))


@pytest.mark.parametrize(
    ("transfer", "latest", "decision"),
    [
        (_transfer(), 1_019, Credit("pay-1", late=False)),  # exact, 19 blocks on top
        (_transfer(12_348_000), 1_100, Credit("pay-2", late=False)),  # the other one's
        (_transfer(), 1_018, Unconfirmed(18, 19)),  # one block short
        (_transfer(block=None), 1_018, Unconfirmed(0, 19)),  # not mined yet
        (_transfer(to_address=THEIRS), 1_100, NotOurs("address")),
        (_transfer(contract=FAKE_USDT), 1_100, NotOurs("contract")),
        (_transfer(succeeded=False), 1_100, NotOurs("failed")),
        (_transfer(12_346_000), 1_100, Mismatched("amount")),  # 0.001 short
        (_transfer(12_347_001), 1_100, Mismatched("amount")),  # one unit over
        # paid 10 minutes after expiry: within the 30 minutes' grace
        (_transfer(paid_at=T0 + timedelta(minutes=40)), 1_100, Credit("pay-1", late=True)),
        # paid exactly at the end of the grace: still credited
        (_transfer(paid_at=T0 + timedelta(minutes=60)), 1_100, Credit("pay-1", late=True)),
        # a second after the grace: kept for admins, naming the payment it was late for
        (
            _transfer(paid_at=T0 + timedelta(minutes=60, seconds=1)),
            1_100,
            Mismatched("late", "pay-1"),
        ),
        # sent before the payment existed: not for it
        (_transfer(paid_at=T0 - timedelta(seconds=1)), 1_100, Mismatched("amount")),
    ],
)
def test_a_transfer_pays_the_payment_that_expects_its_exact_amount(
    transfer: Transfer, latest: int, decision: object
) -> None:
    assert decide_transfer(transfer, latest, [PAYMENT, OTHER], RULES) == decision


def test_a_late_transfer_pays_the_payment_whose_window_it_falls_in() -> None:
    # an expired payment and a newer one expecting the same amount (the old one's grace
    # is over, so its amount was free again): the transfer pays the newer one
    old = OpenPayment("old", 12_347_000, T0 - timedelta(hours=2), T0 - timedelta(hours=1))
    new = OpenPayment("new", 12_347_000, T0, T0 + timedelta(minutes=30))
    assert decide_transfer(_transfer(), 1_100, [old, new], RULES) == Credit("new", late=False)


@pytest.mark.parametrize(
    ("units", "rate", "fen"),
    [
        (13_801_000, 725, 100_05),  # 13.801 USDT at 7.25 = 100.05725 → 100.05
        (13_793_103, 725, 99_99),  # 99.9999… → 99.99: never more than arrived
        (1, 725, 0),  # a millionth of a USDT is worth no fen
        (100_000_000, 725, 725_00),
    ],
)
def test_usdt_are_worth_fen_rounded_down(units: int, rate: int, fen: int) -> None:
    from core.decisions.usdt import fen_for_units

    assert fen_for_units(units, rate) == fen


@pytest.mark.parametrize(
    ("new", "current", "currency", "decision"),
    [
        (725, None, "CNY", RateAccepted()),  # the first rate: nothing to compare with
        (7250, None, "CNY", RateOutOfRange(5_00, 10_00)),  # 72.50 for 7.25: a slipped point
        (72, 725, "CNY", RateOutOfRange(5_00, 10_00)),  # 0.72: the other way
        (1000, None, "CNY", RateAccepted()),  # the range's ends are in it
        (1001, None, "cny", RateOutOfRange(5_00, 10_00)),  # the setting's case does not matter
        (730, 725, "CNY", RateAccepted()),  # a day's move
        (870, 725, "CNY", RateAccepted()),  # exactly 20% up: no question asked
        (871, 725, "CNY", RateToConfirm(2013)),  # just over 20%: the admin confirms
        (580, 725, "CNY", RateAccepted()),  # exactly 20% down
        (579, 725, "CNY", RateToConfirm(2013)),
        (100, 99, "USD", RateAccepted()),  # a dollar deployment: about 1.00
        (725, None, "USD", RateOutOfRange(80, 1_20)),  # a CNY rate typed into a USD shop
        (785, 780, "HKD", RateAccepted()),
        (9_200, None, "RUB", RateAccepted()),  # no range known: any first rate
        (18_400, 9_200, "RUB", RateToConfirm(10_000)),  # but a doubling is confirmed
    ],
)
def test_an_exchange_rate_is_refused_out_of_range_and_confirmed_when_it_jumps(
    new: int, current: int | None, currency: str, decision: RateDecision
) -> None:
    assert decide_rate(new, current, currency) == decision

"""The rules of orders delivered later, by worked examples: the account a direct top-up is
for, the states an order moves through, what the end of a fulfilment pays whom."""

from __future__ import annotations

import pytest

from core.decisions.fulfilment import (
    AccountField,
    CheckedAccount,
    KeepAsking,
    LateAnswer,
    LateDelivery,
    Settlement,
    StopAsking,
    UpstreamCost,
    check_account,
    check_value,
    decide_late_answer,
    decide_settlement,
    decide_upstream_cost,
    fields_from_json,
    fields_to_json,
    next_state,
    parse_field,
    stock_unit,
)
from core.decisions.refund import ChargedLine
from core.decisions.refusal import Refusal
from core.errors import InvalidAccount, InvalidInput, InvalidQuantity, OrderFinished
from core.models import AccountKind, OrderStatus

PHONE = parse_field("phone:Phone number:手机号:1[3-9]\\d{9}")
UID = parse_field("uid:Game UID:游戏UID:\\d{6,12}")
SERVER = parse_field("server:Server:区服:(asia|eu|us)")
GAME = (UID, SERVER)
NOTE = AccountField("note", r"\S.*", "Note", "备注", required=False)
ZONE = AccountField("zone", "[0-9]{1,4}", "Zone", "区服", required=False)


@pytest.mark.parametrize(
    ("fields", "values", "expected"),
    [
        ((PHONE,), {"phone": "13800138000"}, {"phone": "13800138000"}),
        ((PHONE,), {"phone": "  13800138000 "}, {"phone": "13800138000"}),  # trimmed
        (GAME, {"uid": "123456", "server": "asia"}, {"uid": "123456", "server": "asia"}),
        ((PHONE,), {"phone": "12800138000"}, ("phone", "pattern")),  # no 12x numbers
        ((PHONE,), {"phone": "138001380001"}, ("phone", "pattern")),  # matched whole
        ((PHONE,), {"phone": "1380013800a"}, ("phone", "pattern")),
        ((PHONE,), {}, ("phone", "missing")),
        ((PHONE,), {"phone": "   "}, ("phone", "missing")),
        ((PHONE,), {"phone": 13800138000}, ("phone", "missing")),  # not a string
        (GAME, {"uid": "123456"}, ("server", "missing")),
        (GAME, {"uid": "12345", "server": "asia"}, ("uid", "pattern")),  # too short
        (GAME, {"uid": "123456", "server": "mars"}, ("server", "pattern")),
        ((PHONE,), {"phone": "13800138000", "pin": "1"}, ("pin", "unknown")),
        ((UID,), {"uid": "1" * 65}, ("uid", "pattern")),  # longer than any account
        # an optional field may be left out (absent or blank); given, it is checked
        ((UID, NOTE), {"uid": "123456"}, {"uid": "123456"}),
        ((UID, NOTE), {"uid": "123456", "note": "  "}, {"uid": "123456"}),
        ((UID, NOTE), {"uid": "123456", "note": " vip "}, {"uid": "123456", "note": "vip"}),
        ((UID, NOTE), {"note": "vip"}, ("uid", "missing")),  # the required one still is
        ((UID, ZONE), {"uid": "123456", "zone": "asia"}, ("zone", "pattern")),
    ],
)
def test_an_account_is_checked_against_the_skus_fields(
    fields: tuple, values: dict, expected: dict | tuple
) -> None:
    result = check_account(fields, values)
    if isinstance(expected, dict):
        assert result == CheckedAccount(expected)
    else:
        assert isinstance(result, Refusal) and isinstance(result.error, InvalidAccount)
        assert (result.error.params["field"], result.error.params["reason"]) == expected


@pytest.mark.parametrize(
    ("field", "typed", "expected"),
    [
        (UID, " 123456 ", "123456"),
        (UID, "abc", ("pattern", "Game UID", "游戏UID")),
        (UID, "", ("missing", "Game UID", "游戏UID")),
        (NOTE, "", None),  # optional: left out
        (ZONE, "x", ("pattern", "Zone", "区服")),
    ],
)
def test_each_value_is_checked_as_it_is_typed_and_a_refusal_names_the_field(
    field: AccountField, typed: str, expected: str | tuple | None
) -> None:
    """What the bot checks per field is the rule the sale applies to the whole account."""
    result = check_value(field, typed)
    if not isinstance(expected, tuple):
        assert result == expected
        return
    assert isinstance(result, Refusal) and isinstance(result.error, InvalidAccount)
    params = result.error.params
    assert (params["reason"], params["label_en"], params["label_zh"]) == expected
    assert params["field"] == field.name


def test_a_field_stored_before_optional_fields_is_required() -> None:
    stored = '[{"name": "uid", "pattern": "[0-9]+", "label_en": "UID", "label_zh": "UID"}]'
    assert fields_from_json(stored)[0].required
    assert fields_from_json(fields_to_json((NOTE,))) == (NOTE,)


@pytest.mark.parametrize(
    "spec",
    [
        "phone:Phone::1\\d{10}",  # no Chinese label
        "Phone:Phone:手机号:1\\d{10}",  # a name is lower case
        "phone:Phone:手机号:1[",  # not a pattern
        "phone:Phone",  # four parts
    ],
)
def test_a_field_spec_that_cannot_be_used_is_refused(spec: str) -> None:
    with pytest.raises(InvalidInput):
        parse_field(spec)


def test_a_name_ending_in_a_question_mark_is_an_optional_field() -> None:
    note = parse_field("note?:Note:备注:\\S.*")
    assert (note.name, note.required) == ("note", False)
    assert parse_field("note:Note:备注:\\S.*").required
    with pytest.raises(InvalidInput):
        parse_field("no?te:Note:备注:.+")


def test_a_pattern_may_hold_colons() -> None:
    assert parse_field("t:Time:时间:\\d\\d:\\d\\d").pattern == "\\d\\d:\\d\\d"


S = OrderStatus


@pytest.mark.parametrize(
    ("current", "wanted", "expected"),
    [
        (S.PENDING, S.FULFILLING, S.FULFILLING),
        (S.PENDING, S.FAILED, S.FAILED),  # failed before anyone took it (the deadline)
        (S.FULFILLING, S.DELIVERED, S.DELIVERED),
        (S.FULFILLING, S.PARTIALLY_DELIVERED, S.PARTIALLY_DELIVERED),
        (S.FULFILLING, S.FAILED, S.FAILED),
        (S.FULFILLING, S.PENDING, InvalidInput),  # never back
        (S.DELIVERED, S.FAILED, OrderFinished),  # an ended order never changes
        (S.FAILED, S.DELIVERED, OrderFinished),
        (S.PARTIALLY_DELIVERED, S.DELIVERED, OrderFinished),
        (S.PAID, S.DELIVERED, OrderFinished),  # an order of codes was never fulfilled later
    ],
)
def test_the_states_an_order_moves_through(
    current: OrderStatus, wanted: OrderStatus, expected: object
) -> None:
    result = next_state(current, wanted)
    if isinstance(expected, OrderStatus):
        assert result == expected
    else:
        assert isinstance(result, Refusal) and type(result.error) is expected


# 49.50 a unit: 47.95 to the supplier, 0.50 spread, 1.05 commission (as charged)
UNIT = ChargedLine(price=49_50, supplier_amount=47_95, platform_spread=50, platform_commission=1_05)


@pytest.mark.parametrize(
    ("quantity", "delivered", "status", "supplier", "spread", "commission", "back"),
    [
        (1, 1, S.DELIVERED, 47_95, 50, 1_05, 0),
        (3, 3, S.DELIVERED, 143_85, 1_50, 3_15, 0),
        (1, 0, S.FAILED, 0, 0, 0, 49_50),  # everything back
        (3, 0, S.FAILED, 0, 0, 0, 148_50),
        (3, 2, S.PARTIALLY_DELIVERED, 95_90, 1_00, 2_10, 49_50),  # one unit back
        (10, 1, S.PARTIALLY_DELIVERED, 47_95, 50, 1_05, 445_50),
    ],
)
def test_the_end_of_a_fulfilment_releases_the_hold_exactly(
    quantity: int,
    delivered: int,
    status: OrderStatus,
    supplier: int,
    spread: int,
    commission: int,
    back: int,
) -> None:
    settlement = decide_settlement(quantity, UNIT, delivered)
    assert isinstance(settlement, Settlement)
    assert settlement.status is status
    assert (settlement.to_supplier, settlement.to_spread, settlement.to_commission) == (
        supplier,
        spread,
        commission,
    )
    assert settlement.to_buyer == back
    postings = settlement.postings(user_id=7, supplier_id=3)
    assert sum(p.amount for p in postings) == 0  # the hold is released to the fen
    assert (
        postings[0].kind is AccountKind.FULFILMENT_HOLD and postings[0].amount == -quantity * 49_50
    )
    assert all(p.amount for p in postings)  # nothing posted for nobody


# a sale of an upstream's SKU hands out our late stock first: those codes' cost was paid
# to the upstream's payable (from the spread) when they came, so their supplier part
# (47.95) goes to the spread, never to the upstream again
@pytest.mark.parametrize(
    ("quantity", "delivered", "from_stock", "status", "supplier", "spread", "back"),
    [
        (3, 3, 0, S.DELIVERED, 143_85, 1_50, 0),  # none from stock: as before
        (1, 1, 1, S.DELIVERED, 0, 48_45, 0),  # all from stock: nothing to the upstream
        (3, 3, 3, S.DELIVERED, 0, 145_35, 0),
        (3, 3, 1, S.DELIVERED, 95_90, 49_45, 0),  # mixed: 1 stocked, 2 bought
        (3, 1, 1, S.PARTIALLY_DELIVERED, 0, 48_45, 99_00),  # upstream failed the 2 bought
        (3, 2, 1, S.PARTIALLY_DELIVERED, 47_95, 48_95, 49_50),
    ],
)
def test_units_from_late_stock_pay_the_spread_not_the_upstream(
    quantity: int,
    delivered: int,
    from_stock: int,
    status: OrderStatus,
    supplier: int,
    spread: int,
    back: int,
) -> None:
    settlement = decide_settlement(quantity, UNIT, delivered, from_stock)
    assert isinstance(settlement, Settlement)
    assert settlement.status is status
    assert (settlement.to_supplier, settlement.to_spread) == (supplier, spread)
    assert settlement.to_commission == delivered * 1_05  # commission as charged
    assert settlement.to_buyer == back
    assert settlement.bought == delivered - from_stock
    assert sum(p.amount for p in settlement.postings(user_id=7, supplier_id=3)) == 0


def test_a_unit_from_late_stock_keeps_its_price_and_commission() -> None:
    assert stock_unit(UNIT) == ChargedLine(
        price=49_50, supplier_amount=0, platform_spread=48_45, platform_commission=1_05
    )


@pytest.mark.parametrize(("delivered", "from_stock"), [(1, 2), (3, -1)])
def test_no_more_units_come_from_stock_than_were_delivered(delivered: int, from_stock: int) -> None:
    result = decide_settlement(3, UNIT, delivered, from_stock)
    assert isinstance(result, Refusal) and isinstance(result.error, InvalidQuantity)


@pytest.mark.parametrize("delivered", [-1, 4])
def test_no_more_units_are_delivered_than_were_bought(delivered: int) -> None:
    result = decide_settlement(3, UNIT, delivered)
    assert isinstance(result, Refusal) and isinstance(result.error, InvalidQuantity)


# an upstream is owed exactly what it charged: 3 units synced at 92.00 each (276.00 owed)
@pytest.mark.parametrize(
    ("owed", "delivered", "charged", "to_payable"),
    [
        (3 * 92_00, 3, 3 * 95_00, 9_00),  # dearer there after our quote: we absorb it
        (3 * 92_00, 3, 3 * 90_00, -6_00),  # cheaper: the platform keeps the drop
        (3 * 92_00, 3, 3 * 92_00, None),  # as synced: nothing to move
        (2 * 92_00, 2, 2 * 95_00, 6_00),  # 2 of 3 delivered, charged for those 2
        (2 * 92_00, 2, 2 * 92_00, None),  # 2 of 3 at the synced price
        (0, 0, 0, None),  # nothing delivered: nothing owed, nothing moved
        (0, 0, 3 * 95_00, None),  # nothing delivered, whatever it says
        (3 * 92_00, 3, None, None),  # it does not say what it charged: the synced price
        (3 * 92_00, 3, -1, None),  # an impossible charge is not believed
        (92_00, 1, 0, -92_00),  # it charged nothing (a free unit): owed nothing
    ],
)
def test_an_upstreams_payable_ends_at_what_it_charged(
    owed: int, delivered: int, charged: int | None, to_payable: int | None
) -> None:
    cost = decide_upstream_cost(owed, delivered, charged)
    if to_payable is None:
        assert cost is None
        return
    assert isinstance(cost, UpstreamCost) and cost.difference == to_payable
    payable, spread = cost.postings(supplier_id=3)
    assert (payable.kind, payable.owner_id, payable.amount) == (
        AccountKind.SUPPLIER_PAYABLE,
        3,
        to_payable,
    )
    assert spread.kind is AccountKind.PLATFORM_SPREAD and spread.amount == -to_payable
    assert owed + payable.amount == charged  # the payable ends at exactly the charge


# an upstream's answer after our deadline ended the order (the reseller refunded):
# 3 units synced at 92.00 each
@pytest.mark.parametrize(
    ("final", "units", "codes", "charged", "given_up", "expected"),
    [
        (False, 0, 0, None, False, KeepAsking()),  # still processing there: ask again
        (False, 1, 0, 3 * 92_00, False, KeepAsking()),  # 1 of 3 so far: not its last word
        (False, 0, 0, None, True, StopAsking("given up")),  # asked for long enough
        (True, 0, 0, None, False, StopAsking("nothing delivered")),  # failed there
        (True, 0, 0, 0, True, StopAsking("nothing delivered")),
        (True, 3, 3, 3 * 92_00, False, LateDelivery(3, 3 * 92_00, stock=True)),  # codes
        (True, 3, 3, 3 * 95_00, False, LateDelivery(3, 3 * 95_00, stock=True)),  # dearer
        (True, 2, 2, None, False, LateDelivery(2, 2 * 92_00, stock=True)),  # cost not said
        (True, 2, 2, -1, False, LateDelivery(2, 2 * 92_00, stock=True)),  # not believed
        (True, 3, 0, 3 * 92_00, False, LateDelivery(3, 3 * 92_00, stock=False)),  # top-up
        (True, 1, 0, None, True, LateDelivery(1, 92_00, stock=False)),  # its final word
    ],
)
def test_an_upstreams_answer_after_we_ended_the_order(
    final: bool,
    units: int,
    codes: int,
    charged: int | None,
    given_up: bool,
    expected: LateAnswer,
) -> None:
    assert decide_late_answer(final, units, codes, charged, 92_00, given_up) == expected


def test_a_late_delivery_is_owed_the_upstream_against_the_platforms_spread() -> None:
    payable, spread = LateDelivery(2, 190_00, stock=True).postings(supplier_id=3)
    assert (payable.kind, payable.owner_id, payable.amount) == (
        AccountKind.SUPPLIER_PAYABLE,
        3,
        190_00,
    )
    assert (spread.kind, spread.amount) == (AccountKind.PLATFORM_SPREAD, -190_00)

"""Random sequences of top-ups, purchases, refunds and withdrawals keep the books exact."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.checks import check_ledger
from core.errors import InsufficientPayable, KamengError
from core.models import StockKind
from core.orders import Receipt
from core.platform import Platform
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLERS = (101, 102, 103)
_keys = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), st.sampled_from(RESELLERS), st.integers(1, 300_00)),
        st.tuples(st.just("buy"), st.sampled_from(RESELLERS), st.integers(1, 4)),
        st.tuples(st.just("refund"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("withdraw"), st.just(SUPPLIER_TID), st.integers(1, 200_00)),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
async def test_every_step_leaves_the_ledger_balanced(
    platform: Platform, ops: list[tuple[object, ...]]
) -> None:
    if await _is_new(platform):
        await make_sku(platform, stock=400)
        await make_sku(
            platform,
            "CYCLIC-1",
            stock=1,
            stock_kind=StockKind.CYCLIC,
            price=10_00,
            supply_price=9_00,
        )
        for telegram_id in RESELLERS:
            await make_reseller(platform, telegram_id)
    orders: list[int] = []
    for op in ops:
        try:
            await _apply(platform, op, orders)
        except KamengError:
            pass  # a refusal must leave nothing behind; the check below proves it
        report = await check_ledger(platform.db)
        assert report.ok, f"after {op}: {report.render()}"
    total = 0
    for telegram_id in RESELLERS:
        total += (await platform.balances.balance(telegram_id)).balance
    assert total >= 0


async def _is_new(platform: Platform) -> bool:
    try:
        await platform.catalogue.sku("STEAM-100")
    except KamengError:
        return True
    return False


async def _apply(platform: Platform, op: tuple[Any, ...], orders: list[int]) -> None:
    kind = op[0]
    key = f"k{next(_keys)}"
    if kind == "top_up":
        await platform.balances.top_up(op[1], op[2], idempotency_key=key, note="t", actor=ADMIN)
    elif kind == "buy":
        sku = "CYCLIC-1" if op[2] == 4 else "STEAM-100"
        quote = await platform.quotes.quote(op[1], sku, op[2])
        receipt = await platform.shop.buy(op[1], quote.id)
        assert isinstance(receipt, Receipt)
        orders.append(receipt.order_id)
    elif kind == "refund" and orders:
        order_id = orders[op[1] % len(orders)]
        await platform.shop.refund(
            order_id, units=1, restock=op[2], idempotency_key=key, actor=ADMIN
        )
    elif kind == "withdraw":
        try:
            await platform.balances.withdraw(op[1], op[2], idempotency_key=key, actor=ADMIN)
        except InsufficientPayable:
            pass

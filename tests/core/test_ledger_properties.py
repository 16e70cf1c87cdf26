"""Random sequences of top-ups, purchases, refunds (some then restocked: their codes are
sold again) and withdrawals keep the books exact.

Refunds take 1-3 units or the rest of an order (so partly refunded orders are refunded
again), and a "race" step runs several refunds of one order at once, some with the same
idempotency key, plus an after-sales refund of one of its lines."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.checks import check_ledger
from core.errors import InsufficientPayable, KamengError
from core.models import Role, StockKind
from core.orders import Receipt, RefundResult
from core.platform import Platform
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLERS = (101, 102, 103)
ADMIN_TID = 42
_keys = itertools.count()

operations = st.lists(
    st.one_of(
        st.tuples(st.just("top_up"), st.sampled_from(RESELLERS), st.integers(1, 300_00)),
        st.tuples(st.just("buy"), st.sampled_from(RESELLERS), st.integers(1, 4)),
        st.tuples(  # the boolean: then restock the refunded codes (supplier says unused)
            st.just("refund"), st.integers(0, 20), st.booleans(), st.sampled_from([1, 2, 3, None])
        ),
        st.tuples(st.just("race"), st.integers(0, 20), st.lists(st.integers(1, 2), max_size=4)),
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
        await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    orders: list[tuple[int, int]] = []
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


async def _apply(platform: Platform, op: tuple[Any, ...], orders: list[tuple[int, int]]) -> None:
    kind = op[0]
    key = f"k{next(_keys)}"
    if kind == "top_up":
        await platform.balances.top_up(op[1], op[2], idempotency_key=key, note="t", actor=ADMIN)
    elif kind == "buy":
        sku = "CYCLIC-1" if op[2] == 4 else "STEAM-100"
        quote = await platform.quotes.quote(op[1], sku, op[2])
        receipt = await platform.shop.buy(op[1], quote.id)
        assert isinstance(receipt, Receipt)
        orders.append((receipt.order_id, op[1]))
    elif kind == "refund" and orders:
        order_id, _ = orders[op[1] % len(orders)]
        await platform.shop.refund(order_id, units=op[3], idempotency_key=key, actor=ADMIN)
        if op[2]:  # back on sale, so later buys may get these codes again
            await platform.restocks.restock(order_id, reason="supplier: unused", actor=ADMIN)
    elif kind == "race" and orders:
        await _race(platform, orders[op[1] % len(orders)], op[2], key)
    elif kind == "withdraw":
        try:
            await platform.balances.withdraw(op[1], op[2], idempotency_key=key, actor=ADMIN)
        except InsufficientPayable:
            pass


async def _race(platform: Platform, order: tuple[int, int], units: list[int], key: str) -> None:
    """Refunds of one order at once: each of ``units`` under its own key, the first one
    twice more under its key, and an after-sales refund of the order's newest line."""
    order_id, buyer = order
    receipt = await platform.shop.order(buyer, order_id)
    attempts: list[Awaitable[object]] = [
        platform.shop.refund(
            order_id,
            units=n,
            idempotency_key=f"{key}-{max(i - 2, 0)}",
            actor=ADMIN,
        )
        for i, n in enumerate(units[:1] * 2 + units)
    ]
    try:
        reported = await platform.aftersales.report(buyer, order_id, receipt.quantity, reason="x")
        attempts.append(platform.aftersales.refund(ADMIN_TID, reported.report.id))
    except KamengError:
        pass  # that line is refunded already
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException) and not isinstance(outcome, KamengError):
            raise outcome
    # the first three share a key: those that succeeded agree, and one at most is fresh
    same_key = [o for o in outcomes[:3] if isinstance(o, RefundResult)]
    assert len({(o.units, o.amount) for o in same_key}) <= 1
    assert [o.replayed for o in same_key].count(False) <= 1

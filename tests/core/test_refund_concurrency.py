"""Many refunds of one order at once (and an after-sales refund of one of its lines racing
them): each unit is refunded at most once, the money is exact to the fen, the books check."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from core.aftersales import Resolution
from core.checks import check_ledger
from core.errors import InvalidInput, InvalidState
from core.models import LineStatus, OrderLine, OrderStatus, Role, SupplierDailyUnits
from core.orders import Receipt, RefundResult
from core.platform import Platform
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
ADMIN_TID = 42
PRICE = 92_00
SUPPLIER_UNIT = 85_84  # 92.00 − 85.00 spread, half to the supplier, 3% commission


async def _order(platform: Platform, units: int) -> Receipt:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_sku(platform, stock=units + 5, price=PRICE, supply_price=85_00)
    await make_reseller(platform, RESELLER, balance=units * PRICE + 10_00)
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", units, idempotency_key="o")
    assert isinstance(receipt, Receipt)
    return receipt


async def _shop_refund(
    platform: Platform, order_id: int, units: int, key: str
) -> RefundResult | None:
    try:
        return await platform.shop.refund(order_id, units=units, idempotency_key=key, actor=ADMIN)
    except InvalidInput:
        return None  # nothing (or not enough) left to refund


async def _aftersales_refund(platform: Platform, report_id: int) -> Resolution | None:
    try:
        return await platform.aftersales.refund(ADMIN_TID, report_id)
    except InvalidState:
        return None  # the shop refunded that line first


async def _line_statuses(platform: Platform, order_id: int) -> dict[LineStatus, int]:
    async with platform.db.reading() as session:
        rows = await session.execute(
            select(OrderLine.status, func.count())
            .where(OrderLine.order_id == order_id)
            .group_by(OrderLine.status)
        )
        return {status: int(n) for status, n in rows}


async def test_racing_refunds_refund_each_unit_once(platform: Platform) -> None:
    receipt = await _order(platform, 10)
    reported = await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="bad")
    payable_before = (await platform.balances.supplier(SUPPLIER_TID)).payable
    assert payable_before == 10 * SUPPLIER_UNIT

    singles = [_shop_refund(platform, receipt.order_id, 1, f"r{n}") for n in range(12)]
    doubles = [_shop_refund(platform, receipt.order_id, 2, "same-key") for _ in range(4)]
    results = await asyncio.gather(
        *singles[:6],
        *doubles,
        _aftersales_refund(platform, reported.report.id),
        *singles[6:],
    )
    shop = [r for r in results if isinstance(r, RefundResult)]
    aftersales = [r for r in results if isinstance(r, Resolution)]

    fresh = [r for r in shop if not r.replayed]
    same_key = [r for r in shop if r.amount == 2 * PRICE]
    assert len([r for r in same_key if not r.replayed]) <= 1  # one reversal per key
    assert all(r.units == 2 for r in same_key)
    refunded_units = sum(r.units for r in fresh) + len(aftersales)
    assert refunded_units == 10  # demand was 15: every unit once, none twice
    assert sum(r.amount for r in fresh) + sum(a.report.refund_amount for a in aftersales) == (
        10 * PRICE
    )
    assert await _line_statuses(platform, receipt.order_id) == {LineStatus.REFUNDED: 10}
    assert (await platform.balances.balance(RESELLER)).balance == 10 * PRICE + 10_00
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 0
    order = await platform.shop.order(RESELLER, receipt.order_id)
    assert order.status is OrderStatus.REFUNDED
    # every refunded code is voided, by the shop as by after-sales: none back on sale
    assert await platform.catalogue.stock_count("STEAM-100") == 5
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_racing_refunds_of_part_of_an_order_leave_the_rest_delivered(
    platform: Platform,
) -> None:
    receipt = await _order(platform, 10)
    reported = await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="bad")

    results = await asyncio.gather(
        *(_shop_refund(platform, receipt.order_id, 1, f"p{n}") for n in range(3)),
        _aftersales_refund(platform, reported.report.id),
        *(_shop_refund(platform, receipt.order_id, 2, f"q{n}") for n in range(2)),
    )

    assert all(r is not None for r in results)  # 8 units asked of 10: all served
    assert await _line_statuses(platform, receipt.order_id) == {
        LineStatus.REFUNDED: 8,
        LineStatus.DELIVERED: 2,
    }
    assert (await platform.balances.balance(RESELLER)).balance == 8 * PRICE + 10_00
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 2 * SUPPLIER_UNIT
    order = await platform.shop.order(RESELLER, receipt.order_id)
    assert order.status is OrderStatus.PARTLY_REFUNDED
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_the_last_two_lines_refunded_at_once_mark_the_order_refunded(
    platform: Platform,
) -> None:
    receipt = await _order(platform, 2)
    reported = await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="bad")

    shop, aftersales = await asyncio.gather(
        _shop_refund(platform, receipt.order_id, 1, "last"),
        _aftersales_refund(platform, reported.report.id),
    )

    assert shop is not None and aftersales is not None  # line 2 and line 1: no overlap
    order = await platform.shop.order(RESELLER, receipt.order_id)
    assert order.status is OrderStatus.REFUNDED
    assert (await platform.balances.balance(RESELLER)).balance == 2 * PRICE + 10_00
    assert (await check_ledger(platform.db)).ok


async def test_the_same_key_at_once_reverses_once_and_answers_alike(platform: Platform) -> None:
    receipt = await _order(platform, 4)

    results = await asyncio.gather(
        *(
            platform.shop.refund(receipt.order_id, idempotency_key="all", actor=ADMIN)
            for _ in range(6)
        )
    )

    assert [r.replayed for r in results].count(False) == 1
    assert {(r.units, r.amount) for r in results} == {(4, 4 * PRICE)}
    assert (await platform.balances.balance(RESELLER)).balance == 4 * PRICE + 10_00
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 0
    assert (await check_ledger(platform.db)).ok


async def test_refunds_leave_the_ladder_volume_as_sold(platform: Platform) -> None:
    """The ladder counts units when sold (gross): a refund does not lower it."""
    receipt = await _order(platform, 3)
    await platform.shop.refund(receipt.order_id, units=2, idempotency_key="x", actor=ADMIN)

    async with platform.db.reading() as session:
        units = await session.scalar(select(func.sum(SupplierDailyUnits.units)))
    assert units == 3
    earnings = await platform.supplier_payouts.earnings(SUPPLIER_TID)
    assert earnings.units_30d == 3
    assert (await check_ledger(platform.db)).ok

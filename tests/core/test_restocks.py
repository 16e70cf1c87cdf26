"""A refunded code is void: the next buyer never gets it. Restocking it is a separate,
audited admin act, and ``kameng ledger check`` proves no code was sold twice without one."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete, select, update

from core.audit import verify
from core.checks import CheckReport, check_ledger
from core.errors import Forbidden, InvalidInput, NotRestockable
from core.models import (
    AuditRecord,
    Code,
    CodeRestock,
    CodeStatus,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Role,
    StockKind,
    SupplierDailyUnits,
)
from core.orders import Receipt
from core.platform import Platform
from core.restocks import RestockResult, restock_refusal
from tests.factories import ADMIN, make_reseller, make_sku

ANN, BOB = 1001, 1002
ADMIN_TID = 42
RESOLD = "unique codes sold again without an audited restock after the previous sale"
UNUSED = "supplier confirmed unused (ticket 77)"


@pytest.mark.parametrize(
    ("line", "stock_kind", "code", "restocked", "refusal"),
    [
        (LineStatus.REFUNDED, StockKind.UNIQUE, CodeStatus.VOIDED, False, None),
        (LineStatus.DELIVERED, StockKind.UNIQUE, CodeStatus.SOLD, False, "not_refunded"),
        (LineStatus.REFUNDED, StockKind.UNIQUE, CodeStatus.AVAILABLE, False, "not_void"),
        (LineStatus.REFUNDED, StockKind.UNIQUE, CodeStatus.SOLD, False, "not_void"),
        (LineStatus.REFUNDED, StockKind.CYCLIC, CodeStatus.AVAILABLE, False, "cyclic"),
        (LineStatus.REFUNDED, StockKind.UNIQUE, CodeStatus.VOIDED, True, "already_restocked"),
        (LineStatus.REFUNDED, StockKind.UNIQUE, CodeStatus.SOLD, True, "already_restocked"),
    ],
)
def test_only_a_refunded_void_unique_code_not_restocked_yet_may_go_back(
    line: LineStatus, stock_kind: StockKind, code: CodeStatus, restocked: bool, refusal: str | None
) -> None:
    assert (
        restock_refusal(line=line, stock_kind=stock_kind, code=code, restocked=restocked) == refusal
    )


async def _shop(platform: Platform, stock: int = 5) -> list[str]:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    codes = await make_sku(platform, stock=stock)
    await make_reseller(platform, ANN, balance=1000_00)
    await make_reseller(platform, BOB, balance=1000_00)
    return codes


async def _buy(platform: Platform, telegram_id: int, quantity: int, key: str) -> Receipt:
    receipt = await platform.shop.buy_now(telegram_id, "STEAM-100", quantity, idempotency_key=key)
    assert isinstance(receipt, Receipt)
    return receipt


async def test_an_aftersales_refund_voids_the_code_for_the_next_buyer(platform: Platform) -> None:
    codes = await _shop(platform, stock=3)
    first = await _buy(platform, ANN, 1, "a")
    reported = await platform.aftersales.report(ANN, first.order_id, 1, reason="used")

    await platform.aftersales.refund(ADMIN_TID, reported.report.id)

    assert await platform.catalogue.stock_count("STEAM-100") == 2
    assert (await _buy(platform, BOB, 2, "b")).codes == codes[1:]
    assert await platform.catalogue.stock_count("STEAM-100") == 0
    assert (await check_ledger(platform.db)).ok


async def test_a_restocked_code_sells_again_and_the_check_passes(platform: Platform) -> None:
    codes = await _shop(platform, stock=3)
    first = await _buy(platform, ANN, 2, "a")
    await platform.shop.refund(first.order_id, idempotency_key="r", actor=ADMIN)
    assert await platform.catalogue.stock_count("STEAM-100") == 1

    done = await platform.restocks.restock_as_admin(
        ADMIN_TID, first.order_id, line_ids=[2], reason=f"  {UNUSED}  "
    )

    assert (done.line_ids, done.positions, done.sku_code) == ((2,), (2,), "STEAM-100")
    assert await platform.catalogue.stock_count("STEAM-100") == 2
    assert (await _buy(platform, BOB, 2, "b")).codes == [codes[1], codes[2]]
    # the buyer's order keeps the line as refunded, with its code
    ann_order = await platform.shop.order(ANN, first.order_id)
    assert ann_order.status is OrderStatus.REFUNDED and ann_order.codes == codes[:2]
    async with platform.db.reading() as session:
        (record,) = await session.scalars(
            select(AuditRecord).where(AuditRecord.action == "code.restock")
        )
        restock = await session.scalar(select(CodeRestock))
    assert record.actor == f"admin:{ADMIN_TID}" and record.subject == f"order:{first.order_id}"
    assert UNUSED in record.payload and '"line":2' in record.payload
    assert restock is not None and restock.audit_id == record.id and restock.reason == UNUSED
    assert codes[1] not in record.payload  # the code itself never reaches the audit trail
    report = await check_ledger(platform.db)
    assert report.ok, report.render()
    assert (await verify(platform.db)).ok

    # the same books without the restock record: a code sold twice, named by the check
    async with platform.db.transaction() as session:
        await session.execute(delete(CodeRestock))
    assert _failure(await check_ledger(platform.db), RESOLD) == [
        "code_id=2, previous_line=2, line_id=3, order_id=2"
    ]


async def test_a_second_sale_of_a_code_without_a_restock_fails_the_check(
    platform: Platform,
) -> None:
    """What the old refund did (a refunded code back on sale, sold again): forged by hand,
    with everything else consistent, so only the new proof can catch it."""
    await _shop(platform, stock=2)
    first = await _buy(platform, ANN, 1, "a")
    await platform.shop.refund(first.order_id, idempotency_key="r", actor=ADMIN)
    async with platform.db.transaction() as session:
        order = await session.get(Order, first.order_id)
        line = await session.scalar(select(OrderLine))
        assert order is not None and line is not None
        again = Order(
            idempotency_key="forged",
            user_id=order.user_id,
            sku_id=order.sku_id,
            supplier_id=order.supplier_id,
            quantity=1,
            unit_price=order.unit_price,
            total=order.total,
            commission_bps=order.commission_bps,
            status=OrderStatus.PAID,
            created_at=order.created_at,
        )
        session.add(again)
        await session.flush()
        session.add(
            OrderLine(
                order_id=again.id,
                code_id=line.code_id,
                price=line.price,
                supplier_amount=line.supplier_amount,
                platform_spread=line.platform_spread,
                platform_commission=line.platform_commission,
                status=LineStatus.DELIVERED,
            )
        )
        await session.execute(update(SupplierDailyUnits).values(units=SupplierDailyUnits.units + 1))
        await session.execute(
            update(Code).where(Code.id == line.code_id).values(status=CodeStatus.SOLD)
        )

    assert _failure(await check_ledger(platform.db), RESOLD) == [
        f"code_id={line.code_id}, previous_line={line.id}, line_id=2, order_id={again.id}"
    ]


async def test_restock_refusals_are_readable_and_change_nothing(platform: Platform) -> None:
    await _shop(platform, stock=5)
    order = (await _buy(platform, ANN, 3, "a")).order_id
    await platform.shop.refund(order, units=1, idempotency_key="r", actor=ADMIN)  # line 3

    async def refused(**kwargs: object) -> dict[str, object]:
        with pytest.raises(NotRestockable) as caught:
            await platform.restocks.restock(order, actor=ADMIN, **kwargs)  # type: ignore[arg-type]
        return caught.value.params

    assert (await refused(reason=UNUSED, line_ids=[1]))["why"] == "not_refunded"
    assert (await refused(reason=UNUSED, units=2)) == {
        "order": order,
        "why": "nothing_to_restock",
        "wanted": 2,
        "restockable": 1,
    }
    with pytest.raises(InvalidInput):
        await platform.restocks.restock(order, reason="  ", actor=ADMIN)
    with pytest.raises(Forbidden):
        await platform.restocks.restock_as_admin(BOB, order, line_ids=[3], reason=UNUSED)
    assert await platform.catalogue.stock_count("STEAM-100") == 2

    await platform.restocks.restock(order, reason=UNUSED, actor=ADMIN)
    assert (await refused(reason=UNUSED, line_ids=[3]))["why"] == "already_restocked"
    assert (await refused(reason=UNUSED))["why"] == "nothing_to_restock"
    assert await platform.catalogue.stock_count("STEAM-100") == 3
    async with platform.db.reading() as session:
        assert len((await session.scalars(select(CodeRestock))).all()) == 1
    assert (await check_ledger(platform.db)).ok


async def test_a_cyclic_code_is_untouched_by_a_refund_and_never_restocked(
    platform: Platform,
) -> None:
    await _shop(platform, stock=0)
    (shared,) = await make_sku(
        platform, "NETFLIX-1", stock=1, stock_kind=StockKind.CYCLIC, price=10_00, supply_price=9_00
    )
    receipt = await platform.shop.buy_now(ANN, "NETFLIX-1", 2, idempotency_key="c")
    assert isinstance(receipt, Receipt)
    await platform.shop.refund(receipt.order_id, idempotency_key="r", actor=ADMIN)

    with pytest.raises(NotRestockable):
        await platform.restocks.restock(receipt.order_id, reason=UNUSED, actor=ADMIN)
    again = await platform.shop.buy_now(BOB, "NETFLIX-1", 1, idempotency_key="d")
    assert isinstance(again, Receipt) and again.codes == [shared]
    assert (await check_ledger(platform.db)).ok


def _failure(report: CheckReport, problem: str) -> list[str]:
    assert not report.ok
    assert list(report.problems) == [problem], report.render()
    assert f"FAIL {problem}: " in report.render()
    return report.problems[problem]


async def test_two_restocks_of_one_line_at_once_restock_it_once(platform: Platform) -> None:
    await _shop(platform, stock=2)
    order = (await _buy(platform, ANN, 1, "a")).order_id
    await platform.shop.refund(order, idempotency_key="r", actor=ADMIN)

    results = await asyncio.gather(
        *(platform.restocks.restock(order, reason=UNUSED, actor=ADMIN) for _ in range(4)),
        return_exceptions=True,
    )

    assert sum(isinstance(r, RestockResult) for r in results) == 1
    assert all(isinstance(r, (RestockResult, NotRestockable)) for r in results), results
    assert await platform.catalogue.stock_count("STEAM-100") == 2
    async with platform.db.reading() as session:
        assert len((await session.scalars(select(CodeRestock))).all()) == 1
    assert (await check_ledger(platform.db)).ok

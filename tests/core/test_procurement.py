"""Selling an upstream's SKU buys it there, against the fake upstreams over HTTP: codes at
once are delivered as from stock; a slow order is followed by polling until delivered; a
failure, a partial delivery or the deadline refund the reseller; a lost answer is recovered
under the same reference without buying twice; reconcile names every difference."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.checks import check_ledger
from core.models import (
    PLATFORM_OWNER,
    Account,
    AccountKind,
    Code,
    CodeStatus,
    Fulfilment,
    OrderStatus,
    OutboxMessage,
    Role,
    Sku,
    Upstream,
)
from core.orders import Receipt
from core.platform import Platform, build_platform
from core.procurement import LATE_DELIVERY, next_check, ref_of
from core.settings import Settings
from core.upstreams import dujiao
from core.upstreams.service import UPSTREAM_ALERT, NewUpstream, callback_path
from core.vitals import read_vitals
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeKameng, FakeProduct, Mode
from sandbox.fake_upstream.base import FakeUpstream
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller

RESELLER = 1001
ADMIN_TID = 42


@pytest.fixture(params=["dujiao", "kameng"])
async def fake(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[FakeUpstream]:
    catalogue = Catalogue()
    catalogue.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, stock=40))
    server: FakeUpstream
    if request.param == "dujiao":
        server = FakeDujiao(catalogue, now=lambda: clock.now().timestamp())
    else:
        server = FakeKameng(catalogue)
    async with server:
        yield server


@pytest.fixture
async def sku(platform: Platform, fake: FakeUpstream) -> str:
    if isinstance(fake, FakeDujiao):
        new = NewUpstream("up", "dujiao", fake.base_url, fake.key, fake.secret, markup_bps=800)  # type: ignore[arg-type]
    else:
        assert isinstance(fake, FakeKameng)
        new = NewUpstream("up", "kameng", fake.base_url, fake.key, "", markup_bps=800)  # type: ignore[arg-type]
    await make_reseller(platform, RESELLER, balance=500_00)
    await platform.upstreams.add(new, actor=ADMIN)
    await platform.upstreams.sync("up")
    page = await platform.storefront.skus(RESELLER, limit=10)
    [line] = page.lines
    return line.code


async def buy(platform: Platform, sku: str, quantity: int = 1) -> Receipt:
    result = await platform.shop.buy_now(RESELLER, sku, quantity, idempotency_key=f"k-{quantity}")
    assert isinstance(result, Receipt)
    return result


async def balance(platform: Platform) -> int:
    return (await platform.balances.balance(RESELLER)).balance


async def owed_upstream(platform: Platform) -> int:
    """What we owe the upstream: its supplier's payable."""
    async with platform.db.reading() as session:
        balance = await session.scalar(
            select(Account.balance)
            .join(Upstream, Upstream.supplier_id == Account.owner_id)
            .where(Account.kind == AccountKind.SUPPLIER_PAYABLE, Upstream.name == "up")
        )
    return int(balance or 0)


async def spread(platform: Platform) -> int:
    async with platform.db.reading() as session:
        balance = await session.scalar(
            select(Account.balance).where(
                Account.kind == AccountKind.PLATFORM_SPREAD, Account.owner_id == PLATFORM_OWNER
            )
        )
    return int(balance or 0)


async def test_codes_at_once_are_delivered_as_from_stock(
    platform: Platform, fake: FakeUpstream, sku: str
) -> None:
    receipt = await buy(platform, sku, 2)

    assert receipt.status is OrderStatus.DELIVERED
    assert receipt.codes == [
        f"FAKE-{ref_of(receipt.order_id)}-1",
        f"FAKE-{ref_of(receipt.order_id)}-2",
    ]
    assert await balance(platform) == 500_00 - 2 * 99_36
    assert len(fake.catalogue.orders) == 1
    again = await platform.shop.order(RESELLER, receipt.order_id)
    assert again.codes == receipt.codes  # shown again from the order, decrypted
    assert (await check_ledger(platform.db)).ok


DUJIAO_ONLY = pytest.mark.parametrize("fake", ["dujiao"], indirect=True)  # callbacks
KAMENG_ONLY = pytest.mark.parametrize("fake", ["kameng"], indirect=True)


async def test_a_slow_order_is_polled_until_delivered(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku)
    assert receipt.status is OrderStatus.FULFILLING and receipt.codes == []

    clock.advance(seconds=30)
    await platform.procurement.poll_due("worker")  # still processing there
    assert (await platform.shop.order(RESELLER, receipt.order_id)).status is OrderStatus.FULFILLING
    fake.catalogue.fill(fake.catalogue.orders[ref_of(receipt.order_id)], 1)
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")

    seen = await platform.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.DELIVERED and len(seen.codes) == 1
    assert await balance(platform) == 500_00 - 99_36
    assert (await check_ledger(platform.db)).ok


@pytest.mark.parametrize(
    ("mode", "status", "paid"),
    [
        (Mode.FAIL, OrderStatus.FAILED, 0),
        (Mode.OUT_OF_STOCK, OrderStatus.FAILED, 0),
        (Mode.PARTIAL, OrderStatus.PARTIALLY_DELIVERED, 2 * 99_36),  # 2 of 3: one back
    ],
)
async def test_failure_and_partial_delivery_refund_what_did_not_arrive(
    platform: Platform,
    fake: FakeUpstream,
    sku: str,
    mode: Mode,
    status: OrderStatus,
    paid: int,
) -> None:
    fake.catalogue.mode = mode
    receipt = await buy(platform, sku, 3)

    assert receipt.status is status
    assert await balance(platform) == 500_00 - paid
    assert receipt.fulfilment is not None and receipt.fulfilment.refunded_units == 3 - paid // 99_36
    assert (await check_ledger(platform.db)).ok


async def test_a_lost_answer_is_recovered_without_buying_twice(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    procure = platform.shop._procure
    platform.shop._procure = None  # the process died between the sale and the upstream call
    try:
        receipt = await buy(platform, sku)
    finally:
        platform.shop._procure = procure
    assert receipt.status is OrderStatus.PENDING and not fake.catalogue.orders

    clock.advance(seconds=30)
    await platform.procurement.poll_due("worker")  # placed now, under our reference
    await platform.procurement.poll_due("worker")  # nothing more is due
    clock.advance(minutes=5)
    await platform.procurement.poll_due("worker")

    assert len(fake.catalogue.orders) == 1
    assert (await platform.shop.order(RESELLER, receipt.order_id)).status is OrderStatus.DELIVERED
    assert await platform.procurement.reconcile("up") == []
    assert (await check_ledger(platform.db)).ok


async def test_a_delivery_in_progress_there_is_asked_again_until_it_ends(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    """Dujiao-Next's ``partially_delivered`` (some child orders delivered, the others still
    paid) is not an end: nothing is refunded, the order is asked again, and the codes come
    once, with the final answer."""
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku, 3)
    order = fake.catalogue.orders[ref_of(receipt.order_id)]
    fake.catalogue.progress(order, 1)  # 1 of 3 delivered there so far
    clock.advance(seconds=30)
    await platform.procurement.poll_due("worker")

    seen = await platform.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.FULFILLING and seen.codes == []
    assert await balance(platform) == 500_00 - 3 * 99_36  # nothing refunded

    fake.catalogue.fill(order, 3)
    clock.advance(minutes=2)
    await platform.procurement.poll_due("worker")
    seen = await platform.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.DELIVERED
    assert seen.codes == [f"FAKE-{ref_of(receipt.order_id)}-{i}" for i in (1, 2, 3)]
    assert await platform.procurement.reconcile("up") == []
    assert (await check_ledger(platform.db)).ok


async def test_a_delivery_in_progress_that_ends_partly_refunds_the_rest(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku, 3)
    order = fake.catalogue.orders[ref_of(receipt.order_id)]
    fake.catalogue.progress(order, 1)
    clock.advance(seconds=30)
    await platform.procurement.poll_due("worker")
    fake.catalogue.fill(order, 2, partial=True)  # Dujiao-Next: ``partially_refunded``
    clock.advance(minutes=2)
    await platform.procurement.poll_due("worker")

    seen = await platform.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.PARTIALLY_DELIVERED and len(seen.codes) == 2
    assert await balance(platform) == 500_00 - 2 * 99_36
    assert (await check_ledger(platform.db)).ok


async def late_alerts(platform: Platform) -> list[dict[str, object]]:
    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == UPSTREAM_ALERT)
        )
        return [payload for payload in map(json.loads, rows) if payload["state"] == LATE_DELIVERY]


async def in_stock(platform: Platform, sku: str) -> list[str]:
    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(Code.ciphertext)
            .join(Sku, Sku.id == Code.sku_id)
            .where(Sku.code == sku, Code.status == CodeStatus.AVAILABLE)
            .order_by(Code.id)
        )
        return [platform.procurement._cipher.decrypt(blob) for blob in rows]


async def test_a_delivery_after_our_deadline_is_owed_and_its_codes_stocked(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku, 2)
    clock.advance(minutes=31)
    assert await platform.fulfilments.expire_due("worker") == [receipt.order_id]
    assert await balance(platform) == 500_00  # refunded
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")  # still processing there: asked again
    assert await owed_upstream(platform) == 0 and await late_alerts(platform) == []

    order = fake.catalogue.orders[ref_of(receipt.order_id)]
    fake.catalogue.fill(order, 2)  # too late for the buyer, charged to us all the same
    clock.advance(minutes=10)
    await platform.procurement.poll_due("worker")
    clock.advance(minutes=10)
    await platform.procurement.poll_due("worker")  # asked no more: nothing twice

    seen = await platform.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.FAILED and seen.codes == []  # the buyer has his money
    assert await balance(platform) == 500_00
    assert order.charged == 2 * 92_00
    assert await owed_upstream(platform) == 2 * 92_00  # owed what it charged
    assert await spread(platform) == -2 * 92_00  # the platform bought them
    assert await in_stock(platform, sku) == order.codes  # ours to sell, encrypted at rest
    [alert] = await late_alerts(platform)  # one admin, told once
    assert alert["order_id"] == receipt.order_id and alert["units"] == 2
    assert alert["charged"] == 2 * 92_00 and alert["stocked"] == 2 and alert["direct"] is False
    assert await platform.procurement.reconcile("up") == []  # recorded as it happened
    assert (await check_ledger(platform.db)).ok


async def test_the_ledger_check_names_a_late_delivery_owed_other_than_its_charge(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku)
    clock.advance(minutes=31)
    await platform.fulfilments.expire_due("worker")
    fake.catalogue.fill(fake.catalogue.orders[ref_of(receipt.order_id)], 1)
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")
    assert (await check_ledger(platform.db)).ok

    async with platform.db.transaction() as session:  # as if the upstream had said 93.00
        fulfilment = await session.scalar(
            select(Fulfilment).where(Fulfilment.order_id == receipt.order_id)
        )
        assert fulfilment is not None and fulfilment.late_units == 1
        fulfilment.upstream_cost = 93_00

    report = await check_ledger(platform.db)
    [(problem, [offender])] = report.problems.items()
    assert problem == "upstream orders whose payable moved other than what the upstream charged"
    assert offender == f"id={receipt.order_id}, charged=9300, payable=9200"


async def test_an_upstream_that_fails_after_our_deadline_is_owed_nothing(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku)
    clock.advance(minutes=31)
    await platform.fulfilments.expire_due("worker")
    order = fake.catalogue.orders[ref_of(receipt.order_id)]
    order.status, order.refunded = "canceled", order.amount
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")

    assert await owed_upstream(platform) == 0 and await in_stock(platform, sku) == []
    async with platform.db.reading() as session:
        fulfilment = await session.scalar(
            select(Fulfilment).where(Fulfilment.order_id == receipt.order_id)
        )
        assert fulfilment is not None and fulfilment.next_check_at is None  # asked no more
    assert await platform.procurement.reconcile("up") == []
    assert (await check_ledger(platform.db)).ok


async def stock_late(
    platform: Platform, fake: FakeUpstream, clock: FakeClock, sku: str, key: str
) -> str:
    """One code an upstream delivered after our deadline, now in our stock: its code."""
    fake.catalogue.mode = Mode.SLOW
    late = await platform.shop.buy_now(RESELLER, sku, 1, idempotency_key=key)
    assert isinstance(late, Receipt)
    clock.advance(minutes=31)
    await platform.fulfilments.expire_due("worker")
    order = fake.catalogue.orders[ref_of(late.order_id)]
    fake.catalogue.fill(order, 1)
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")
    fake.catalogue.mode = Mode.IMMEDIATE
    [code] = order.codes
    return code


async def unit_split(platform: Platform, order_id: int) -> tuple[int, int]:
    """What one unit of the order gives the supplier's side and the spread, as charged."""
    async with platform.db.reading() as session:
        fulfilment = await session.scalar(select(Fulfilment).where(Fulfilment.order_id == order_id))
        assert fulfilment is not None
        return fulfilment.unit_supplier, fulfilment.unit_spread


async def test_a_sale_takes_our_late_stock_first_and_buys_only_the_rest_upstream(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    first = await stock_late(platform, fake, clock, sku, "late-1")
    assert await in_stock(platform, sku) == [first]
    page = await platform.storefront.skus(RESELLER, limit=10)
    assert [line.stock for line in page.lines] == [40 + 1]  # the upstream's (synced) + ours
    assert await platform.catalogue.stock_count(sku) == 40 + 1
    vitals = await read_vitals(platform.db, clock, low_stock_below=5)  # the low-stock alert's
    assert {s.sku: s.available for s in vitals.stock}[sku] == 40 + 1
    assert (await platform.quotes.quote(RESELLER, sku, 1)).stock == 40 + 1  # the one rule
    owed, platform_spread, paid = await owed_upstream(platform), await spread(platform), 500_00
    placed = len(fake.catalogue.orders)

    one = await buy(platform, sku, 1)  # all from our stock: the upstream is not asked

    assert one.status is OrderStatus.DELIVERED and one.codes == [first]
    assert len(fake.catalogue.orders) == placed
    supplier, unit_spread = await unit_split(platform, one.order_id)
    assert await owed_upstream(platform) == owed  # paid when it came, not again
    assert await spread(platform) == platform_spread + supplier + unit_spread
    assert await balance(platform) == paid - one.total
    assert await in_stock(platform, sku) == []
    assert (await platform.shop.order(RESELLER, one.order_id)).codes == [first]
    assert (await platform.quotes.quote(RESELLER, sku, 1)).stock == 40  # the late code sold

    second = await stock_late(platform, fake, clock, sku, "late-2")
    owed, platform_spread = await owed_upstream(platform), await spread(platform)
    three = await buy(platform, sku, 3)  # 1 from our stock, 2 bought upstream

    upstream_order = fake.catalogue.orders[ref_of(three.order_id)]
    assert upstream_order.quantity == 2  # only the rest was ordered there
    assert three.status is OrderStatus.DELIVERED
    assert three.codes == [second, *upstream_order.codes]  # one receipt, the late code first
    assert await owed_upstream(platform) == owed + 2 * 92_00  # the 2 it sold us
    assert await spread(platform) == platform_spread + supplier + 3 * unit_spread
    assert await balance(platform) == paid - one.total - three.total
    assert await platform.procurement.reconcile("up") == []  # the upstream saw 2 of 2
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_the_upstream_failing_the_rest_refunds_only_what_our_stock_did_not_give(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    code = await stock_late(platform, fake, clock, sku, "late-1")
    fake.catalogue.mode = Mode.FAIL
    owed = await owed_upstream(platform)

    receipt = await buy(platform, sku, 3)

    assert receipt.status is OrderStatus.PARTIALLY_DELIVERED and receipt.codes == [code]
    assert await balance(platform) == 500_00 - receipt.unit_price  # 2 of 3 back
    assert await owed_upstream(platform) == owed
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_a_late_code_reaches_one_of_two_buyers_at_once(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    code = await stock_late(platform, fake, clock, sku, "late-1")

    results = await asyncio.gather(
        *(platform.shop.buy_now(RESELLER, sku, 1, idempotency_key=f"both-{i}") for i in (1, 2))
    )

    receipts = [r for r in results if isinstance(r, Receipt)]
    assert len(receipts) == 2 and all(r.status is OrderStatus.DELIVERED for r in receipts)
    codes = [c for r in receipts for c in r.codes]
    assert codes.count(code) == 1 and len(set(codes)) == 2  # one from stock, one bought
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_a_unit_from_late_stock_refunded_comes_back_from_the_platform(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    await stock_late(platform, fake, clock, sku, "late-1")
    receipt = await buy(platform, sku, 1)
    owed, platform_spread = await owed_upstream(platform), await spread(platform)
    supplier, unit_spread = await unit_split(platform, receipt.order_id)

    refunded = await platform.shop.refund(
        receipt.order_id, idempotency_key="r-1", actor="admin:1", reason="bad code"
    )

    assert refunded.amount == receipt.total and await balance(platform) == 500_00
    assert await owed_upstream(platform) == owed  # the upstream gives nothing back
    assert await spread(platform) == platform_spread - supplier - unit_spread
    assert (await platform.shop.order(RESELLER, receipt.order_id)).status is (
        OrderStatus.DELIVERED  # the fulfilment's state; the refund is in the ledger
    )
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_the_ledger_check_names_a_unit_from_stock_paid_to_the_upstream_again(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    await stock_late(platform, fake, clock, sku, "late-1")
    receipt = await buy(platform, sku, 1)
    async with platform.db.transaction() as session:  # as if the sale had credited it
        fulfilment = await session.scalar(
            select(Fulfilment).where(Fulfilment.order_id == receipt.order_id)
        )
        assert fulfilment is not None and fulfilment.stock_units == 1
        fulfilment.stock_units = 0

    report = await check_ledger(platform.db)
    problem = next(name for name in report.problems if name.startswith("orders fulfilled later"))
    [offender] = report.problems[problem]
    assert offender.startswith(f"id={receipt.order_id}, from_stock=0, lines=1, to_supplier=0")


@DUJIAO_ONLY
async def test_a_signed_callback_after_our_deadline_records_the_late_delivery(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    assert isinstance(fake, FakeDujiao)
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku)
    clock.advance(minutes=31)
    await platform.fulfilments.expire_due("worker")
    order = fake.catalogue.orders[ref_of(receipt.order_id)]
    fake.catalogue.fill(order, 1)
    body = json.dumps(
        {
            "event": "order.status_changed",
            "order_id": order.id,
            "downstream_order_no": order.ref,
            "status": "delivered",
            "amount": "92.00",
            "fulfillment": {"type": "auto", "payload": order.codes[0]},
        }
    ).encode()
    path = callback_path("up")
    now = int(clock.now().timestamp())
    headers = dujiao.signed_headers(fake.key, fake.secret, "POST", path, now, body)
    for _ in range(2):  # delivered twice: recorded once
        assert await platform.procurement.callback("up", headers, body) == receipt.order_id

    assert await owed_upstream(platform) == 92_00
    assert await in_stock(platform, sku) == order.codes
    assert (await check_ledger(platform.db)).ok


@KAMENG_ONLY
async def test_a_direct_top_up_done_after_our_deadline_is_owed_and_the_admins_told(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    """Nothing to stock: the account was topped up for an order already refunded; the
    upstream is owed, the admins settle it with the reseller or the upstream."""
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    fake.catalogue.add(
        FakeProduct(2, "MLBB 86", cost=18_40, face_value=20_00, direct_fields=("uid", "zone"))
    )
    await platform.upstreams.sync("up")
    page = await platform.storefront.skus(RESELLER, limit=10)
    direct = next(line.code for line in page.lines if line.code != sku)
    fake.catalogue.mode = Mode.SLOW
    receipt = await platform.shop.buy_now(
        RESELLER, direct, 1, idempotency_key="d1", account={"uid": "12345678", "zone": "2001"}
    )
    assert isinstance(receipt, Receipt)
    clock.advance(minutes=31)
    await platform.fulfilments.expire_due("worker")
    fake.catalogue.fill(fake.catalogue.orders[ref_of(receipt.order_id)], 1)
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")

    assert await balance(platform) == 500_00  # he was refunded at the deadline
    assert await owed_upstream(platform) == 18_40
    assert await in_stock(platform, direct) == []
    [alert] = await late_alerts(platform)
    assert alert["direct"] is True and alert["units"] == 1 and alert["sku"] == direct
    assert (await check_ledger(platform.db)).ok


async def test_reconcile_prints_what_we_recorded_owing_beside_what_the_upstream_charged(
    platform: Platform, fake: FakeUpstream, sku: str
) -> None:
    receipt = await buy(platform, sku)
    assert await platform.procurement.reconcile("up") == []
    async with platform.db.transaction() as session:  # as if we had recorded 93.00
        fulfilment = await session.scalar(
            select(Fulfilment).where(Fulfilment.order_id == receipt.order_id)
        )
        assert fulfilment is not None
        fulfilment.upstream_cost = 93_00

    [difference] = await platform.procurement.reconcile("up")
    assert str(difference) == (
        f"order {receipt.order_id}: ours delivered 1 cost 93.00, upstream delivered 1 cost 92.00"
    )


async def test_the_deadline_fails_a_slow_order_and_reconcile_names_the_difference(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku)
    clock.advance(minutes=31)
    assert await platform.fulfilments.expire_due("worker") == [receipt.order_id]

    [difference] = await platform.procurement.reconcile("up")  # before the upstream ends it
    assert str(difference) == (
        f"order {receipt.order_id}: ours failed 0 cost 0.00, upstream processing 0 cost 92.00"
    )
    assert (await check_ledger(platform.db)).ok


@DUJIAO_ONLY
async def test_the_upstreams_signed_callback_completes_the_order_and_a_forged_one_is_refused(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    from core.errors import UpstreamCallbackRefused

    fake.catalogue.mode = Mode.SLOW
    receipt = await buy(platform, sku)
    with pytest.raises(UpstreamCallbackRefused):
        await platform.procurement.callback("up", {}, b'{"downstream_order_no": "kameng-1"}')
    assert (await platform.shop.order(RESELLER, receipt.order_id)).status is OrderStatus.FULFILLING


@KAMENG_ONLY
async def test_a_direct_upstream_product_asks_for_its_account_and_passes_it_on(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock
) -> None:
    from core.errors import InvalidAccount

    fake.catalogue.add(
        FakeProduct(2, "MLBB 86", cost=18_40, face_value=20_00, direct_fields=("uid", "zone"))
    )
    await platform.upstreams.sync("up")
    page = await platform.storefront.skus(RESELLER, limit=10)
    direct = next(line.code for line in page.lines if line.code != sku)
    spec = await platform.fulfilments.direct_spec(direct)
    assert spec is not None and [f.name for f in spec.fields] == ["uid", "zone"]
    assert await platform.fulfilments.direct_spec(sku) is None  # codes: nothing to ask

    with pytest.raises(InvalidAccount):  # refused here, nothing bought there
        await platform.shop.buy_now(RESELLER, direct, 1, idempotency_key="d0", account={})
    assert not fake.catalogue.orders

    fake.catalogue.mode = Mode.SLOW
    account = {"uid": "12345678", "zone": "2001"}
    receipt = await platform.shop.buy_now(
        RESELLER, direct, 1, idempotency_key="d1", account=account
    )
    assert isinstance(receipt, Receipt) and receipt.status is OrderStatus.FULFILLING
    [order] = fake.catalogue.orders.values()
    assert order.account == account

    fake.catalogue.fill(order, 1)
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")
    seen = await platform.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.DELIVERED and seen.codes == []
    assert await balance(platform) == 500_00 - receipt.total
    assert (await check_ledger(platform.db)).ok
    # the account is offered the next time, as for a supplier's own direct product
    [saved] = await platform.fulfilments.saved_accounts(RESELLER, direct)
    assert saved.values == account
    assert await platform.fulfilments.saved_account(RESELLER, saved.id) == account


@pytest.mark.parametrize(
    ("new_cost", "new_price"),
    [
        (95_00, 100_00),  # dearer: 95.00 + 8 % is over the face value, capped there
        (90_00, 97_20),  # cheaper: 90.00 + 8 %
    ],
)
async def test_a_price_change_at_the_upstream_between_quote_and_buy(
    platform: Platform, fake: FakeUpstream, sku: str, new_cost: int, new_price: int
) -> None:
    """The reseller pays what they were quoted; the upstream charges its new price and is
    owed exactly that (the platform's spread absorbs a rise, keeps a drop); the next sync
    reprices the SKU, and the order is bought there once."""
    quote = await platform.quotes.quote(RESELLER, sku, 2)
    fake.catalogue.set_price(1, new_cost)  # after our quote

    receipt = await platform.shop.buy(RESELLER, quote.id, idempotency_key="q")

    assert isinstance(receipt, Receipt) and receipt.status is OrderStatus.DELIVERED
    assert receipt.total == 2 * 99_36 and await balance(platform) == 500_00 - 2 * 99_36
    [order] = fake.catalogue.orders.values()
    assert order.charged == 2 * new_cost  # what the upstream took from our balance there
    assert await owed_upstream(platform) == 2 * new_cost
    assert await spread(platform) == 2 * 99_36 - 2 * new_cost
    await platform.upstreams.sync("up")
    [line] = (await platform.storefront.skus(RESELLER, limit=10)).lines
    assert line.my_price == new_price
    assert (await check_ledger(platform.db)).ok


async def test_a_partial_delivery_after_a_price_change_owes_the_upstream_what_it_kept(
    platform: Platform, fake: FakeUpstream, sku: str
) -> None:
    """A Kameng refunds what it did not deliver and says so: owed its new price for the
    units that came. Dujiao-Next's protocol does not say what a partially delivered order
    gave back: owed the synced price for them, as before."""
    quote = await platform.quotes.quote(RESELLER, sku, 3)
    fake.catalogue.set_price(1, 95_00)
    fake.catalogue.mode = Mode.PARTIAL

    receipt = await platform.shop.buy(RESELLER, quote.id, idempotency_key="q")

    assert isinstance(receipt, Receipt)
    assert receipt.status is OrderStatus.PARTIALLY_DELIVERED
    assert await balance(platform) == 500_00 - 2 * 99_36  # one unit back
    [order] = fake.catalogue.orders.values()
    assert order.charged == 2 * 95_00
    expected = 2 * 95_00 if isinstance(fake, FakeKameng) else 2 * 92_00
    assert await owed_upstream(platform) == expected
    assert (await check_ledger(platform.db)).ok


async def test_the_ledger_check_names_an_upstream_order_owed_other_than_its_charge(
    platform: Platform, fake: FakeUpstream, sku: str
) -> None:
    quote = await platform.quotes.quote(RESELLER, sku, 1)
    fake.catalogue.set_price(1, 95_00)
    receipt = await platform.shop.buy(RESELLER, quote.id, idempotency_key="q")
    assert isinstance(receipt, Receipt) and (await check_ledger(platform.db)).ok

    async with platform.db.transaction() as session:  # as if the upstream had said 96.00
        fulfilment = await session.scalar(
            select(Fulfilment).where(Fulfilment.order_id == receipt.order_id)
        )
        assert fulfilment is not None and fulfilment.upstream_cost == 95_00
        fulfilment.upstream_cost = 96_00

    report = await check_ledger(platform.db)
    [(problem, [offender])] = report.problems.items()
    assert problem == "upstream orders whose payable moved other than what the upstream charged"
    assert offender == f"id={receipt.order_id}, charged=9600, payable=9500"


async def test_a_timeout_after_the_upstream_took_the_order_is_recovered_without_buying_twice(
    platform: Platform, fake: FakeUpstream, sku: str, clock: FakeClock, settings: Settings
) -> None:
    impatient = build_platform(
        settings.model_copy(update={"upstream_timeout_seconds": 0.3}), clock=clock, db=platform.db
    )
    fake.catalogue.mode = Mode.TIMEOUT
    fake.timeout_seconds = 1.0

    receipt = await impatient.shop.buy_now(RESELLER, sku, 1, idempotency_key="t")

    assert isinstance(receipt, Receipt) and receipt.status is OrderStatus.PENDING
    assert await balance(platform) == 500_00 - 99_36  # held, not lost
    [order] = fake.catalogue.orders.values()  # taken there, the answer never reached us
    fake.catalogue.mode = Mode.IMMEDIATE
    fake.catalogue.fill(order, 1)
    clock.advance(minutes=1)
    await impatient.procurement.poll_due("worker")  # placed again: the same order answers

    seen = await platform.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.DELIVERED and seen.codes == order.codes
    assert len(fake.catalogue.orders) == 1 and await balance(platform) == 500_00 - 99_36
    assert await platform.procurement.reconcile("up") == []
    assert (await check_ledger(platform.db)).ok


@pytest.mark.parametrize(
    ("checks", "base_seconds", "wait_seconds"),
    [
        (1, 20, 40),  # the default: the first question 40 s after placing
        (2, 20, 80),
        (4, 20, 300),  # 320 s: capped at 5 minutes
        (30, 20, 300),
        (1, 1, 2),  # KAMENG_UPSTREAM_POLL_SECONDS=1: 2 s, 4 s, 8 s ...
        (3, 1, 8),
        (9, 1, 300),  # 512 s: capped
    ],
)
def test_the_wait_before_asking_the_upstream_again_doubles_up_to_five_minutes(
    checks: int, base_seconds: int, wait_seconds: int
) -> None:
    base = timedelta(seconds=base_seconds)
    assert next_check(checks, base) == timedelta(seconds=wait_seconds)

"""Direct top-up (直充) on a real database: the reseller pays at order into the hold, the
supplier fulfils (all, some or none) or the deadline fails it, and the money ends where the
delivery says, each change recorded and told to the buyer."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.checks import check_ledger
from core.errors import InsufficientBalance, InvalidAccount, NotFound, OrderFinished
from core.fulfilment import DIRECT_TASK, ORDER_STATUS
from core.models import OrderStatus, OutboxMessage
from core.orders import Receipt
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import SUPPLIER_TID, make_direct_sku, make_reseller

RESELLER = 1001
PHONE = {"phone": "13800138000"}


async def order(platform: Platform, quantity: int = 1, account: dict | None = None) -> Receipt:
    quote = await platform.quotes.quote(RESELLER, "MOBILE-50", quantity)
    result = await platform.shop.buy(RESELLER, quote.id, account=account or PHONE)
    assert isinstance(result, Receipt)
    return result


async def notices(platform: Platform, kind: str) -> list[dict]:
    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        return [json.loads(row) for row in rows]


async def payable(platform: Platform) -> int:
    return (await platform.balances.supplier(SUPPLIER_TID)).payable


@pytest.fixture
async def shop(platform: Platform) -> Platform:
    await make_direct_sku(platform)
    await make_reseller(platform, RESELLER, balance=200_00)
    return platform


async def test_a_direct_order_is_paid_at_once_and_held_until_delivered(shop: Platform) -> None:
    receipt = await order(shop, 2)

    assert receipt.status is OrderStatus.PENDING and receipt.codes == []
    assert receipt.total == 99_00 and receipt.balance_after == 101_00
    assert receipt.fulfilment is not None and receipt.fulfilment.account == PHONE
    assert await payable(shop) == 0  # nothing reaches the supplier before delivery
    [task] = await notices(shop, DIRECT_TASK)
    assert task["account"] == PHONE and task["quantity"] == 2
    assert [t.order_id for t in await shop.fulfilments.tasks(SUPPLIER_TID)] == [receipt.order_id]
    assert (await check_ledger(shop.db)).ok


async def test_delivered_pays_the_supplier_and_tells_the_buyer_with_the_proof(
    shop: Platform,
) -> None:
    receipt = await order(shop)
    await shop.fulfilments.start(SUPPLIER_TID, receipt.order_id)
    task = await shop.fulfilments.complete(SUPPLIER_TID, receipt.order_id, proof="SN-778899")

    assert task.status is OrderStatus.DELIVERED and not task.open
    assert 0 < await payable(shop) < 49_50  # the supplier's side of 49.50, less commission
    seen = await shop.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.DELIVERED
    assert seen.fulfilment is not None and seen.fulfilment.proof == "SN-778899"
    assert [e.status for e in seen.fulfilment.events] == [
        OrderStatus.PENDING,
        OrderStatus.FULFILLING,
        OrderStatus.DELIVERED,
    ]
    told = await notices(shop, ORDER_STATUS)
    assert [n["status"] for n in told] == ["fulfilling", "delivered"]
    assert (await shop.balances.balance(RESELLER)).balance == 150_50
    assert await shop.fulfilments.tasks(SUPPLIER_TID) == []
    assert (await check_ledger(shop.db)).ok


async def test_failed_gives_the_reseller_everything_back_with_the_reason(shop: Platform) -> None:
    receipt = await order(shop, 2)
    await shop.fulfilments.fail(SUPPLIER_TID, receipt.order_id, "number not found")

    assert (await shop.balances.balance(RESELLER)).balance == 200_00
    assert await payable(shop) == 0
    seen = await shop.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.FAILED
    assert seen.fulfilment is not None and seen.fulfilment.reason == "number not found"
    assert seen.fulfilment.refunded_units == 2
    [told] = await notices(shop, ORDER_STATUS)
    assert told["refund"] == 99_00 and told["note"] == "number not found"
    assert (await check_ledger(shop.db)).ok


async def test_partly_delivered_refunds_the_rest(shop: Platform) -> None:
    receipt = await order(shop, 3)
    await shop.fulfilments.complete(SUPPLIER_TID, receipt.order_id, units=1)

    assert (await shop.balances.balance(RESELLER)).balance == 200_00 - 49_50
    seen = await shop.shop.order(RESELLER, receipt.order_id)
    assert seen.status is OrderStatus.PARTIALLY_DELIVERED
    assert seen.fulfilment is not None
    assert (seen.fulfilment.delivered_units, seen.fulfilment.refunded_units) == (1, 2)
    assert (await check_ledger(shop.db)).ok


async def test_a_second_press_changes_nothing(shop: Platform) -> None:
    receipt = await order(shop)
    await shop.fulfilments.complete(SUPPLIER_TID, receipt.order_id)
    paid = await payable(shop)

    with pytest.raises(OrderFinished):
        await shop.fulfilments.complete(SUPPLIER_TID, receipt.order_id)
    with pytest.raises(OrderFinished):
        await shop.fulfilments.fail(SUPPLIER_TID, receipt.order_id, "late")

    assert await payable(shop) == paid
    assert (await shop.balances.balance(RESELLER)).balance == 150_50
    assert (await check_ledger(shop.db)).ok


async def test_after_the_deadline_it_fails_by_itself_once(shop: Platform, clock: FakeClock) -> None:
    late = await order(shop)
    clock.advance(minutes=20)
    on_time = await order(shop)
    await shop.fulfilments.start(SUPPLIER_TID, late.order_id)

    clock.advance(minutes=11)  # the first is 31 minutes old, the second 11
    assert await shop.fulfilments.expire_due("worker-a") == [late.order_id]
    assert await shop.fulfilments.expire_due("worker-b") == []

    assert (await shop.shop.order(RESELLER, late.order_id)).status is OrderStatus.FAILED
    assert (await shop.shop.order(RESELLER, on_time.order_id)).status is OrderStatus.PENDING
    assert (await shop.balances.balance(RESELLER)).balance == 200_00 - 49_50
    with pytest.raises(OrderFinished):  # the supplier comes back too late
        await shop.fulfilments.complete(SUPPLIER_TID, late.order_id)
    assert (await check_ledger(shop.db)).ok


async def test_a_bad_account_is_refused_before_anything_is_charged(shop: Platform) -> None:
    with pytest.raises(InvalidAccount) as refused:
        await shop.fulfilments.check("MOBILE-50", {"phone": "12345"})
    assert refused.value.params["label_zh"] == "手机号"
    quote = await shop.quotes.quote(RESELLER, "MOBILE-50", 1)
    with pytest.raises(InvalidAccount):
        await shop.shop.buy(RESELLER, quote.id, account={"phone": "12345"})
    with pytest.raises(InvalidAccount):
        await shop.shop.buy_now(RESELLER, "MOBILE-50", 1, idempotency_key="k1")  # no account

    assert (await shop.balances.balance(RESELLER)).balance == 200_00
    assert await notices(shop, DIRECT_TASK) == []


async def test_the_reseller_is_never_charged_beyond_his_balance(shop: Platform) -> None:
    with pytest.raises(InsufficientBalance):
        await order(shop, 5)
    assert await shop.fulfilments.tasks(SUPPLIER_TID) == []


async def test_accounts_topped_up_are_offered_again_newest_first(
    shop: Platform, clock: FakeClock
) -> None:
    await order(shop, account={"phone": "13800138000"})
    clock.advance(minutes=1)
    await order(shop, account={"phone": "13900139000"})
    clock.advance(minutes=1)
    await order(shop, account={"phone": " 13800138000"})  # the same account again

    saved = await shop.fulfilments.saved_accounts(RESELLER, "MOBILE-50")
    assert [s.values for s in saved] == [{"phone": "13800138000"}, {"phone": "13900139000"}]
    assert await shop.fulfilments.saved_account(RESELLER, saved[1].id) == {"phone": "13900139000"}
    await make_reseller(shop, 1002)
    with pytest.raises(NotFound):  # another reseller's accounts are not his
        await shop.fulfilments.saved_account(1002, saved[1].id)


async def test_a_quote_keeps_its_account_so_confirm_buys_for_it_once(shop: Platform) -> None:
    quote = await shop.fulfilments.quote(RESELLER, "MOBILE-50", 1, {"phone": "13700137000"})
    first = await shop.shop.buy(RESELLER, quote.id)  # Confirm: no account needed
    again = await shop.shop.buy(RESELLER, quote.id)  # pressed twice

    assert isinstance(first, Receipt) and isinstance(again, Receipt)
    assert again.replayed and again.order_id == first.order_id
    assert first.fulfilment is not None and first.fulfilment.account == {"phone": "13700137000"}
    assert (await shop.balances.balance(RESELLER)).balance == 150_50
    with pytest.raises(InvalidAccount):
        await shop.fulfilments.quote(RESELLER, "MOBILE-50", 1, {"phone": "1"})


async def test_another_supplier_cannot_see_or_fulfil_the_task(shop: Platform) -> None:
    receipt = await order(shop)
    await make_direct_sku(shop, "MOBILE-100", supplier=901)
    with pytest.raises(NotFound):
        await shop.fulfilments.complete(901, receipt.order_id)
    with pytest.raises(NotFound):
        await shop.fulfilments.task(901, receipt.order_id)
    assert (await shop.shop.order(RESELLER, receipt.order_id)).status is OrderStatus.PENDING

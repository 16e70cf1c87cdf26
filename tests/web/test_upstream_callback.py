"""A Dujiao-Next upstream's signed callback over HTTP: with ``KAMENG_UPSTREAM_CALLBACK_BASE``
set, each order placed there names ``/upstream/{name}/callback`` on our API, and a slow
order completes the moment the upstream calls it — no poll. A callback that never comes is
found by the poll; a wrongly signed one is 401 and changes nothing. Never bought twice."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.checks import check_ledger
from core.models import OrderStatus
from core.orders import Receipt
from core.platform import Platform
from core.procurement import ref_of
from core.settings import Settings
from core.upstreams.service import NewUpstream
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeProduct, Mode
from sandbox.instances import free_port
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, make_reseller
from tests.web.conftest import GENEROUS
from web.app import ApiServer

RESELLER = 1001
PRICE = 99_36  # 92.00 at the upstream, 8 % on top


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, port: int) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        upstream_callback_base=f"http://127.0.0.1:{port}",
        _env_file=None,
    )


@pytest.fixture
async def fake(clock: FakeClock) -> AsyncIterator[FakeDujiao]:
    catalogue = Catalogue()
    catalogue.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, stock=40))
    async with FakeDujiao(catalogue, now=lambda: clock.now().timestamp()) as server:
        yield server


@pytest.fixture
async def sku(platform: Platform, fake: FakeDujiao, port: int) -> AsyncIterator[str]:
    await make_reseller(platform, RESELLER, balance=500_00)
    new = NewUpstream("up", "dujiao", fake.base_url, fake.key, fake.secret, markup_bps=800)  # type: ignore[arg-type]
    await platform.upstreams.add(new, actor=ADMIN)
    await platform.upstreams.sync("up")
    [line] = (await platform.storefront.skus(RESELLER, limit=10)).lines
    async with ApiServer(platform, "127.0.0.1", port, GENEROUS):
        yield line.code


async def _slow_sale(platform: Platform, fake: FakeDujiao, sku: str, mode: Mode) -> Receipt:
    fake.catalogue.mode = mode
    receipt = await platform.shop.buy_now(RESELLER, sku, 1, idempotency_key="k")
    assert isinstance(receipt, Receipt) and receipt.status is OrderStatus.FULFILLING
    return receipt


async def _seen(platform: Platform, order_id: int) -> Receipt:
    return await platform.shop.order(RESELLER, order_id)


async def test_the_signed_callback_completes_the_order_without_polling(
    platform: Platform, fake: FakeDujiao, sku: str, port: int
) -> None:
    receipt = await _slow_sale(platform, fake, sku, Mode.SLOW)
    order = fake.catalogue.orders[ref_of(receipt.order_id)]
    assert order.callback_url == f"http://127.0.0.1:{port}/upstream/up/callback"
    asked = len(fake.requests)

    assert await fake.deliver(ref_of(receipt.order_id)) == 200

    seen = await _seen(platform, receipt.order_id)
    assert seen.status is OrderStatus.DELIVERED
    assert seen.codes == [f"FAKE-{ref_of(receipt.order_id)}-1"]
    assert len(fake.requests) == asked  # the codes came with the callback: nobody asked
    assert (await platform.balances.balance(RESELLER)).balance == 500_00 - PRICE
    assert len(fake.catalogue.orders) == 1
    assert (await check_ledger(platform.db)).ok


async def test_a_lost_callback_is_found_by_the_poll(
    platform: Platform, fake: FakeDujiao, sku: str, clock: FakeClock
) -> None:
    receipt = await _slow_sale(platform, fake, sku, Mode.CALLBACK_LOST)
    assert await fake.deliver(ref_of(receipt.order_id)) is None  # never arrives
    assert (await _seen(platform, receipt.order_id)).status is OrderStatus.FULFILLING

    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")

    seen = await _seen(platform, receipt.order_id)
    assert seen.status is OrderStatus.DELIVERED and len(seen.codes) == 1
    assert len(fake.catalogue.orders) == 1
    assert (await check_ledger(platform.db)).ok


async def test_a_wrongly_signed_callback_is_refused_and_changes_nothing(
    platform: Platform, fake: FakeDujiao, sku: str, clock: FakeClock
) -> None:
    receipt = await _slow_sale(platform, fake, sku, Mode.WRONG_SIGNATURE)

    assert await fake.deliver(ref_of(receipt.order_id)) == 401

    seen = await _seen(platform, receipt.order_id)
    assert seen.status is OrderStatus.FULFILLING and seen.codes == []
    assert (await platform.balances.balance(RESELLER)).balance == 500_00 - PRICE  # held
    clock.advance(minutes=1)
    await platform.procurement.poll_due("worker")  # the poll still finds the delivery
    assert (await _seen(platform, receipt.order_id)).status is OrderStatus.DELIVERED
    assert len(fake.catalogue.orders) == 1
    assert (await check_ledger(platform.db)).ok

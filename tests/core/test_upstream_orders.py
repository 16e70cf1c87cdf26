"""Placing and following orders through the adapters, against the fake upstreams over HTTP:
immediate codes, slow with a signed callback, the callback lost (the order is queried),
failure, partial delivery, out of stock, a timeout after the order was taken (the same
reference again is the same order), and a callback with a wrong signature."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from core.db import Database
from core.errors import UpstreamCallbackRefused, UpstreamError, UpstreamUnreachable
from core.platform import Platform, build_platform
from core.settings import Settings
from core.upstreams.adapter import Credentials, OrderState, UpstreamAdapter, UpstreamOrder
from core.upstreams.dujiao import DujiaoAdapter
from core.upstreams.dujiao import order_of as dujiao_order_of
from core.upstreams.http import UrllibClient
from core.upstreams.kameng import KamengAdapter
from core.upstreams.kameng import order_of as kameng_order_of
from core.upstreams.service import NewUpstream
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeKameng, FakeProduct, Mode
from tests.conftest import FakeClock

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
Json = dict[str, Any]


def _catalogue() -> Catalogue:
    c = Catalogue(balance=1000_00)
    c.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, stock=5))
    return c


class Receiver:
    """Our callback endpoint: each callback verified by the adapter, 200 or 401."""

    def __init__(self) -> None:
        self.adapter: UpstreamAdapter | None = None
        self.updates: list[UpstreamOrder] = []
        self.refused: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        assert self.adapter is not None
        try:
            update = self.adapter.verify_callback(dict(request.headers), await request.read())
        except UpstreamCallbackRefused as refused:
            self.refused.append(str(refused.params.get("reason")))
            return web.json_response({"ok": False, "message": "refused"}, status=401)
        self.updates.append(update)
        return web.json_response({"ok": True, "message": "received"})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/api/v1/upstream/callback", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield receiver, f"http://{host}:{port}/api/v1/upstream/callback"
    await runner.cleanup()


async def _dujiao(
    mode: Mode, receiver: tuple[Receiver, str], client_timeout: float = 5.0
) -> AsyncIterator[tuple[FakeDujiao, DujiaoAdapter]]:
    async with FakeDujiao(_catalogue(), now=NOW.timestamp) as fake:
        fake.catalogue.mode = mode
        fake.timeout_seconds = 1.0
        adapter = DujiaoAdapter(
            Credentials(fake.base_url, fake.key, fake.secret),
            UrllibClient(timeout=client_timeout),
            FakeClock(NOW),
            callback_url=receiver[1],
        )
        receiver[0].adapter = adapter
        yield fake, adapter


async def test_dujiao_immediate_codes(receiver: tuple[Receiver, str]) -> None:
    async for fake, adapter in _dujiao(Mode.IMMEDIATE, receiver):
        order = await adapter.place_order("K-1", "1", 2)
        assert order.state is OrderState.DELIVERED and order.delivered == 2
        assert order.codes == ("FAKE-K-1-1", "FAKE-K-1-2")
        assert order.cost == 184_00
        again = await adapter.place_order("K-1", "1", 2)  # the same reference: one order
        assert again.upstream_id == order.upstream_id and fake.catalogue.balance == 816_00
        assert await adapter.balance() == 816_00


async def test_dujiao_slow_with_a_signed_callback(receiver: tuple[Receiver, str]) -> None:
    async for fake, adapter in _dujiao(Mode.SLOW, receiver):
        order = await adapter.place_order("K-2", "1", 1)
        assert order.state is OrderState.PROCESSING and order.codes == ()
        assert await fake.deliver("K-2") == 200
        (update,) = receiver[0].updates
        assert (update.ref, update.state, update.codes) == (
            "K-2",
            OrderState.DELIVERED,
            ("FAKE-K-2-1",),
        )


async def test_dujiao_callback_lost_then_queried(receiver: tuple[Receiver, str]) -> None:
    async for fake, adapter in _dujiao(Mode.CALLBACK_LOST, receiver):
        order = await adapter.place_order("K-3", "1", 1)
        assert await fake.deliver("K-3") is None
        assert receiver[0].updates == []
        found = await adapter.query_order("K-3", order.upstream_id)
        assert found.state is OrderState.DELIVERED and found.codes == ("FAKE-K-3-1",)


async def test_dujiao_wrong_signature_is_refused(receiver: tuple[Receiver, str]) -> None:
    async for fake, adapter in _dujiao(Mode.WRONG_SIGNATURE, receiver):
        await adapter.place_order("K-4", "1", 1)
        assert await fake.deliver("K-4") == 401
        assert receiver[0].refused == ["invalid_signature"] and receiver[0].updates == []


@pytest.mark.parametrize(
    ("mode", "state", "delivered", "error"),
    [
        (Mode.FAIL, OrderState.FAILED, 0, "payment_failed"),
        (Mode.PARTIAL, OrderState.PARTIAL, 2, None),
        (Mode.OUT_OF_STOCK, OrderState.FAILED, 0, "insufficient_stock"),
    ],
)
async def test_dujiao_failure_partial_and_out_of_stock(
    receiver: tuple[Receiver, str], mode: Mode, state: OrderState, delivered: int, error: str | None
) -> None:
    async for _fake, adapter in _dujiao(mode, receiver):
        order = await adapter.place_order("K-5", "1", 3)
        if order.state is OrderState.PROCESSING or (mode is Mode.PARTIAL and not order.codes):
            order = await adapter.query_order("K-5", order.upstream_id)
        assert (order.state, order.delivered, order.error) == (state, delivered, error)


async def test_dujiao_timeout_after_taking_the_order(receiver: tuple[Receiver, str]) -> None:
    async for fake, adapter in _dujiao(Mode.TIMEOUT, receiver, client_timeout=0.3):
        with pytest.raises(UpstreamUnreachable):
            await adapter.place_order("K-6", "1", 1)
        assert len(fake.catalogue.orders) == 1  # taken there
        fake.catalogue.mode = Mode.IMMEDIATE
        again = await adapter.place_order("K-6", "1", 1)  # retried with the same reference
        assert len(fake.catalogue.orders) == 1 and again.state is OrderState.PROCESSING


async def test_dujiao_refuses_a_stale_or_wrong_request() -> None:
    async with FakeDujiao(_catalogue(), now=NOW.timestamp) as fake:
        late = FakeClock(datetime.fromtimestamp(NOW.timestamp() + 61, UTC))
        adapter = DujiaoAdapter(
            Credentials(fake.base_url, fake.key, fake.secret), UrllibClient(), late
        )
        with pytest.raises(UpstreamError) as refused:
            await adapter.products()
        assert refused.value.params["reason"] == "timestamp_expired"
        wrong = DujiaoAdapter(
            Credentials(fake.base_url, fake.key, "wrong"), UrllibClient(), FakeClock(NOW)
        )
        with pytest.raises(UpstreamError) as refused:
            await wrong.products()
        assert refused.value.params["reason"] == "invalid_signature"


async def test_kameng_orders_replay_and_refusals() -> None:
    async with FakeKameng(_catalogue()) as fake:
        adapter = KamengAdapter(Credentials(fake.base_url, fake.key, ""), UrllibClient())
        order = await adapter.place_order("K-7", "SKU1", 2)
        assert order.state is OrderState.DELIVERED and order.codes == ("FAKE-K-7-1", "FAKE-K-7-2")
        again = await adapter.place_order("K-7", "SKU1", 2)
        assert again.upstream_id == order.upstream_id and len(fake.catalogue.orders) == 1
        found = await adapter.query_order("K-7", order.upstream_id)
        assert found.codes == order.codes
        short = await adapter.place_order("K-8", "SKU1", 10)
        assert (short.state, short.error) == (OrderState.FAILED, "out_of_stock")
        with pytest.raises(UpstreamCallbackRefused):
            adapter.verify_callback({}, b"{}")
        bad = KamengAdapter(Credentials(fake.base_url, "nope", ""), UrllibClient())
        with pytest.raises(UpstreamError):
            await bad.products()


async def test_callbacks_reach_the_upstreams_own_address_and_verify(
    settings: Settings, db: Database
) -> None:
    """With ``KAMENG_UPSTREAM_CALLBACK_BASE`` set, a Dujiao-Next order names
    ``<base>/upstream/<name>/callback``, and that upstream's adapter verifies what arrives
    there (the signature covers that path)."""
    updates: list[UpstreamOrder] = []
    holder: dict[str, Platform] = {}

    async def handle(request: web.Request) -> web.Response:
        adapter = await holder["p"].upstreams.adapter(request.match_info["name"])
        updates.append(adapter.verify_callback(dict(request.headers), await request.read()))
        return web.json_response({"ok": True, "message": "received"})

    app = web.Application()
    app.router.add_post("/api/v1/upstream/{name}/callback", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}/api/v1"
    try:
        async with FakeDujiao(_catalogue(), now=NOW.timestamp) as fake:
            fake.catalogue.mode = Mode.SLOW
            live = settings.model_copy(update={"upstream_callback_base": base})
            platform = build_platform(live, clock=FakeClock(NOW), db=db)
            holder["p"] = platform
            new = NewUpstream("dj", "dujiao", fake.base_url, fake.key, fake.secret)
            await platform.upstreams.add(new, actor="test")
            adapter = await platform.upstreams.adapter("dj")
            order = await adapter.place_order("K-9", "1", 1)
            assert fake.catalogue.orders["K-9"].callback_url == f"{base}/upstream/dj/callback"
            assert await fake.deliver("K-9") == 200
            assert [(u.ref, u.state, u.upstream_id) for u in updates] == [
                ("K-9", OrderState.DELIVERED, order.upstream_id)
            ]
    finally:
        await runner.cleanup()


def _kameng_body(status: str, *, refunded: int | None = None, unit: bool = True) -> Json:
    body: Json = {"id": 9, "quantity": 3, "total": 285_00, "status": status, "codes": []}
    if unit:
        body["unit_price"] = 95_00
    if refunded is not None:
        body["fulfilment"] = {"delivered": 3 - refunded, "refunded": refunded}
    return body


@pytest.mark.parametrize(
    ("body", "cost"),
    [
        (_kameng_body("delivered", refunded=0), 285_00),  # 3 × 95.00, nothing given back
        (_kameng_body("delivered") | {"codes": [{"number": "C"}] * 3}, 285_00),  # from stock
        (_kameng_body("partially_delivered", refunded=1), 190_00),  # one unit refunded
        (_kameng_body("failed", refunded=3), 0),  # all refunded
        (_kameng_body("fulfilling", refunded=0), 285_00),  # taken, not delivered yet
        (_kameng_body("partially_delivered", refunded=1, unit=False), None),  # no unit price
        (_kameng_body("partially_delivered", refunded=0), None),  # refund not said
        ({"id": 9, "quantity": 3, "status": "delivered", "codes": []}, None),  # no total
    ],
)
def test_a_kameng_order_costs_its_total_less_what_it_refunded(body: Json, cost: int | None) -> None:
    assert kameng_order_of("K-9", body).cost == cost


@pytest.mark.parametrize(
    ("status", "cost"),
    [
        ("delivered", 285_00),
        ("completed", 285_00),
        ("paid", 285_00),
        ("partially_delivered", 285_00),  # not ended: the whole order taken so far
        # the whole order's amount; protocol 1.0 does not say what a partial one gave back
        ("partially_refunded", None),
    ],
)
def test_a_dujiao_order_costs_its_amount(status: str, cost: int | None) -> None:
    body = {"ok": True, "order_id": 9, "status": status, "amount": "285.00"}
    assert dujiao_order_of("K-9", body).cost == cost


@pytest.mark.parametrize(
    ("status", "state", "codes"),
    [
        # Dujiao-Next's statuses (internal/constants; an order sums its child orders)
        ("pending_payment", OrderState.PROCESSING, 0),
        ("paid", OrderState.PROCESSING, 0),
        ("fulfilling", OrderState.PROCESSING, 0),
        # some children delivered, the others still paid: not ended, asked again; the codes
        # so far are taken with the final answer (which lists them all), never twice
        ("partially_delivered", OrderState.PROCESSING, 0),
        ("delivered", OrderState.DELIVERED, 2),
        ("completed", OrderState.DELIVERED, 2),
        ("partially_refunded", OrderState.PARTIAL, 2),  # ended: the rest given back
        ("canceled", OrderState.FAILED, 0),
        ("refunded", OrderState.FAILED, 0),
    ],
)
def test_a_dujiao_order_ends_only_in_a_final_status(
    status: str, state: OrderState, codes: int
) -> None:
    body = {
        "ok": True,
        "order_id": 9,
        "status": status,
        "amount": "285.00",
        "fulfillment": {"type": "auto", "payload": "A-1\nA-2"},
    }
    order = dujiao_order_of("K-9", body)
    assert (order.state, len(order.codes)) == (state, codes)

"""Kameng as a Dujiao-Next upstream: Kameng's own ``dujiao`` adapter (the client a
Dujiao-Next shop's connection is modelled on) against Kameng's real API app over HTTP, and a
small shop-side receiver that verifies the signed callbacks as the adapter does."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web

from core.checks import check_ledger
from core.db import Database
from core.decisions.fulfilment import AccountField
from core.dujiao_server import DujiaoCredentials, order_body
from core.errors import UpstreamCallbackRefused, UpstreamError
from core.models import OrderStatus, Role
from core.orders import Receipt
from core.platform import Platform, build_platform
from core.settings import Settings
from core.upstreams.adapter import AccountRef, Credentials, OrderState, UpstreamOrder
from core.upstreams.dujiao import CALLBACK_PATH, DujiaoAdapter, order_of, signed_headers
from core.upstreams.http import UrllibClient
from core.upstreams.service import NewUpstream
from sandbox.demo_upstream import GAME_USER_ID, ZONE_ID, demo_catalogue
from sandbox.fake_upstream import Catalogue, FakeKameng
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, SUPPLIER_TID, make_direct_sku, make_reseller, make_sku
from tests.web.conftest import GENEROUS
from web.app import ApiServer
from web.callback_sender import CallbackSender

RESELLER = 3001
ADMIN_TID = 3099


@dataclass
class Shop:
    """The Dujiao-Next shop: its connection to Kameng, and its callback endpoint."""

    adapter: DujiaoAdapter
    base_url: str
    creds: DujiaoCredentials
    callbacks: list[UpstreamOrder] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    fail_next: int = 0  # answer this many callbacks with a 503 first
    failed: int = 0

    async def receive(self, request: web.Request) -> web.Response:
        if self.fail_next:
            self.fail_next -= 1
            self.failed += 1
            self.arrived.set()
            return web.json_response({"ok": False, "message": "busy"}, status=503)
        try:
            order = self.adapter.verify_callback(dict(request.headers), await request.read())
        except UpstreamCallbackRefused as refused:
            self.refused.append(str(refused.params.get("reason")))
            return web.json_response({"ok": False, "message": "refused"}, status=401)
        self.callbacks.append(order)
        self.arrived.set()
        return web.json_response({"ok": True, "message": "received"})

    async def until(self, state: OrderState) -> UpstreamOrder:
        while True:
            for order in self.callbacks:
                if order.state is state:
                    return order
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), timeout=20)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """The shop's callback receiver listens on loopback: allowed here, as in the sandbox."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        callbacks_allow_private=True,
        _env_file=None,
    )


@pytest.fixture
async def server(platform: Platform) -> AsyncIterator[ApiServer]:
    """The API, and the one callback sender beside it as ``kameng api serve`` runs it."""
    callbacks = CallbackSender(platform, poll_seconds=0.05)
    async with ApiServer(platform, "127.0.0.1", 0, GENEROUS) as running:
        callbacks.start()
        yield running
        await callbacks.stop()


@pytest.fixture
async def shop(platform: Platform, server: ApiServer, clock: FakeClock) -> AsyncIterator[Shop]:
    await make_reseller(platform, RESELLER, balance=500_00)
    await platform.api_keys.issue(RESELLER, actor=ADMIN)
    creds = await platform.dujiao.enable(RESELLER, actor=ADMIN)
    receiver = web.Application()
    runner = web.AppRunner(receiver, access_log=None)
    holder: list[Shop] = []

    async def receive(request: web.Request) -> web.Response:
        return await holder[0].receive(request)

    receiver.router.add_post(CALLBACK_PATH, receive)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    adapter = DujiaoAdapter(
        Credentials(server.base_url, creds.key, creds.secret),
        UrllibClient(timeout=10),
        clock,
        callback_url=f"http://{host}:{port}{CALLBACK_PATH}",
    )
    holder.append(Shop(adapter, server.base_url, creds))
    yield holder[0]
    await runner.cleanup()


async def test_an_upstreams_direct_top_up_is_resold_with_its_form(
    platform: Platform, shop: Shop
) -> None:
    """A Dujiao-Next downstream sees our upstream's direct top-up as a manual product whose
    form is the upstream's fields, as our own bot and API ask for them."""
    catalogue = Catalogue()
    catalogue.add(demo_catalogue().products[104])
    async with FakeKameng(catalogue) as fake:
        new = NewUpstream("up", "kameng", fake.base_url, fake.key, "", markup_bps=800)  # type: ignore[arg-type]
        await platform.upstreams.add(new, actor=ADMIN)
        await platform.upstreams.sync("up")
        [mobile] = await shop.adapter.products()
    assert mobile.kind == "direct"
    assert [(f.name, f.label_en, f.label_zh) for f in mobile.account_fields] == [
        ("user_id", "Game user ID", "游戏用户ID"),
        ("zone_id", "Server (zone) ID", "区服ID"),
    ]
    assert [f.pattern for f in mobile.account_fields] == [
        f"(?:{GAME_USER_ID.pattern})",
        f"(?:{ZONE_ID.pattern})",
    ]


async def test_an_optional_field_is_served_as_not_required_and_may_be_left_out(
    platform: Platform, shop: Shop
) -> None:
    fields = ("uid:Game user ID:游戏用户ID:[0-9]{5,12}", "note?:Note:备注:\\S.*")
    await make_direct_sku(platform, "GAME-60", fields=fields)
    [game] = await shop.adapter.products()
    assert [(f.name, f.required) for f in game.account_fields] == [("uid", True), ("note", False)]

    placed = await shop.adapter.place_order("SHOP-6001", game.id, 1, AccountRef({"uid": "123456"}))
    assert placed.state is OrderState.PROCESSING and placed.upstream_id is not None
    seen = await platform.fulfilments.task(SUPPLIER_TID, int(placed.upstream_id))
    assert seen.account == {"uid": "123456"}


async def _balance(platform: Platform) -> int:
    return (await platform.balances.balance(RESELLER)).balance


async def test_products_and_balance_at_the_resellers_prices(platform: Platform, shop: Shop) -> None:
    await make_sku(platform, stock=3, price=92_00, face_value=100_00)
    await make_direct_sku(platform)

    products = {p.name: p for p in await shop.adapter.products()}
    steam, mobile = products["STEAM-100 card"], products["MOBILE-50 top-up"]
    assert (steam.cost, steam.face_value, steam.stock, steam.selling) == (92_00, 100_00, 3, True)
    assert steam.kind == "codes" and steam.account_fields == ()
    assert mobile.kind == "direct"  # its field as described here: labels, an anchored regex
    phone = AccountField("phone", r"(?:1[3-9]\d{9})", "Phone number", "手机号")
    assert mobile.account_fields == (phone,)
    assert mobile.cost == 49_50
    assert await shop.adapter.balance() == 500_00


async def test_a_purchase_with_codes_and_the_same_order_number_twice_is_one_order(
    platform: Platform, shop: Shop
) -> None:
    codes = await make_sku(platform, stock=3)
    [steam] = await shop.adapter.products()

    bought = await shop.adapter.place_order("SHOP-1001", steam.id, 2)
    assert bought.state is OrderState.DELIVERED
    assert len(set(bought.codes)) == 2 and set(bought.codes) <= set(codes)
    assert bought.cost == 184_00
    assert await _balance(platform) == 500_00 - 184_00

    again = await shop.adapter.place_order("SHOP-1001", steam.id, 2)
    assert again.upstream_id == bought.upstream_id and set(again.codes) == set(bought.codes)
    assert await _balance(platform) == 500_00 - 184_00
    _, total = await platform.shop.orders(RESELLER)
    assert total == 1
    # the same number for another quantity is another request: refused, nothing charged
    refused = await shop.adapter.place_order("SHOP-1001", steam.id, 1)
    assert refused.state is OrderState.FAILED and refused.error == "bad_request"
    assert (await check_ledger(platform.db)).ok


async def test_a_direct_top_up_ends_by_the_signed_callback(platform: Platform, shop: Shop) -> None:
    await make_direct_sku(platform)
    [mobile] = await shop.adapter.products()

    placed = await shop.adapter.place_order(
        "SHOP-2001", mobile.id, 1, AccountRef({"phone": "13800138000"})
    )
    assert placed.state is OrderState.PROCESSING and placed.upstream_id is not None
    assert await _balance(platform) == 500_00 - 49_50
    order_id = int(placed.upstream_id)
    seen = await platform.fulfilments.task(SUPPLIER_TID, order_id)
    assert seen.account == {"phone": "13800138000"}

    await platform.fulfilments.complete(SUPPLIER_TID, order_id, proof="SN-42")
    delivered = await shop.until(OrderState.DELIVERED)
    assert delivered.ref == "SHOP-2001" and delivered.upstream_id == placed.upstream_id
    assert delivered.codes == ("SN-42",)  # the supplier's proof is the delivery's payload
    assert shop.refused == []
    polled = await shop.adapter.query_order("SHOP-2001", placed.upstream_id)
    assert polled.state is OrderState.DELIVERED
    assert (await check_ledger(platform.db)).ok


async def test_a_failed_top_up_is_refunded_and_called_back_as_canceled(
    platform: Platform, shop: Shop
) -> None:
    await make_direct_sku(platform)
    [mobile] = await shop.adapter.products()
    placed = await shop.adapter.place_order(
        "SHOP-3001", mobile.id, 1, AccountRef({"phone": "13800138000"})
    )
    assert placed.upstream_id is not None
    await platform.fulfilments.fail(SUPPLIER_TID, int(placed.upstream_id), "number not found")
    failed = await shop.until(OrderState.FAILED)
    assert failed.ref == "SHOP-3001" and failed.error == "canceled"
    assert await _balance(platform) == 500_00
    assert (await check_ledger(platform.db)).ok


async def test_a_top_up_ended_part_delivered_is_partially_refunded_and_final_for_the_shop(
    platform: Platform, shop: Shop, clock: FakeClock
) -> None:
    await make_direct_sku(platform)
    [mobile] = await shop.adapter.products()
    placed = await shop.adapter.place_order(
        "SHOP-4001", mobile.id, 2, AccountRef({"phone": "13800138000"})
    )
    assert placed.upstream_id is not None

    await platform.fulfilments.complete(
        SUPPLIER_TID, int(placed.upstream_id), units=1, proof="SN-7"
    )

    # Dujiao-Next's final status for "some delivered, the rest refunded": a Dujiao-Next
    # client (ours) takes it as ended at once, not as still delivering until its deadline
    called = await shop.until(OrderState.PARTIAL)
    assert called.ref == "SHOP-4001" and called.codes == ("SN-7",)
    polled = await shop.adapter.query_order("SHOP-4001", placed.upstream_id)
    assert polled.state is OrderState.PARTIAL and polled.delivered == 1
    status, body = await _raw(
        shop,
        "GET",
        f"/api/v1/upstream/orders/{placed.upstream_id}",
        now=int(clock.now().timestamp()),
    )
    assert status == 200 and body["status"] == "partially_refunded"
    assert await _balance(platform) == 500_00 - 49_50  # the undelivered unit back
    assert (await check_ledger(platform.db)).ok


async def test_a_code_order_partly_refunded_after_the_sale_is_partially_refunded(
    platform: Platform, shop: Shop, clock: FakeClock
) -> None:
    """Kameng's own "partly refunded" (an admin or after-sales gave back some units of a
    delivered order) is Dujiao-Next's ``partially_refunded``: some delivered, the rest
    refunded — not ``delivered``, which would claim every unit still stands."""
    await make_sku(platform, stock=3)
    [steam] = await shop.adapter.products()
    bought = await shop.adapter.place_order("SHOP-5001", steam.id, 2)
    assert bought.state is OrderState.DELIVERED and bought.upstream_id is not None

    await platform.shop.refund(
        int(bought.upstream_id), units=1, idempotency_key="r-5001", actor=ADMIN
    )

    polled = await shop.adapter.query_order("SHOP-5001", bought.upstream_id)
    assert polled.state is OrderState.PARTIAL
    status, body = await _raw(
        shop,
        "GET",
        f"/api/v1/upstream/orders/{bought.upstream_id}",
        now=int(clock.now().timestamp()),
    )
    assert status == 200 and body["status"] == "partially_refunded"
    assert body["fulfillment"]["status"] == "delivered"  # what was handed over, still shown
    assert await _balance(platform) == 500_00 - 92_00  # one unit back
    assert (await check_ledger(platform.db)).ok


async def test_an_approved_bad_code_refund_calls_the_shop_back_with_only_the_kept_codes(
    platform: Platform, shop: Shop, clock: FakeClock
) -> None:
    """After-sales refunds one code of a delivered order: the Dujiao-Next shop is called back
    ``partially_refunded`` listing only the code the buyer keeps (a client counts the
    payload's codes as delivered), once; refunding the other code too is ``refunded``."""
    await make_sku(platform, stock=3)
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await platform.catalogue.ensure_user(ADMIN_TID)
    [steam] = await shop.adapter.products()
    bought = await shop.adapter.place_order("SHOP-5101", steam.id, 2)
    assert bought.state is OrderState.DELIVERED and bought.upstream_id is not None
    order_id = int(bought.upstream_id)
    first, second = bought.codes
    reported = await platform.aftersales.report(RESELLER, order_id, 1, reason="used")

    await platform.aftersales.refund(ADMIN_TID, reported.report.id)
    again = await platform.aftersales.refund(ADMIN_TID, reported.report.id)

    assert again.already_decided
    called = await shop.until(OrderState.PARTIAL)
    assert called.ref == "SHOP-5101" and called.codes == (second,)
    polled = await shop.adapter.query_order("SHOP-5101", bought.upstream_id)
    assert polled.state is OrderState.PARTIAL and polled.codes == (second,)
    assert first not in polled.codes
    await asyncio.sleep(0.3)  # the sender polls every 0.05 s: a second callback would be here
    assert len(shop.callbacks) == 1

    other = await platform.aftersales.report(RESELLER, order_id, 2, reason="used too")
    await platform.aftersales.refund(ADMIN_TID, other.report.id)
    ended = await shop.until(OrderState.FAILED)  # Dujiao-Next's ``refunded``
    assert ended.error == "refunded" and ended.codes == ()
    assert (await check_ledger(platform.db)).ok


def test_an_order_still_buying_the_rest_after_codes_from_stock_is_in_between() -> None:
    """Codes handed over from our late stock, the rest still bought upstream: Dujiao-Next's
    in-between ``partially_delivered`` (a client asks again), the codes so far shown."""
    receipt = Receipt(
        order_id=9,
        sku_code="U1-1",
        sku_name="Steam 100",
        quantity=3,
        unit_price=99_36,
        total=3 * 99_36,
        codes=["LATE-1"],
        balance_after=0,
        created_at=datetime(2026, 12, 5, tzinfo=UTC),
        status=OrderStatus.FULFILLING,
    )
    body = order_body(receipt, "SHOP-9", "CNY")
    assert body["status"] == "partially_delivered"
    assert body["fulfillment"]["payload"] == "LATE-1"
    assert order_of("SHOP-9", body).state is OrderState.PROCESSING
    ended = order_body(replace(receipt, status=OrderStatus.PARTIALLY_DELIVERED), "SHOP-9", "CNY")
    assert ended["status"] == "partially_refunded"
    assert order_of("SHOP-9", ended).state is OrderState.PARTIAL


async def _raw(
    shop: Shop,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    now: int,
    secret: str | None = None,
    key: str | None = None,
) -> tuple[int, dict[str, object]]:
    headers = signed_headers(
        key or shop.creds.key, secret or shop.creds.secret, method, path, now, body
    )
    return await _send(shop, method, path, body, headers)


async def _send(
    shop: Shop, method: str, path: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, shop.base_url + path, data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.json(content_type=None)


async def test_wrong_signature_stale_timestamp_and_replay_get_the_documented_codes(
    platform: Platform, shop: Shop, clock: FakeClock
) -> None:
    await make_sku(platform, stock=2)
    [steam] = await shop.adapter.products()
    now = int(clock.now().timestamp())
    ping = "/api/v1/upstream/ping"

    status, body = await _raw(shop, "POST", ping, now=now, secret="not-the-secret")
    assert (status, body["error_code"], body["ok"]) == (401, "invalid_signature", False)
    status, body = await _raw(shop, "POST", ping, now=now - 61)
    assert (status, body["error_code"]) == (401, "timestamp_expired")
    status, body = await _raw(shop, "POST", ping, now=now + 61)
    assert (status, body["error_code"]) == (401, "timestamp_expired")
    status, body = await _send(shop, "POST", ping, b"", {})
    assert (status, body["error_code"]) == (401, "missing_auth_headers")
    status, body = await _raw(shop, "POST", ping, now=now, key="999999")
    assert (status, body["error_code"]) == (401, "invalid_api_key")
    stale = DujiaoAdapter(
        Credentials(shop.base_url, shop.creds.key, shop.creds.secret),
        UrllibClient(timeout=10),
        FakeClock(clock.now().replace(minute=clock.now().minute + 2)),
    )
    with pytest.raises(UpstreamError) as refused:
        await stale.balance()
    assert refused.value.params["reason"] == "timestamp_expired"

    # a signed order request captured and sent again
    order = json.dumps(
        {"sku_id": int(steam.id), "quantity": 1, "downstream_order_no": "SHOP-9"}
    ).encode()
    path = "/api/v1/upstream/orders"
    headers = signed_headers(shop.creds.key, shop.creds.secret, "POST", path, now, order)
    status, first = await _send(shop, "POST", path, order, headers)
    assert status == 200 and first["ok"] is True and first["status"] == "delivered"
    status, again = await _send(shop, "POST", path, order, headers)  # within the window
    assert status == 200 and again["order_id"] == first["order_id"]  # the same one order
    clock.advance(seconds=61)
    status, late = await _send(shop, "POST", path, order, headers)
    assert (status, late["error_code"]) == (401, "timestamp_expired")
    tampered = order.replace(b'"quantity":1', b'"quantity":2')
    status, body = await _send(shop, "POST", path, tampered, headers)
    assert status == 401
    assert await _balance(platform) == 500_00 - 92_00
    assert (await check_ledger(platform.db)).ok


async def test_business_refusals_use_the_documented_codes(
    platform: Platform, shop: Shop, clock: FakeClock
) -> None:
    await make_sku(platform, stock=1)
    [steam] = await shop.adapter.products()
    now = int(clock.now().timestamp())
    path = "/api/v1/upstream/orders"
    cases = [
        (b"not json", 400, "bad_request"),
        (b'{"sku_id": 1}', 400, "bad_request"),
        (b'{"sku_id": 999999, "quantity": 1}', 400, "sku_unavailable"),
        (json.dumps({"sku_id": int(steam.id), "quantity": 5}).encode(), 409, "insufficient_stock"),
        (
            json.dumps(
                {"sku_id": int(steam.id), "quantity": 1, "callback_url": "ftp://x"}
            ).encode(),
            400,
            "invalid_callback_url",
        ),
    ]
    for body, want_status, code in cases:
        status, answer = await _raw(shop, "POST", path, body, now=now)
        assert (status, answer["error_code"]) == (want_status, code), body
    status, answer = await _raw(shop, "GET", "/api/v1/upstream/orders/424242", now=now)
    assert (status, answer["error_code"]) == (404, "order_not_found")
    status, answer = await _raw(shop, "GET", "/api/v1/upstream/products", now=now)
    assert status == 200 and answer["total"] == 1
    # a key revoked (a new one issued) no longer opens the connection
    await platform.api_keys.issue(RESELLER, actor=ADMIN)
    status, answer = await _raw(shop, "POST", "/api/v1/upstream/ping", now=now)
    assert (status, answer["error_code"]) == (401, "invalid_api_key")
    assert await _balance(platform) == 500_00


async def test_a_callback_the_shop_did_not_take_is_sent_again_with_backoff(
    platform: Platform, shop: Shop, clock: FakeClock
) -> None:
    await make_direct_sku(platform)
    [mobile] = await shop.adapter.products()
    shop.fail_next = 2
    placed = await shop.adapter.place_order(
        "SHOP-4001", mobile.id, 1, AccountRef({"phone": "13800138000"})
    )
    assert placed.upstream_id is not None
    await platform.fulfilments.complete(SUPPLIER_TID, int(placed.upstream_id), proof="SN-7")
    while shop.failed < 2:  # both callbacks (fulfilling, delivered) refused once each
        shop.arrived.clear()
        await asyncio.wait_for(shop.arrived.wait(), timeout=20)
    assert shop.callbacks == []
    for _ in range(400):  # until the sender has scheduled both retries
        if (await platform.outbox.stats(["dujiao_callback"])).failing == 2:
            break
        await asyncio.sleep(0.05)
    clock.advance(seconds=6)  # past the first backoff (5 s): sent again
    delivered = await shop.until(OrderState.DELIVERED)
    assert delivered.ref == "SHOP-4001" and delivered.codes == ("SN-7",)
    for _ in range(400):  # the sender marks each row sent after the shop answered
        if (await platform.outbox.stats(["dujiao_callback"])).pending == 0:
            break
        await asyncio.sleep(0.05)
    else:
        stats = await platform.outbox.stats(["dujiao_callback"])
        raise AssertionError(f"still pending: {stats} {shop.callbacks} {shop.failed}")
    assert len(shop.callbacks) == 2  # each state change called back once, nothing given up


async def test_a_loopback_callback_url_is_refused_in_production(
    settings: Settings, clock: FakeClock, db: Database, shop: Shop
) -> None:
    strict = build_platform(
        settings.model_copy(update={"callbacks_allow_private": False}), clock=clock, db=db
    )
    await make_sku(strict, stock=1)
    async with ApiServer(strict, "127.0.0.1", 0, GENEROUS) as production:
        shop.base_url = production.base_url
        [steam] = await shop.adapter.products()
        body = json.dumps(
            {"sku_id": int(steam.id), "quantity": 1, "callback_url": "http://127.0.0.1:9/cb"}
        ).encode()
        status, answer = await _raw(
            shop, "POST", "/api/v1/upstream/orders", body, now=int(clock.now().timestamp())
        )
    assert (status, answer["error_code"]) == (400, "invalid_callback_url")
    assert await _balance(strict) == 500_00

"""The one HTTP callback sender: Kameng's signed callbacks and a Dujiao-Next shop's callbacks
go out of one round, one lease shares them between instances without sending one twice, and
a crash right after a Dujiao-Next sale cannot lose that order's callbacks.

Real boundaries: the reseller API over HTTP (the shop's ``DujiaoAdapter`` places orders
through it), a shop on 127.0.0.1 that verifies both signatures, the test's database file (or
PostgreSQL), and for two instances two platforms, each with its own engine on that database.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select, update

from core.clock import Clock, SystemClock
from core.db import Database
from core.dujiao_server import CALLBACK, DujiaoCredentials
from core.errors import UpstreamError, UpstreamUnreachable
from core.models import ApiCallback, CallbackDelivery, Order, OutboxMessage
from core.order_callbacks import KIND, SIGNATURE_HEADER, verify
from core.orders import Receipt
from core.platform import Platform, build_platform
from core.settings import Settings
from core.upstreams.adapter import (
    AccountRef,
    Credentials,
    OrderState,
    ProductKind,
    UpstreamOrder,
    UpstreamProduct,
)
from core.upstreams.dujiao import CALLBACK_PATH, DujiaoAdapter
from core.upstreams.http import UrllibClient
from sandbox.instances import free_port
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, SUPPLIER_TID, make_direct_sku, make_reseller, make_sku
from tests.web.conftest import GENEROUS
from web.app import ApiServer
from web.callback_sender import CallbackSender

RESELLER = 3101
KAMENG_PATH = "/kameng/callback"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        callbacks_allow_private=True,  # the shop listens on 127.0.0.1
        _env_file=None,
    )


@dataclass
class ShopSystem:
    """A reseller's system taking both protocols: Kameng's callbacks at ``KAMENG_PATH``, and
    as a Dujiao-Next shop its connection's callbacks at ``CALLBACK_PATH``; each verified."""

    clock: Clock
    base: str = ""
    kameng_secret: str = ""
    adapter: DujiaoAdapter | None = None
    delay: float = 0.0  # a slow shop: the rounds of two instances overlap
    kameng: list[dict[str, Any]] = field(default_factory=list)
    dujiao: list[UpstreamOrder] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    async def take_kameng(self, request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.sleep(self.delay)
        now = int(self.clock.now().timestamp())
        if not verify(self.kameng_secret, request.headers.get(SIGNATURE_HEADER, ""), body, now):
            self.refused.append("kameng")
            return web.Response(status=401)
        self.kameng.append(json.loads(body))
        return web.Response(text="ok")

    async def take_dujiao(self, request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.sleep(self.delay)
        assert self.adapter is not None
        try:
            self.dujiao.append(self.adapter.verify_callback(dict(request.headers), body))
        except Exception as refused:
            self.refused.append(f"dujiao: {refused}")
            return web.json_response({"ok": False}, status=401)
        return web.json_response({"ok": True, "message": "received"})


async def _listen(system: ShopSystem) -> web.AppRunner:
    app = web.Application()
    app.router.add_post(KAMENG_PATH, system.take_kameng)
    app.router.add_post(CALLBACK_PATH, system.take_dujiao)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    system.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    return runner


async def _reseller_with_both(platform: Platform, system: ShopSystem) -> DujiaoCredentials:
    """A reseller with an API key, a Kameng callback to ``system`` and a Dujiao-Next
    connection; a SKU of codes and a direct top-up on sale."""
    await make_sku(platform, stock=20)
    await make_direct_sku(platform)
    await make_reseller(platform, RESELLER, balance=5000_00)
    await platform.api_keys.issue(RESELLER, actor=ADMIN)
    kameng = await platform.order_callbacks.set(RESELLER, system.base + KAMENG_PATH, actor=ADMIN)
    system.kameng_secret = kameng.secret
    return await platform.dujiao.enable(RESELLER, actor=ADMIN)


def _connect(system: ShopSystem, base_url: str, creds: DujiaoCredentials) -> None:
    system.adapter = DujiaoAdapter(
        Credentials(base_url, creds.key, creds.secret),
        UrllibClient(timeout=10),
        system.clock,
        callback_url=system.base + CALLBACK_PATH,
    )


@pytest.fixture
async def shop(platform: Platform, clock: FakeClock) -> AsyncIterator[ShopSystem]:
    """The reseller's system, and the API serving (without a sender of its own: the tests
    run the rounds)."""
    system = ShopSystem(clock)
    runner = await _listen(system)
    creds = await _reseller_with_both(platform, system)
    async with ApiServer(platform, "127.0.0.1", 0, GENEROUS) as api:
        _connect(system, api.base_url, creds)
        yield system
    await runner.cleanup()


async def _direct_product(adapter: DujiaoAdapter) -> UpstreamProduct:
    [mobile] = [p for p in await adapter.products() if p.kind is ProductKind.DIRECT]
    return mobile


async def _direct_order(shop: ShopSystem, number: str) -> int:
    assert shop.adapter is not None
    mobile = await _direct_product(shop.adapter)
    placed = await shop.adapter.place_order(
        number, mobile.id, 1, AccountRef({"phone": "13800138000"})
    )
    assert placed.state is OrderState.PROCESSING and placed.upstream_id, placed
    return int(placed.upstream_id)


async def _pending(platform: Platform) -> int:
    return (await platform.outbox.stats([KIND, CALLBACK])).pending


async def test_one_round_delivers_both_kinds_of_callback(
    platform: Platform, shop: ShopSystem
) -> None:
    order_id = await _direct_order(shop, "SHOP-1")
    await platform.fulfilments.complete(SUPPLIER_TID, order_id, proof="SN-1")
    async with platform.db.reading() as session:
        pending = OutboxMessage.outcome.is_(None)
        callbacks = OutboxMessage.kind.in_([KIND, CALLBACK])
        kinds = set(await session.scalars(select(OutboxMessage.kind).where(pending, callbacks)))
    assert kinds == {CALLBACK, KIND}  # both due
    sender = CallbackSender(platform)
    try:
        delivered = await sender.round()
    finally:
        await sender.stop()

    assert await _pending(platform) == 0 and shop.refused == []
    assert [(b["event"], b["order_id"]) for b in shop.kameng] == [
        ("order.fulfilling", order_id),
        ("order.delivered", order_id),
    ]
    # the document's body is the order as it is when sent: delivered, both times
    assert [(o.ref, o.state) for o in shop.dujiao] == [("SHOP-1", OrderState.DELIVERED)] * 2
    assert shop.dujiao[-1].codes == ("SN-1",)
    assert delivered == 4
    # one delivery log for both: the reseller reads the Dujiao-Next attempts there too
    log = await platform.order_callbacks.deliveries(RESELLER)
    assert sorted(line.event for line in log) == [
        "dujiao.delivered",
        "dujiao.fulfilling",
        "order.delivered",
        "order.fulfilling",
    ]
    assert {line.outcome for line in log} == {"delivered"}


async def test_a_callback_that_cannot_be_built_is_retried_and_the_others_go_out(
    platform: Platform, shop: ShopSystem
) -> None:
    """The Kameng callback's secret no longer decrypts (a damaged row, say): that callback
    is logged and retried on the schedule, and the Dujiao-Next callbacks of the same round
    still go out."""
    order_id = await _direct_order(shop, "SHOP-7")
    await platform.fulfilments.complete(SUPPLIER_TID, order_id, proof="SN-7")
    async with platform.db.transaction() as session:
        await session.execute(update(ApiCallback).values(secret_ciphertext=b"damaged"))
    sender = CallbackSender(platform)
    try:
        assert await sender.round() == 2  # the shop's two Dujiao-Next callbacks
    finally:
        await sender.stop()
    assert shop.kameng == [] and len(shop.dujiao) == 2
    log = await platform.order_callbacks.deliveries(RESELLER)
    kameng = [line for line in log if line.event.startswith("order.")]
    assert sorted(line.event for line in kameng) == ["order.delivered", "order.fulfilling"]
    assert all(line.outcome == "retrying" and line.next_retry_at for line in kameng)
    assert all((line.error or "").startswith("not built: ") for line in kameng)


async def test_two_instances_never_deliver_one_callback_twice(
    platform: Platform, settings: Settings, clock: FakeClock, shop: ShopSystem
) -> None:
    for n in range(6):  # six sales of codes: six Kameng callbacks
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key=f"sale-{n}")
    for n in range(2):  # two top-ups delivered: two of each kind per top-up
        order_id = await _direct_order(shop, f"SHOP-{n}")
        await platform.fulfilments.complete(SUPPLIER_TID, order_id, proof=f"SN-{n}")
    due = await _pending(platform)
    assert due == 6 + 2 * 2 + 2 * 2
    other = build_platform(settings, clock=clock)  # another instance: its own engine
    first = CallbackSender(platform, batch=3)
    second = CallbackSender(other, batch=3)
    shop.delay = 0.05  # each round takes a while: the two overlap
    delivered = [0, 0]
    try:
        for _ in range(20):
            a, b = await asyncio.gather(first.round(), second.round())
            delivered[0] += a
            delivered[1] += b
            if await _pending(platform) == 0:
                break
    finally:
        await first.stop()
        await second.stop()
        await other.close()

    assert shop.refused == []
    kameng = [(body["order_id"], body["event"]) for body in shop.kameng]
    dujiao = [(order.ref, order.state) for order in shop.dujiao]
    assert len(kameng) == len(set(kameng)) == 10  # each once
    # a Dujiao-Next body is the order as it is when sent: two per top-up, told apart by
    # the delivery log below (one line per outbox row)
    assert sorted(dujiao) == sorted([(f"SHOP-{n}", OrderState.DELIVERED) for n in (0, 1)] * 2)
    assert sum(delivered) == due and all(delivered)  # shared, neither sent all
    async with platform.db.reading() as session:
        lines, rows = (
            await session.execute(
                select(func.count(), func.count(CallbackDelivery.outbox_id.distinct()))
            )
        ).one()
    assert lines == rows == due  # one attempt logged per callback


async def test_a_crash_right_after_the_sale_still_calls_the_shop_back(
    platform: Platform, shop: ShopSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shop's order number and callback URL used to be written after the sale had
    committed: a crash between the two lost every callback of that order. Now they commit
    with the sale, so a crash just after it (injected here, where the old write was) loses
    nothing: the API answers 500, the order is paid, and its callbacks go out."""
    buy_now = platform.shop.buy_now

    async def then_crash(*args: Any, **kwargs: Any) -> Any:
        await buy_now(*args, **kwargs)
        raise RuntimeError("the process died right after the sale")

    monkeypatch.setattr(platform.shop, "buy_now", then_crash)
    assert shop.adapter is not None
    mobile = await _direct_product(shop.adapter)
    with pytest.raises(UpstreamError):  # the API answered 500: the shop heard nothing
        await shop.adapter.place_order(
            "SHOP-CRASH", mobile.id, 1, AccountRef({"phone": "13800138000"})
        )
    monkeypatch.undo()
    async with platform.db.reading() as session:
        order_id = await session.scalar(select(func.max(Order.id)))
    assert order_id is not None

    await platform.fulfilments.complete(SUPPLIER_TID, order_id, proof="SN-9")
    sender = CallbackSender(platform)
    try:
        await sender.round()
    finally:
        await sender.stop()
    assert [(o.ref, o.state) for o in shop.dujiao][-1] == ("SHOP-CRASH", OrderState.DELIVERED)
    assert shop.dujiao[-1].codes == ("SN-9",) and shop.refused == []
    # and the shop asking again with its order number gets the same order, not a second one
    again = await shop.adapter.query_order("SHOP-CRASH", str(order_id))
    assert again.state is OrderState.DELIVERED and again.ref == "SHOP-CRASH"


async def test_kameng_api_serve_alone_sends_both_kinds(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """The operator runs only the API (``kameng api serve``, no bot): its one loop sends
    Kameng's callbacks and the Dujiao-Next shop's, as a separate process on the database."""
    platform = build_platform(settings, db=db)  # the real clock: the process uses it too
    system = ShopSystem(SystemClock())
    runner = await _listen(system)
    port = free_port()
    env = {
        **os.environ,
        "KAMENG_DATABASE_URL": settings.database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_CALLBACKS_ALLOW_PRIVATE": "1",
        "KAMENG_OUTBOX_POLL_SECONDS": "0.1",
    }
    server = None
    try:
        creds = await _reseller_with_both(platform, system)
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "cli.main", "api", "serve", "--host", "127.0.0.1"),
            "--port",
            str(port),
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _connect(system, f"http://127.0.0.1:{port}", creds)
        assert system.adapter is not None
        for _ in range(200):  # until it listens (a process start, not a correctness wait)
            try:
                mobile = await _direct_product(system.adapter)
                break
            except UpstreamUnreachable:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("kameng api serve did not start listening")
        sale = await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="S-1")
        placed = await system.adapter.place_order(
            "SHOP-API", mobile.id, 1, AccountRef({"phone": "13800138000"})
        )
        assert placed.upstream_id is not None
        await platform.fulfilments.complete(SUPPLIER_TID, int(placed.upstream_id), proof="SN-5")
        for _ in range(300):
            if await _pending(platform) == 0:
                break
            await asyncio.sleep(0.05)
        assert await _pending(platform) == 0
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(server.communicate(), timeout=30)
            assert server.returncode == 0, err
        await runner.cleanup()
        await platform.close()
    assert isinstance(sale, Receipt)
    kameng = [(body["event"], body["order_id"]) for body in system.kameng]
    assert ("order.delivered", sale.order_id) in kameng
    assert ("SHOP-API", OrderState.DELIVERED) in [(o.ref, o.state) for o in system.dujiao]
    assert system.refused == []

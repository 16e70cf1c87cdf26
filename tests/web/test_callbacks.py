"""Callbacks to a reseller's own system: a real HTTP receiver on 127.0.0.1 gets signed POSTs
for a sale and a refund; failures are retried with backoff (the test clock) and logged; the
shop's own order number (``external_id``) finds and de-duplicates its orders."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from core.checks import check_ledger
from core.errors import CallbackUrlRefused
from core.http_callbacks import check_url
from core.models import Role
from core.order_callbacks import (
    SIGNATURE_HEADER,
    on_state_change,
    signature_header,
    verify,
)
from core.platform import Platform
from core.settings import Settings
from tests.cli_runner import Done, run_kameng
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, SUPPLIER_TID, make_direct_sku, make_reseller, make_sku
from tests.web.conftest import Api
from web.callback_sender import CallbackSender

RESELLER = 2101
ADMIN_TID = 2199


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        callbacks_allow_private=True,  # the receiver is on 127.0.0.1
        _env_file=None,
    )


@dataclass
class Receiver:
    """A shop's endpoint: answers the scripted statuses in turn (then 200), keeps what came."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok" if status == 200 else "no")

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body, _ in self.received]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    shop = Receiver()
    app = web.Application()
    app.router.add_post("/kameng/callback", shop.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    shop.url = f"http://127.0.0.1:{port}/kameng/callback"
    yield shop
    await runner.cleanup()


@pytest.fixture
async def worker(platform: Platform) -> AsyncIterator[CallbackSender]:
    sender = CallbackSender(platform)
    yield sender
    await sender.stop()


async def shop_with_callback(api: Api, platform: Platform, receiver: Receiver) -> tuple[str, str]:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=1000_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    status, body, _ = await api.call("PUT", "/api/v1/callback", key=key, json={"url": receiver.url})
    assert status == 200, body
    assert body["url"] == receiver.url and body["secret"].startswith("whsec_")
    assert body["signature_header"] == SIGNATURE_HEADER
    return key, body["secret"]


def signed_by(secret: str, body: bytes, headers: dict[str, str], clock: FakeClock) -> bool:
    return verify(secret, headers[SIGNATURE_HEADER], body, int(clock.now().timestamp()))


async def test_a_sale_and_a_refund_reach_the_shop_signed(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender, clock: FakeClock
) -> None:
    key, secret = await shop_with_callback(api, platform, receiver)
    status, order, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 2, "external_id": "S-1"}
    )
    assert status == 201, order
    assert await worker.round() == 1
    [(raw, headers)] = receiver.received
    assert signed_by(secret, raw, headers, clock)
    assert not signed_by("whsec_someone-else", raw, headers, clock)
    assert not signed_by(secret, raw.replace(b"S-1", b"S-2"), headers, clock)
    sale = json.loads(raw)
    assert sale["event"] == "order.delivered" and sale["order_id"] == order["id"]
    assert sale["external_id"] == "S-1" and sale["quantity"] == 2 and sale["status"] == "paid"
    assert "SECRET" not in raw.decode()  # codes never travel in a callback

    await platform.shop.refund(order["id"], units=1, idempotency_key="r1", actor=ADMIN)
    assert await worker.round() == 1
    refund = receiver.bodies()[1]
    assert refund["event"] == "order.refunded" and refund["external_id"] == "S-1"
    assert refund["units"] == 1 and refund["status"] == "partly_refunded"
    assert signed_by(secret, *receiver.received[1], clock)
    assert await worker.round() == 0  # each sent once

    status, log, _ = await api.get("/api/v1/callbacks/deliveries", key=key)
    assert status == 200
    assert [(d["event"], d["status_code"], d["outcome"]) for d in log["items"]] == [
        ("order.refunded", 200, "delivered"),
        ("order.delivered", 200, "delivered"),
    ]
    assert (await check_ledger(platform.db)).ok


async def admin(platform: Platform) -> int:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await platform.catalogue.ensure_user(ADMIN_TID)
    return ADMIN_TID


async def test_an_approved_bad_code_refund_reaches_the_shop_once_signed(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender, clock: FakeClock
) -> None:
    """After-sales gives back one code of a delivered order: the shop hears
    ``partly_refunded`` and what came back, signed, once — a second admin approving the
    same report (or a double tap) sends nothing more."""
    key, secret = await shop_with_callback(api, platform, receiver)
    status, order, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 2, "external_id": "S-9"}
    )
    assert status == 201, order
    assert await worker.round() == 1  # the sale
    before = (await platform.balances.balance(RESELLER)).balance
    reported = await platform.aftersales.report(RESELLER, order["id"], 1, reason="used")
    decider = await admin(platform)

    done = await platform.aftersales.refund(decider, reported.report.id)
    again = await platform.aftersales.refund(decider, reported.report.id)

    assert not done.already_decided and again.already_decided
    given_back = (await platform.balances.balance(RESELLER)).balance - before
    assert given_back > 0 and done.report.refund_amount == given_back
    assert await worker.round() == 1
    assert await worker.round() == 0  # one callback for one refund
    raw, headers = receiver.received[1]
    assert signed_by(secret, raw, headers, clock)
    refund = json.loads(raw)
    assert refund["event"] == "order.refunded" and refund["order_id"] == order["id"]
    assert refund["status"] == "partly_refunded" and refund["external_id"] == "S-9"
    assert refund["units"] == 1 and refund["amount"] == given_back
    assert "SECRET" not in raw.decode()  # codes never travel in a callback
    assert (await check_ledger(platform.db)).ok


async def test_a_failing_shop_is_retried_with_backoff_until_it_answers(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender, clock: FakeClock
) -> None:
    key, secret = await shop_with_callback(api, platform, receiver)
    receiver.statuses = [500, 502, 503]
    await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "STEAM-100", "quantity": 1},
        headers={"Idempotency-Key": "k1"},
    )
    waits = []
    for _ in range(3):
        assert await worker.round() == 0
        _status, log, _ = await api.get("/api/v1/callbacks/deliveries", key=key)
        latest = log["items"][0]
        assert latest["outcome"] == "retrying" and latest["next_retry_at"] is not None
        assert await worker.round() == 0 and len(receiver.received) == len(waits) + 1  # not due
        waits.append(latest)
        clock.advance(seconds=5 * 2 ** (len(waits) - 1))  # 5 s, 10 s, 20 s
    assert await worker.round() == 1
    assert len(receiver.received) == 4
    assert all(signed_by(secret, *sent, clock) for sent in receiver.received[-1:])
    assert len({body for body, _ in receiver.received}) == 1  # the same body every time
    _status, log, _ = await api.get("/api/v1/callbacks/deliveries", key=key)
    assert [d["status_code"] for d in log["items"]] == [200, 503, 502, 500]
    assert [d["outcome"] for d in log["items"]] == ["delivered"] + ["retrying"] * 3


async def test_a_shop_that_never_answers_is_given_up_after_a_day(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender, clock: FakeClock
) -> None:
    key, _secret = await shop_with_callback(api, platform, receiver)
    receiver.statuses = [500] * 1000
    await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 1, "external_id": "x"}
    )
    for _ in range(200):
        await worker.round()
        clock.advance(minutes=31)
    _status, log, _ = await api.get("/api/v1/callbacks/deliveries", key=key)
    assert log["items"][0]["outcome"] == "given_up" and log["items"][0]["next_retry_at"] is None
    tries = len(receiver.received)
    assert 40 < tries < 60  # every half hour at most, for one day
    await worker.round()
    assert len(receiver.received) == tries


async def test_an_order_without_a_callback_posts_nothing(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender
) -> None:
    key, _secret = await shop_with_callback(api, platform, receiver)
    status, body, _ = await api.call("DELETE", "/api/v1/callback", key=key)
    assert status == 200 and body == {"removed": True}
    status, body, _ = await api.get("/api/v1/callback", key=key)
    assert body == {"url": None}
    await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 1, "external_id": "n"}
    )
    assert await worker.round() == 0 and receiver.received == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/cb",
        "http://localhost:8080/cb",
        "http://10.1.2.3/cb",
        "http://172.16.0.9/cb",
        "http://192.168.1.1/cb",
        "http://169.254.169.254/latest",
        "http://[::1]/cb",
        "http://[fd00::1]/cb",
        "http://[::ffff:10.0.0.1]/cb",
        "http://0.0.0.0/cb",
    ],
)
async def test_private_and_loopback_addresses_are_refused_in_production(url: str) -> None:
    with pytest.raises(CallbackUrlRefused) as refused:
        await check_url(url, allow_private=False)
    assert refused.value.params["reason"] == "private_address"
    assert await check_url(url, allow_private=True) == url  # the sandbox and tests


@pytest.mark.parametrize("url", ["ftp://example.com/", "https://", "not a url", "x" * 600, ""])
async def test_malformed_callback_urls_are_refused(url: str) -> None:
    with pytest.raises(CallbackUrlRefused) as refused:
        await check_url(url, allow_private=True)
    assert refused.value.params["reason"] == "malformed"


async def test_a_public_address_is_accepted() -> None:
    url = "https://93.184.216.34/hook"  # a literal: resolving it asks no server
    assert await check_url(url, allow_private=False) == url


async def test_the_api_refuses_a_bad_callback_url_with_a_code(api: Api, platform: Platform) -> None:
    await make_reseller(platform, RESELLER)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    status, body, _ = await api.call("PUT", "/api/v1/callback", key=key, json={"url": "ftp://x/"})
    assert status == 422 and body["error"]["code"] == "callback_url_refused"
    status, body, _ = await api.call("PUT", "/api/v1/callback", key=key, json={"url": 5})
    assert status == 400 and body["error"]["code"] == "invalid_input"
    status, body, _ = await api.call("PUT", "/api/v1/callback", key=key, json={"uri": "x"})
    assert status == 400 and body["error"]["code"] == "unknown_field"


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    # worked example: secret "whsec_test", t=1700000000, body {"a":1}
    header = signature_header("whsec_test", 1700000000, b'{"a":1}')
    assert header.startswith("t=1700000000,v1=")
    import hashlib
    import hmac

    expected = hmac.new(b"whsec_test", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"
    assert verify("whsec_test", header, b'{"a":1}', 1700000100)
    assert not verify("whsec_test", header, b'{"a":1}', 1700000000 + 301)  # too old
    assert not verify("whsec_test", "garbage", b'{"a":1}', 1700000000)


# external_id ------------------------------------------------------------------------------


async def test_external_id_is_the_orders_idempotency_key_and_finds_it(
    api: Api, platform: Platform
) -> None:
    await make_sku(platform, stock=5)
    await make_sku(platform, "OTHER-1", stock=5)
    await make_reseller(platform, RESELLER, balance=1000_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    asked = {"sku": "STEAM-100", "quantity": 1, "external_id": "SHOP-77"}
    status, first, _ = await api.post("/api/v1/orders", key=key, json=asked)
    assert status == 201
    status, again, headers = await api.post("/api/v1/orders", key=key, json=asked)
    assert status == 200 and again["id"] == first["id"] and headers["Idempotent-Replayed"] == "true"
    # the same number given as the header is the same key
    status, same, _ = await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "STEAM-100", "quantity": 1},
        headers={"Idempotency-Key": "SHOP-77"},
    )
    assert status == 200 and same["id"] == first["id"]
    status, body, _ = await api.post("/api/v1/orders", key=key, json={**asked, "sku": "OTHER-1"})
    assert status == 409 and body["error"]["code"] == "idempotency_conflict"

    status, found, _ = await api.get("/api/v1/orders?external_id=SHOP-77", key=key)
    assert status == 200 and [o["id"] for o in found["items"]] == [first["id"]]
    status, none, _ = await api.get("/api/v1/orders?external_id=SHOP-78", key=key)
    assert status == 200 and none["items"] == [] and none["total"] == 0
    balance = await platform.balances.balance(RESELLER)
    assert balance.balance == 1000_00 - first["total"]  # charged once


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"sku": "STEAM-100", "quantity": 1, "external_id": 12}, {}),
        ({"sku": "STEAM-100", "quantity": 1, "external_id": "  "}, {}),
        ({"sku": "STEAM-100", "quantity": 1, "external_id": "x" * 129}, {}),
        ({"sku": "STEAM-100", "quantity": 1, "external_id": "a\nb"}, {}),
        ({"sku": "STEAM-100", "quantity": 1, "external_id": "A"}, {"Idempotency-Key": "B"}),
    ],
)
async def test_a_bad_external_id_is_a_400(
    api: Api, platform: Platform, body: dict[str, Any], headers: dict[str, str]
) -> None:
    await make_reseller(platform, RESELLER, balance=100_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    status, answer, _ = await api.post("/api/v1/orders", key=key, json=body, headers=headers)
    assert status == 400 and answer["error"]["code"] == "invalid_input"
    status, answer, _ = await api.get("/api/v1/orders?external_id=" + "y" * 200, key=key)
    assert status == 400 and answer["error"]["code"] == "invalid_input"


# the operator's CLI --------------------------------------------------------------------------


async def test_the_operator_sets_shows_and_reads_callbacks_from_the_cli(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender, tmp_path: Path
) -> None:
    await make_reseller(platform, RESELLER)
    await platform.api_keys.issue(RESELLER, actor=ADMIN)
    env = {
        "KAMENG_DATABASE_URL": platform.settings.database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_CALLBACKS_ALLOW_PRIVATE": None,  # production: loopback refused
    }

    async def kameng(*args: str, **more: str) -> Done:
        return await asyncio.to_thread(run_kameng, *args, env={**env, **more}, cwd=tmp_path)

    refused = await kameng("callbacks", "set", str(RESELLER), receiver.url)
    assert refused.returncode != 0 and "callback URL refused: private address" in refused.stderr
    done = await kameng(
        "callbacks", "set", str(RESELLER), receiver.url, KAMENG_CALLBACKS_ALLOW_PRIVATE="1"
    )
    assert done.returncode == 0 and "secret (shown once): whsec_" in done.stdout
    shown = await kameng("callbacks", "show", str(RESELLER))
    assert receiver.url in shown.stdout and "whsec_" not in shown.stdout
    assert "no deliveries" in (await kameng("callbacks", "deliveries", str(RESELLER))).stdout
    assert "cleared" in (await kameng("callbacks", "clear", str(RESELLER))).stdout
    assert "no callback" in (await kameng("callbacks", "show", str(RESELLER))).stdout


# the fulfilment hook (core.fulfilment.HOOKS, once s13-fulfil is merged) -------------------


@dataclass(frozen=True)
class StateChange:  # the shape of core.fulfilment.StateChange
    order_id: int
    user_id: int
    status: str
    actor: str
    note: str
    at: datetime
    refund: Any = None  # a refund after the sale: ``core.fulfilment.Refunded``


async def test_a_fulfilment_state_change_reaches_the_shop(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender, clock: FakeClock
) -> None:
    key, secret = await shop_with_callback(api, platform, receiver)
    _status, order, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 1, "external_id": "F-1"}
    )
    user = await platform.catalogue.user(RESELLER)
    async with platform.db.transaction() as session:
        await on_state_change(
            session,
            StateChange(order["id"], user.id, "failed", "test", "deadline", clock.now()),
        )
    assert await worker.round() == 2
    failed = receiver.bodies()[1]
    assert failed["event"] == "order.failed" and failed["external_id"] == "F-1"
    assert failed["note"] == "deadline" and signed_by(secret, *receiver.received[1], clock)


def test_the_readmes_verifying_snippet_accepts_our_signature_and_nothing_else() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Callbacks to your shop") :]
    snippet = section[section.index("```python") + len("```python") : section.index("```\n\n")]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)
    body = b'{"event": "order.delivered", "order_id": 1}'
    header = signature_header("whsec_readme", int(time.time()), body)
    assert namespace["verify"]("whsec_readme", header, body)
    assert not namespace["verify"]("whsec_other", header, body)
    assert not namespace["verify"]("whsec_readme", header, body + b" ")
    old = signature_header("whsec_readme", int(time.time()) - 3600, body)
    assert not namespace["verify"]("whsec_readme", old, body)


async def test_a_direct_top_up_tells_the_shop_each_change_of_its_state(
    api: Api, platform: Platform, receiver: Receiver, worker: CallbackSender, clock: FakeClock
) -> None:
    key, secret = await shop_with_callback(api, platform, receiver)
    await make_direct_sku(platform)
    status, order, _ = await api.post(
        "/api/v1/orders",
        key=key,
        json={
            "sku": "MOBILE-50",
            "quantity": 1,
            "account": {"phone": "13800138000"},
            "external_id": "TOPUP-9",
        },
    )
    assert status == 201 and order["status"] == "pending", order
    await platform.fulfilments.start(SUPPLIER_TID, order["id"])
    await platform.fulfilments.complete(SUPPLIER_TID, order["id"], proof="SN-1")
    assert await worker.round() == 2
    events = [(b["event"], b["status"], b["external_id"]) for b in receiver.bodies()]
    assert events == [
        ("order.fulfilling", "fulfilling", "TOPUP-9"),
        ("order.delivered", "delivered", "TOPUP-9"),
    ]
    assert all(signed_by(secret, *sent, clock) for sent in receiver.received)

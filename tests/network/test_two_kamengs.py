"""The 卡盟 network end to end: two real Kamengs, each a ``kameng serve`` process on its own
database with its own bot (each on a fake Telegram server of its own).

A (a SQLite file) has a supplier who stocks codes and sells a direct top-up; B's operator
holds a reseller's API key at A. B (the test's database: SQLite, or PostgreSQL under
``KAMENG_TEST_DATABASE_URL``) adds A as an upstream with ``kameng upstream add`` and syncs
with ``kameng upstream sync``; then A raises its price to B's key, and B's reseller buys
A's codes in B's bot (at the price B quoted) and A's direct top-up over B's HTTP API. A's
supplier fulfils the top-up in A's bot (▶️ Start, ✅ Done, a serial); B's scheduler polls A
and finds it delivered. Then ``kameng ledger check`` is clean on both, what B owes its
upstream is what A charged B's key (the new price: B's spread absorbed the rise), ``kameng
upstream reconcile`` on B finds nothing, and neither process logged an ERROR line.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from core import schema
from core.db import Database
from core.models import Account, AccountKind, Role, Upstream
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.instances import Balancer, Deployment, Instance
from tests.bot.helpers import eventually
from tests.cli_runner import run_kameng
from tests.conftest import TEST_SECRET
from tests.factories import ADMIN, SUPPLIER_TID, make_direct_sku, make_reseller, make_sku

B_OPERATOR = 700  # B's account at A: a reseller there, with an API key
B_RESELLER = 1001  # a reseller of B, buying in B's bot and over B's API
SPENT_AT_A = 1000_00
A_ADMIN = 900  # A's admin, who raises the price after B synced
RAISED = 94_00  # A's new price of STEAM-100 to B's key (bronze), was 92.00
TOKEN_A = "111111111:TEST-kameng-a"
TOKEN_B = "222222222:TEST-kameng-b"
PHONE = "13800138000"
SERIAL = "SN-20261204-A1"
# the scheduler ticks often; B asks A about an open order after 2 s, 4 s, 8 s...
QUICK = {
    "KAMENG_UPSTREAM_POLL_SECONDS": "1",
    "KAMENG_SCHEDULER_INTERVAL_SECONDS": "0.2",
    "KAMENG_OUTBOX_POLL_SECONDS": "0.2",
    "KAMENG_TELEGRAM_PRIVATE_CHAT_PER_SECOND": "1000",
}


def _environment(database_url: str, token: str, server: FakeTelegramServer) -> dict[str, str]:
    return {
        "KAMENG_DATABASE_URL": database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_BOT_TOKEN": token,
        "KAMENG_TELEGRAM_API_BASE": server.base_url,
        "KAMENG_WEBHOOK_SECRET": f"secret-{uuid.uuid4().hex[:8]}",
        "KAMENG_REDIS_URL": "",
        **QUICK,
    }


async def _serve(stack: AsyncExitStack, directory: Path, env: dict[str, str]) -> Instance:
    """One ``kameng serve`` behind a balancer of its own (its webhook's address), ready."""
    await asyncio.to_thread(directory.mkdir)
    balancer = await stack.enter_async_context(Balancer())
    deployment = Deployment(directory, env)
    [instance] = await stack.enter_async_context(deployment.instances(1, balancer))
    return instance


def _kameng(database_url: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "KAMENG_DATABASE_URL": database_url, "KAMENG_SECRET_KEY": TEST_SECRET}
    done = run_kameng(*args, env=env, cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def _seed_a(url: str) -> tuple[list[str], str]:
    """A's supplier's codes and direct top-up; B's operator's key at A."""
    await schema.upgrade_at(url)
    database = Database(url)
    a = build_platform(
        Settings(database_url=url, secret_key=TEST_SECRET, _env_file=None), db=database
    )
    try:
        codes = await make_sku(a, "STEAM-100", supply_price=85_00, price=92_00, stock=5)
        await make_direct_sku(a, "MOBILE-50")
        await a.catalogue.set_language(SUPPLIER_TID, "en")
        await make_reseller(a, B_OPERATOR, balance=SPENT_AT_A)
        key = (await a.api_keys.issue(B_OPERATOR, actor=ADMIN)).token
        await a.catalogue.grant_role(A_ADMIN, Role.ADMIN, actor=ADMIN)
    finally:
        await database.dispose()
    return codes, key


async def _raise_price_at_a(url: str) -> None:
    """A's admin sets B's level's price of STEAM-100, in A's database (A's running process
    reads prices from it on every sale)."""
    database = Database(url)
    a = build_platform(
        Settings(database_url=url, secret_key=TEST_SECRET, _env_file=None), db=database
    )
    try:
        await a.pricing_admin.set_level_price(A_ADMIN, "STEAM-100", "bronze", RAISED)
    finally:
        await database.dispose()


@pytest.fixture
async def b(settings: Settings, db: Database) -> AsyncIterator[Platform]:
    """B's database (the test's), read and seeded with the real clock: the process runs on it."""
    platform = build_platform(settings, db=db)
    yield platform


async def _post(
    http: aiohttp.ClientSession, url: str, key: str, tag: str, body: dict[str, Any]
) -> dict[str, Any]:
    async with http.post(
        url + "/api/v1/orders",
        json=body,
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": tag},
    ) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == 201, answer
        return answer


async def _get(http: aiohttp.ClientSession, url: str, key: str, path: str) -> dict[str, Any]:
    async with http.get(url + path, headers={"Authorization": f"Bearer {key}"}) as response:
        answer: dict[str, Any] = await response.json()
        assert response.status == 200, answer
        return answer


async def _owed_upstream(b: Platform) -> int:
    """What B's ledger says B owes upstream "a" (its supplier's payable)."""
    async with b.db.reading() as session:
        supplier_id = await session.scalar(select(Upstream.supplier_id).where(Upstream.name == "a"))
        balance = await session.scalar(
            select(Account.balance).where(
                Account.kind == AccountKind.SUPPLIER_PAYABLE, Account.owner_id == supplier_id
            )
        )
    return int(balance or 0)


async def test_b_sells_as_codes_and_top_ups_what_a_stocks_and_its_supplier_fulfils_in_a_bot(
    b: Platform, settings: Settings, tmp_path: Path
) -> None:
    a_url, b_url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", settings.database_url
    stocked, key_at_a = await _seed_a(a_url)
    await make_reseller(b, B_RESELLER, balance=500_00)
    reseller_key = (await b.api_keys.issue(B_RESELLER, actor=ADMIN)).token

    async with AsyncExitStack() as stack:
        tg_a = await stack.enter_async_context(FakeTelegramServer(token=TOKEN_A))
        tg_b = await stack.enter_async_context(FakeTelegramServer(token=TOKEN_B))
        sam = tg_a.user(SUPPLIER_TID, first_name="Sam", language_code="en", started=True)
        a = await _serve(stack, tmp_path / "a", _environment(a_url, TOKEN_A, tg_a))

        # B adds A as an upstream and syncs, with its CLI, then serves
        added = await asyncio.to_thread(
            _kameng, b_url, tmp_path, "upstream", "add", "a", "--protocol", "kameng",
            "--url", a.url, "--key", key_at_a, "--markup", "8", "--category", "Games",
        )  # fmt: skip
        assert "upstream a added" in added
        await asyncio.to_thread(_kameng, b_url, tmp_path, "upstream", "sync", "a")
        await _raise_price_at_a(a_url)  # after B's sync: B still sells at the old cost
        b_process = await _serve(stack, tmp_path / "b", _environment(b_url, TOKEN_B, tg_b))
        http = await stack.enter_async_context(aiohttp.ClientSession())

        page = await b.storefront.skus(B_RESELLER, limit=10)
        by_name = {line.name: line.code for line in page.lines}
        codes_sku, direct_sku = by_name["STEAM-100 card"], by_name["MOBILE-50 top-up"]

        # codes: B's reseller buys them in B's bot; B buys them at A at once
        ann = tg_b.user(B_RESELLER, first_name="Ann", language_code="en", started=True)
        await ann.send_text(f"/buy {codes_sku} 2")
        quote = await ann.wait_for_message(lambda m: "Total:" in m.content, timeout=30)
        await ann.press("✅ Confirm", message=quote)
        receipt = await ann.wait_for_message(lambda m: "Order #" in m.content, timeout=30)
        codes = receipt.codes
        assert len(codes) == 2 and set(codes) <= set(stocked)
        listed = await _get(http, b_process.url, reseller_key, "/api/v1/orders")
        [bought] = [item for item in listed["items"] if item["sku"] == codes_sku]
        assert bought["status"] == "delivered"

        # a direct top-up: fulfilling at B while A's supplier works on it in A's bot
        top_up = await _post(
            http,
            b_process.url,
            reseller_key,
            "b-top-up",
            {"sku": direct_sku, "quantity": 1, "account": {"phone": PHONE}},
        )
        assert top_up["status"] == "fulfilling"
        task = await sam.wait_for_message(lambda m: "Top-up task" in m.content, timeout=30)
        assert PHONE in task.content
        await sam.press("▶️ Start", message=task)
        await sam.press("✅ Done", message=task)
        await sam.wait_for_message(lambda m: "serial number as proof" in m.content, timeout=30)
        await sam.send_text(SERIAL)
        await sam.wait_for_message(lambda m: "is ✅ delivered" in m.content, timeout=30)

        order_path = f"/api/v1/orders/{top_up['id']}"

        async def delivered_at_b() -> bool:
            await asyncio.sleep(0.5)  # within the API's rate limit
            seen = await _get(http, b_process.url, reseller_key, order_path)
            return bool(seen["status"] == "delivered")

        await eventually(delivered_at_b, "B's poll to find the top-up delivered", timeout=90)
        seen = await _get(http, b_process.url, reseller_key, order_path)
        assert seen["codes"] == [] and seen["fulfilment"]["delivered"] == 1
        again = await _get(http, b_process.url, reseller_key, f"/api/v1/orders/{bought['id']}")
        assert [card["number"] for card in again["codes"]] == codes
        reconciled = await asyncio.to_thread(_kameng, b_url, tmp_path, "upstream", "reconcile", "a")
        assert reconciled.strip().endswith("0 difference(s) over 1 day(s)"), reconciled
        instances = [a, b_process]

    # both processes stopped: both ledgers clean; what B owes A is what A charged B's key
    for url in (a_url, b_url):
        assert "ok" in (await asyncio.to_thread(_kameng, url, tmp_path, "ledger", "check")).lower()
    a_db = Database(a_url)
    try:
        a_platform = build_platform(
            Settings(database_url=a_url, secret_key=TEST_SECRET, _env_file=None), db=a_db
        )
        spent = SPENT_AT_A - (await a_platform.balances.balance(B_OPERATOR)).balance
    finally:
        await a_db.dispose()
    assert spent == 2 * RAISED + 49_50  # A charged its new price
    assert await _owed_upstream(b) == spent
    assert bought["total"] == 2 * 99_36  # B's reseller paid what B quoted (92.00 + 8 %)
    balance = (await b.balances.balance(B_RESELLER)).balance
    assert balance == 500_00 - bought["total"] - top_up["total"]
    # the logs: no ERROR line, no code or key
    for instance in instances:
        log = instance.log()
        errors = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line]
        assert errors == [], errors
        for secret in [*codes, key_at_a, reseller_key, TEST_SECRET]:
            assert secret not in log

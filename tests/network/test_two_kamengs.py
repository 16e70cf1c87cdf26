"""The 卡盟 network end to end: Kameng B buys from Kameng A over A's reseller HTTP API.

A is a real ``kameng api serve`` process on its own SQLite file: a supplier stocks codes and
sells a direct top-up there, and B's operator holds a reseller's API key at A. B (this
test's platform, on the test database) adds A as an upstream with the ``kameng`` protocol,
syncs, and B's reseller buys A's codes and A's direct top-up; A's supplier fulfils the
top-up (A's use case, as A's bot calls it), B's poll finds it delivered. Both ledgers check
clean, and what B owes its upstream is what A charged B's key.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from core import schema
from core.checks import check_ledger
from core.db import Database
from core.models import Account, AccountKind, OrderStatus, Upstream
from core.orders import Receipt
from core.platform import Platform, build_platform
from core.settings import Settings
from core.upstreams.service import NewUpstream
from sandbox.instances import ROOT, Instance, free_port
from tests.cli_runner import run_kameng
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, SUPPLIER_TID, make_direct_sku, make_reseller, make_sku

B_OPERATOR = 700  # B's account at A: a reseller there, with an API key
B_RESELLER = 1001  # a reseller of B
SPENT_AT_A = 1000_00


@dataclass
class KamengA:
    platform: Platform  # A's use cases, on A's database (as A's bot would call them)
    url: str  # the running ``kameng api serve``
    key: str  # B's API key at A
    codes: list[str]
    database_url: str


@pytest.fixture
async def kameng_a(tmp_path: Path) -> AsyncIterator[KamengA]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"
    await schema.upgrade_at(url)
    settings = Settings(database_url=url, secret_key=TEST_SECRET, _env_file=None)
    database = Database(url)
    a = build_platform(settings, db=database)
    codes = await make_sku(a, "STEAM-100", supply_price=85_00, price=92_00, stock=5)
    await make_direct_sku(a, "MOBILE-50")
    await make_reseller(a, B_OPERATOR, balance=SPENT_AT_A)
    key = (await a.api_keys.issue(B_OPERATOR, actor=ADMIN)).token

    port = free_port()
    log = tmp_path / "a.log"
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "cli.main", "api", "serve", "--port", str(port)),
            cwd=tmp_path,
            env={
                **os.environ,
                "KAMENG_DATABASE_URL": url,
                "KAMENG_SECRET_KEY": TEST_SECRET,
                "PYTHONPATH": str(ROOT),
            },
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    instance = Instance(0, port, log, process)  # answers /readyz as ``kameng serve`` does
    try:
        async with aiohttp.ClientSession() as http:
            await instance.ready(http)
        yield KamengA(a, instance.url, key, codes, url)
    finally:
        await instance.stop()
        await database.dispose()


async def _spent_at_a(a: Platform) -> int:
    return SPENT_AT_A - (await a.balances.balance(B_OPERATOR)).balance


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


def _ledger_check(database_url: str, cwd: Path) -> str:
    done = run_kameng(
        "ledger",
        "check",
        env={"KAMENG_DATABASE_URL": database_url, "KAMENG_SECRET_KEY": TEST_SECRET},
        cwd=cwd,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_b_sells_as_codes_and_top_ups_what_a_stocks_and_its_supplier_fulfils(
    platform: Platform,
    kameng_a: KamengA,
    clock: FakeClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    a, b = kameng_a.platform, platform
    await make_reseller(b, B_RESELLER, balance=500_00)
    await b.upstreams.add(
        NewUpstream("a", "kameng", kameng_a.url, kameng_a.key, "", markup_bps=800), actor=ADMIN
    )
    await b.upstreams.sync("a")
    page = await b.storefront.skus(B_RESELLER, limit=10)
    by_name = {line.name: line.code for line in page.lines}
    codes_sku, direct_sku = by_name["STEAM-100 card"], by_name["MOBILE-50 top-up"]
    spec = await b.fulfilments.direct_spec(direct_sku)
    assert spec is not None and [field.name for field in spec.fields] == ["phone"]

    # codes: bought at A at once, shown to B's reseller
    receipt = await b.shop.buy_now(B_RESELLER, codes_sku, 2, idempotency_key="b-codes")
    assert isinstance(receipt, Receipt) and receipt.status is OrderStatus.DELIVERED
    assert len(receipt.codes) == 2 and set(receipt.codes) <= set(kameng_a.codes)
    assert (await b.shop.order(B_RESELLER, receipt.order_id)).codes == receipt.codes

    # a direct top-up: pending at A until A's supplier fulfils it, fulfilling at B meanwhile
    top_up = await b.shop.buy_now(
        B_RESELLER, direct_sku, 1, idempotency_key="b-top-up", account={"phone": "13800138000"}
    )
    assert isinstance(top_up, Receipt) and top_up.status is OrderStatus.FULFILLING
    [task] = await a.fulfilments.tasks(SUPPLIER_TID)
    assert task.account == {"phone": "13800138000"} and task.status is OrderStatus.PENDING
    clock.advance(minutes=1)
    await b.procurement.poll_due("worker")  # still pending there
    assert (await b.shop.order(B_RESELLER, top_up.order_id)).status is OrderStatus.FULFILLING

    await a.fulfilments.start(SUPPLIER_TID, task.order_id)
    await a.fulfilments.complete(SUPPLIER_TID, task.order_id, proof="SN-0001")
    clock.advance(minutes=2)
    await b.procurement.poll_due("worker")
    seen = await b.shop.order(B_RESELLER, top_up.order_id)
    assert seen.status is OrderStatus.DELIVERED and seen.codes == []

    # both ledgers clean; what B owes A is what A charged B's key; nothing left to reconcile
    assert (await check_ledger(a.db)).ok and (await check_ledger(b.db)).ok
    for url in (kameng_a.database_url, settings.database_url):
        assert "ok" in (await asyncio.to_thread(_ledger_check, url, tmp_path)).lower()
    spent = await _spent_at_a(a)
    assert spent == 2 * 92_00 + 49_50
    assert await _owed_upstream(b) == spent
    assert await b.procurement.reconcile("a") == []
    balance = (await b.balances.balance(B_RESELLER)).balance
    assert balance == 500_00 - receipt.total - top_up.total

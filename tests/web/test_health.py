"""``/healthz``, ``/readyz`` and ``/metrics`` over HTTP against a real server and database.

``/metrics`` parses with prometheus-client's own parser and holds what an operator looks
for after a few orders; ``/readyz`` fails, naming why, when the database is unreachable,
missing, behind the code's migrations or its storage faulted, and recovers when that is
fixed, while ``/healthz`` stays 200.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event, make_url, text

from core import schema
from core.broadcasts import Audience, CampaignMessage, Outcome
from core.db import Database
from core.errors import StorageUnavailable
from core.models import RecipientStatus, Role
from core.platform import Platform, build_platform
from core.settings import Settings
from tests.conftest import POSTGRES_URL, drop_postgres, recreate_postgres
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.conftest import GENEROUS, Api
from web.app import ApiServer

RESELLER = 3301
REDIS_DB = 3  # this part's own Redis database (issue 12)


async def scrape(api: Api) -> dict[str, Any]:
    """``/metrics`` parsed: family name → its samples as {(name, labels...): value}."""
    async with api.session.get(api.base_url + "/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = await response.text()
    families: dict[str, Any] = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = {
            (sample.name, *sorted(sample.labels.items())): sample.value for sample in family.samples
        }
    return families


def value(families: dict[str, Any], family: str, sample: str, **labels: str) -> float:
    return families[family].get((sample, *sorted(labels.items())), 0.0)


def gauge(families: dict[str, Any], name: str, **labels: str) -> float:
    return value(families, name, name, **labels)


async def order(api: Api, key: str, idempotency_key: str, quantity: int = 1) -> Any:
    return await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "STEAM-100", "quantity": quantity},
        headers={"Idempotency-Key": idempotency_key},
    )


async def test_metrics_after_a_few_orders(platform: Platform, api: Api) -> None:
    await make_sku(platform, "STEAM-100", stock=12)
    await make_reseller(platform, RESELLER, balance=1000_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    before = await scrape(api)

    for n, quantity in enumerate((1, 2, 1)):
        status, _, headers = await order(api, key, f"m{n}", quantity)
        assert status == 201 and len(headers["X-Request-Id"]) == 16
    status, _, _ = await order(api, key, "m0")  # a replay: not a new order
    assert status == 200
    status, _, _ = await api.get("/api/v1/orders/999999", key=key)
    assert status == 404
    platform.clock.advance(seconds=90)  # type: ignore[attr-defined]  # a FakeClock
    after = await scrape(api)

    def grew(family: str, sample: str, **labels: str) -> float:
        return value(after, family, sample, **labels) - value(before, family, sample, **labels)

    assert grew("kameng_orders", "kameng_orders_total", source="api") == 3
    assert grew("kameng_revenue_minor_units", "kameng_revenue_minor_units_total", source="api") == (
        4 * 92_00
    )
    assert gauge(after, "kameng_codes_in_stock", sku="STEAM-100") == 8
    assert gauge(after, "kameng_stock_low", sku="STEAM-100") == 1  # 8 < 10
    # each sale's notice to the supplier waits in the outbox (no bot runs here)
    assert gauge(after, "kameng_outbox_pending") >= 3
    assert gauge(after, "kameng_outbox_oldest_age_seconds") >= 90
    assert gauge(after, "kameng_database_up") == 1
    assert "kameng_api_client_closed" in after
    # latency by the route's canonical path and the status sent, never the raw URL
    orders = {"method": "POST", "route": "/api/v1/orders"}
    count = "kameng_api_request_seconds_count"
    assert grew("kameng_api_request_seconds", count, status="201", **orders) == 3
    assert grew("kameng_api_request_seconds", count, status="200", **orders) == 1
    one = {"method": "GET", "route": "/api/v1/orders/{order_id}", "status": "404"}
    assert grew("kameng_api_request_seconds", count, **one) == 1
    assert not any("999999" in str(labels) for labels in after["kameng_api_request_seconds"])
    assert "process_cpu_seconds" in after  # the process's own, from prometheus-client


async def test_a_sku_is_low_below_its_threshold(platform: Platform, api: Api) -> None:
    await make_sku(platform, "STEAM-100", stock=25)
    await make_sku(platform, "APPLE-50", stock=3)
    families = await scrape(api)
    assert gauge(families, "kameng_stock_low", sku="STEAM-100") == 0
    assert gauge(families, "kameng_stock_low", sku="APPLE-50") == 1


async def ready(api: Api) -> tuple[int, Any]:
    status, body, _ = await api.get("/readyz")
    healthz, _, _ = await api.get("/healthz")
    assert healthz == 200  # whatever readiness says, the process is up
    return status, body


async def test_ready_when_everything_is(api: Api) -> None:
    status, body = await ready(api)
    assert status == 200, body
    assert body == {
        "status": "ready",
        "failed": [],
        "checks": {"database": "ok", "migrations": "ok", "storage": "ok"},
    }


async def test_not_ready_while_migrations_are_behind(platform: Platform, api: Api) -> None:
    head = schema.head_revision()
    await schema.downgrade(platform.db, "-1")
    status, body = await ready(api)
    assert status == 503 and body["failed"] == ["migrations"]
    assert body["checks"]["database"] == "ok"
    assert f"code at {head}" in body["checks"]["migrations"]
    await schema.upgrade(platform.db)
    assert (await ready(api))[0] == 200


async def test_still_ready_when_the_database_is_ahead(platform: Platform, api: Api) -> None:
    """A rolling upgrade: the next version's `kameng db upgrade` ran (additive migrations)
    while this instance still serves."""
    async with platform.db.transaction() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = '9999_next'"))
    status, body = await ready(api)
    assert status == 200 and body["checks"]["migrations"] == "ok"


async def serving(settings: Settings, url: str) -> AsyncIterator[tuple[Platform, Api]]:
    platform = build_platform(settings.model_copy(update={"database_url": url}))
    async with aiohttp.ClientSession() as http, ApiServer(platform, "127.0.0.1", 0, GENEROUS) as s:
        yield platform, Api(http, s.base_url)
    await platform.close()


async def test_not_ready_while_the_database_is_unreachable(settings: Settings) -> None:
    # nothing listens on port 1: every connection is refused
    unreachable = "postgresql+asyncpg://postgres@127.0.0.1:1/kameng"
    async for _platform, api in serving(settings, unreachable):
        status, body = await ready(api)
        assert status == 503 and body["failed"] == ["database", "migrations"]
        assert body["checks"]["database"].startswith("unreachable")
        families = await scrape(api)  # the process's own metrics are still served
        assert gauge(families, "kameng_database_up") == 0


async def test_ready_again_once_the_database_exists(settings: Settings, tmp_path: Path) -> None:
    if POSTGRES_URL:
        parsed = make_url(POSTGRES_URL)
        missing = parsed.set(database=f"{parsed.database}_missing")
        url = missing.render_as_string(hide_password=False)
        await drop_postgres(url)
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'not-yet' / 'kameng.db'}"
    try:
        async for platform, api in serving(settings, url):
            status, body = await ready(api)
            assert status == 503 and "database" in body["failed"]
            # the operator creates and migrates it: no restart
            if POSTGRES_URL:
                await recreate_postgres(url)
            else:
                (tmp_path / "not-yet").mkdir()
            await schema.upgrade(Database(url))
            await platform.db.dispose()
            status, body = await ready(api)
            if status == 503:  # SQLite's "cannot open" was a storage fault: a write clears it
                assert body["failed"] == ["storage"]
                await platform.catalogue.ensure_user(RESELLER)
                status, body = await ready(api)
            assert status == 200, body
    finally:
        if POSTGRES_URL:
            await drop_postgres(url)


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's query_only connections")
async def test_not_ready_while_a_storage_fault_is_current(platform: Platform, api: Api) -> None:
    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only = ON")  # writes fail as on a read-only disk

    engine = platform.db.engine.sync_engine
    await platform.db.dispose()
    event.listen(engine, "connect", read_only)
    try:
        with pytest.raises(StorageUnavailable):
            await platform.catalogue.ensure_user(RESELLER)
    finally:
        event.remove(engine, "connect", read_only)
    status, body = await ready(api)
    assert status == 503 and body["failed"] == ["storage"]
    assert body["checks"]["storage"] == "storage fault: read-only"
    await platform.catalogue.ensure_user(RESELLER)  # a write commits: the disk is back
    assert (await ready(api))[0] == 200


async def test_redis_is_checked_when_configured(settings: Settings, db: Database) -> None:
    good = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:6379/{REDIS_DB}"})
    async for _platform, api in serving(good, settings.database_url):
        status, body = await ready(api)
        assert status == 200 and body["checks"]["redis"] == "ok"
    bad = settings.model_copy(update={"redis_url": f"redis://127.0.0.1:1/{REDIS_DB}"})
    async for _platform, api in serving(bad, settings.database_url):
        status, body = await ready(api)
        assert status == 503 and body["failed"] == ["redis"]
        assert body["checks"]["redis"].startswith("unreachable")


def test_sqlite_query_only_is_a_storage_fault() -> None:
    """The stand-in for a read-only disk above is one (SQLITE_READONLY)."""
    from core.storage_faults import storage_fault

    connection = sqlite3.connect(":memory:")
    connection.execute("create table t (x)")
    connection.execute("PRAGMA query_only = ON")
    with pytest.raises(sqlite3.Error) as raised:
        connection.execute("insert into t values (1)")
    assert storage_fault(raised.value) == "read-only"


async def test_broadcast_progress_while_it_is_sent(platform: Platform, api: Api) -> None:
    admin = 42
    await platform.catalogue.ensure_user(admin)
    await platform.catalogue.grant_role(admin, Role.ADMIN, actor=ADMIN)
    for n in range(3):
        await make_reseller(platform, RESELLER + n)
    draft = await platform.broadcasts.draft(
        admin, CampaignMessage("text", "<b>Sale</b> today"), Audience("resellers")
    )
    await platform.broadcasts.start(draft.id, admin)
    assert await platform.broadcasts.acquire(draft.id, "worker-1")
    claimed = await platform.broadcasts.claim(draft.id, "worker-1", 2)
    assert claimed is not None and len(claimed) == 2
    first, second = claimed
    await platform.broadcasts.record(
        draft.id,
        "worker-1",
        [
            Outcome(first.recipient_id, RecipientStatus.SENT, 1, message_id=7),
            Outcome(second.recipient_id, RecipientStatus.FAILED, 1, error="500"),
        ],
    )
    families = await scrape(api)
    campaign = str(draft.id)
    counts = {
        status: gauge(families, "kameng_broadcast_recipients", campaign=campaign, status=status)
        for status in ("sent", "failed", "pending")
    }
    assert counts == {"sent": 1, "failed": 1, "pending": draft.recipients - 2}

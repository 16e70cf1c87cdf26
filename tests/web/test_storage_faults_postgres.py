"""PostgreSQL's read-only database (``default_transaction_read_only``, as after a failover
to a standby): orders are 503 ``storage_unavailable`` with ``Retry-After``, reads go on,
and orders succeed again once it is writable, without a restart, although every pooled
connection was opened read-only."""

from __future__ import annotations

import asyncio

import pytest

from core.checks import check_ledger
from core.platform import Platform
from tests.conftest import POSTGRES_URL, _on_postgres_server
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.conftest import Api

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL's read-only mode")

RESELLER = 2401
READ_ONLY = "ALTER DATABASE {name} SET default_transaction_read_only = on"
WRITABLE = "ALTER DATABASE {name} RESET default_transaction_read_only"


async def test_orders_recover_when_the_database_is_writable_again(
    platform: Platform, api: Api
) -> None:
    await make_sku(platform, "STEAM-100", stock=5)
    await make_reseller(platform, RESELLER, balance=500_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    body = {"sku": "STEAM-100", "quantity": 1}

    async def buy(idempotency_key: str) -> tuple[int, dict[str, object], object]:
        return await api.post(
            "/api/v1/orders", key=key, json=body, headers={"Idempotency-Key": idempotency_key}
        )

    await _on_postgres_server(POSTGRES_URL, READ_ONLY)
    try:
        await platform.db.dispose()  # as if restarted during the outage
        # several pooled connections, each opened read-only
        reads = await asyncio.gather(*(api.get("/api/v1/me", key=key) for _ in range(5)))
        assert [status for status, _, _ in reads] == [200] * 5
        status, refused, headers = await buy("k1")
        assert status == 503 and refused["error"]["code"] == "storage_unavailable"
        assert int(headers["Retry-After"]) > 0
    finally:
        await _on_postgres_server(POSTGRES_URL, WRITABLE)
    status, bought, _ = await buy("k1")  # the same key: nothing was charged the first time
    assert status == 201 and len(bought["codes"]) == 1
    status, me, _ = await api.get("/api/v1/me", key=key)
    assert me["balance"] == 500_00 - 92_00
    assert (await check_ledger(platform.db)).ok

"""``kameng api serve`` with ``KAMENG_LOG_JSON=1``: every line on stderr is one JSON object,
and a request's lines carry the id it answered with (``X-Request-Id``), its caller, its
order and its duration."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from core.platform import Platform
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.servers import ServerProcess

RESELLER = 3304


async def test_a_request_in_the_json_log(
    platform: Platform, database_url: str, tmp_path: Path
) -> None:
    await make_sku(platform, "STEAM-100", stock=3)
    await make_reseller(platform, RESELLER, balance=500_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    server = ServerProcess(database_url, tmp_path, env={"KAMENG_LOG_JSON": "1"})
    await server.start(key)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{server.base_url}/orders",
                json={"sku": "STEAM-100", "quantity": 1},
                headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "j1"},
            ) as response,
        ):
            assert response.status == 201
            request_id = response.headers["X-Request-Id"]
            order_id = (await response.json())["id"]
    finally:
        stderr = await server.stop()
    lines = [json.loads(line) for line in stderr.splitlines()]  # each line is JSON
    mine = [line for line in lines if line.get("request_id") == request_id]
    assert {line["logger"] for line in mine} == {"kameng.orders", "kameng.api"}
    done = mine[-1]
    assert done["message"].startswith("POST /api/v1/orders 201")
    assert done["user_id"] == RESELLER and done["order_id"] == order_id
    assert done["duration_ms"] > 0 and done["level"] == "INFO"

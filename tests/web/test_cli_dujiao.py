"""The operator enables a reseller's key for the Dujiao-Next protocol with ``kameng dujiao
enable`` and runs ``kameng api serve``; a Dujiao-Next connection (Kameng's own adapter)
pings it with the printed key and secret; ``kameng dujiao disable`` shuts it out."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.clock import SystemClock
from core.errors import UpstreamError
from core.upstreams.adapter import Credentials
from core.upstreams.dujiao import DujiaoAdapter
from core.upstreams.http import UrllibClient
from tests.web.servers import ServerProcess, operator_cli

RESELLER = "3001"


async def test_enable_serve_ping_and_disable(database_url: str, tmp_path: Path) -> None:
    kameng = operator_cli(database_url, tmp_path)
    await kameng("db", "upgrade")
    await kameng("user", "grant", RESELLER, "reseller")
    await kameng("balance", "credit", RESELLER, "12.34", "--note", "seed")
    assert (await kameng("dujiao", "enable", RESELLER, ok=False)).returncode == 1  # no key yet
    await kameng("api", "key", "issue", RESELLER)
    enabled = await kameng("dujiao", "enable", RESELLER)
    said = dict(line.split(":", 1) for line in enabled.stdout.splitlines() if ":" in line)
    key, secret = said["API key"].strip(), said["API secret"].strip()
    assert said["Upstream URL"].strip().endswith("/api/v1/upstream")
    assert f"enabled, API key {key}" in (await kameng("dujiao", "show", RESELLER)).stdout

    server = ServerProcess(database_url, tmp_path, port_as_setting=True)
    await server.start(key)
    try:
        connection = DujiaoAdapter(
            Credentials(server.base_url.removesuffix("/api/v1"), key, secret),
            UrllibClient(timeout=10),
            SystemClock(),
        )
        assert await connection.balance() == 12_34

        await kameng("dujiao", "disable", RESELLER)
        with pytest.raises(UpstreamError) as refused:
            await connection.balance()
        assert refused.value.params["reason"] == "invalid_api_key"
    finally:
        err = await server.stop()
    assert server.returncode == 0, err
    assert secret not in err

"""The operator issues a key with ``kameng api key issue`` and runs ``kameng api serve``;
a reseller's shop calls it over HTTP; ``kameng api key revoke`` shuts the key out.

The short commands run in-process (click's CliRunner); the server is a real process, which
stops on SIGTERM."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.web.servers import ServerProcess, operator_cli

RESELLER = "3001"


async def test_issue_serve_call_and_revoke(database_url: str, tmp_path: Path) -> None:
    kameng = operator_cli(database_url, tmp_path)
    await kameng("db", "upgrade")
    await kameng("user", "grant", RESELLER, "reseller")
    await kameng("balance", "credit", RESELLER, "12.34", "--note", "seed")
    issued = await kameng("api", "key", "issue", RESELLER)
    key = issued.stdout.strip()
    assert key.startswith("kmg_") and len(issued.stdout.splitlines()) == 1
    assert "shown once" in issued.stderr
    assert (await kameng("api", "key", "issue", "999999", ok=False)).returncode == 1

    server = ServerProcess(database_url, tmp_path, port_as_setting=True)
    await server.start(key)
    try:
        url = f"{server.base_url}/me"
        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession() as http:
            async with http.get(url, headers=headers) as response:
                status, body = response.status, await response.json()
            assert status == 200 and body["balance"] == 12_34
            assert body["currency"] == "CNY"

            revoked = await kameng("api", "key", "revoke", RESELLER)
            assert "revoked 1 key(s)" in revoked.stdout
            async with http.get(url, headers=headers) as response:
                assert response.status == 401
    finally:
        err = await server.stop()
    assert server.returncode == 0, err
    assert key not in err

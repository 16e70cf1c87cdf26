"""The operator issues a key with ``kameng api key issue`` and runs ``kameng api serve``;
a reseller's shop calls it over HTTP; ``kameng api key revoke`` shuts the key out.

The short commands run in-process (click's CliRunner); the server is a real process, which
stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from tests.cli_runner import Done, run_kameng
from tests.conftest import TEST_SECRET

RESELLER = "3001"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_issue_serve_call_and_revoke(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    cli_env = {
        "KAMENG_DATABASE_URL": database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_API_PORT": str(port),
    }
    env = {**os.environ, **cli_env}

    async def kameng(*args: str, ok: bool = True) -> Done:
        done = await asyncio.to_thread(run_kameng, *args, env=cli_env, cwd=tmp_path)
        assert done.returncode == 0 or not ok, done.stderr
        return done

    await kameng("db", "upgrade")
    await kameng("user", "grant", RESELLER, "reseller")
    await kameng("balance", "credit", RESELLER, "12.34", "--note", "seed")
    issued = await kameng("api", "key", "issue", RESELLER)
    key = issued.stdout.strip()
    assert key.startswith("kmg_") and len(issued.stdout.splitlines()) == 1
    assert "shown once" in issued.stderr
    assert (await kameng("api", "key", "issue", "999999", ok=False)).returncode == 1

    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli.main", "api", "serve", "--host", "127.0.0.1"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/me"
        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession() as http:
            for _ in range(200):  # until it listens (a process start, not a correctness wait)
                try:
                    async with http.get(url, headers=headers) as response:
                        status, body = response.status, await response.json()
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            else:
                raise AssertionError("kameng api serve did not start listening")
            assert status == 200 and body["balance"] == 12_34
            assert body["currency"] == "CNY"

            revoked = await kameng("api", "key", "revoke", RESELLER)
            assert "revoked 1 key(s)" in revoked.stdout
            async with http.get(url, headers=headers) as response:
                assert response.status == 401
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(server.communicate(), timeout=30)
    assert server.returncode == 0, err
    assert key not in err.decode()

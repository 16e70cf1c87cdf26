"""The operator enables a reseller's key for the Dujiao-Next protocol with ``kameng dujiao
enable`` and runs ``kameng api serve``; a Dujiao-Next connection (Kameng's own adapter)
pings it with the printed key and secret; ``kameng dujiao disable`` shuts it out."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.errors import UpstreamError, UpstreamUnreachable
from core.upstreams.adapter import Credentials
from core.upstreams.dujiao import DujiaoAdapter
from core.upstreams.http import UrllibClient
from tests.cli_runner import Done, run_kameng
from tests.conftest import TEST_SECRET
from tests.web.test_cli_api import free_port

RESELLER = "3001"


async def test_enable_serve_ping_and_disable(database_url: str, tmp_path: Path) -> None:
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
    assert (await kameng("dujiao", "enable", RESELLER, ok=False)).returncode == 1  # no key yet
    await kameng("api", "key", "issue", RESELLER)
    enabled = await kameng("dujiao", "enable", RESELLER)
    said = dict(line.split(":", 1) for line in enabled.stdout.splitlines() if ":" in line)
    key, secret = said["API key"].strip(), said["API secret"].strip()
    assert said["Upstream URL"].strip().endswith("/api/v1/upstream")
    assert f"enabled, API key {key}" in (await kameng("dujiao", "show", RESELLER)).stdout

    server = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli.main", "api", "serve", "--host", "127.0.0.1"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        connection = DujiaoAdapter(
            Credentials(f"http://127.0.0.1:{port}", key, secret),
            UrllibClient(timeout=10),
            SystemClock(),
        )
        for _ in range(200):  # until it listens (a process start, not a correctness wait)
            try:
                balance = await connection.balance()
                break
            except UpstreamUnreachable:
                await asyncio.sleep(0.05)
        else:
            raise AssertionError("kameng api serve did not start listening")
        assert balance == 12_34

        await kameng("dujiao", "disable", RESELLER)
        with pytest.raises(UpstreamError) as refused:
            await connection.balance()
        assert refused.value.params["reason"] == "invalid_api_key"
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(server.communicate(), timeout=30)
    assert server.returncode == 0, err
    assert secret not in err.decode()

"""A read-only disk under a running API server: orders are 503 ``storage_unavailable``
with ``Retry-After`` while it lasts and succeed again once the disk is writable, without a
restart; nothing is half-sold.

The server is a real ``kameng api serve`` process on a real SQLite file. The tests run as
root, which ignores file permissions, so the server runs without the capabilities that
allow it (``tests/web/servers.py``). The outage the issue saw is the one made here: the
server starts while the file and its directory are read-only, so every pooled connection
opens read-only; write permission comes back mid-load, goes again and comes back again.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.db import Database
from core.platform import build_platform
from core.settings import Settings
from tests.cli_runner import run_kameng
from tests.conftest import POSTGRES_URL, TEST_SECRET
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.servers import UNPRIVILEGED, ServerProcess, why_privileges_cannot_drop

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="a SQLite file's permissions")

CLIENTS = 4
PRICE = 92_00
STOCK = 400
BALANCE = 100 * PRICE


class Load:
    """``CLIENTS`` resellers, each placing one-code orders one after another under keys
    of its own, paced under the API's rate limit; every answer is kept in order."""

    def __init__(self, base_url: str, keys: list[str]) -> None:
        self.base_url = base_url
        self.keys = keys
        self.answers: list[tuple[int, str, int, dict[str, Any], dict[str, str]]] = []
        self.stopping = asyncio.Event()
        self.changed = asyncio.Event()

    async def client(self, http: aiohttp.ClientSession, n: int) -> None:
        sent = 0
        while not self.stopping.is_set():
            sent += 1
            key = f"c{n}-{sent}"
            status, body, headers = await self.order(http, n, key)
            self.answers.append((n, key, status, body, headers))
            self.changed.set()
            await asyncio.sleep(0.15)  # 10 requests/s per key at most

    async def order(
        self, http: aiohttp.ClientSession, n: int, key: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        async with http.post(
            f"{self.base_url}/orders",
            json={"sku": "STEAM-100", "quantity": 1},
            headers={"Authorization": f"Bearer {self.keys[n]}", "Idempotency-Key": key},
        ) as response:
            return response.status, await response.json(), dict(response.headers)

    async def until(self, status: int, count: int, *, after: int = 0) -> None:
        """Wait until ``count`` answers with ``status`` came after the first ``after``."""
        async with asyncio.timeout(60):
            while sum(1 for a in self.answers[after:] if a[2] == status) < count:
                self.changed.clear()
                await self.changed.wait()


def set_writable(directory: Path, writable: bool, *, with_directory: bool = True) -> None:
    """The database file and its -wal/-shm (and their directory): read-only, or writable."""
    if with_directory:
        directory.chmod(0o755 if writable else 0o555)
    for path in directory.glob("kameng.db*"):
        path.chmod(0o644 if writable else 0o444)


async def test_orders_recover_when_the_disk_does(migrated_template: str, tmp_path: Path) -> None:
    if reason := why_privileges_cannot_drop(tmp_path):
        pytest.skip(f"cannot run the server without root's file access: {reason}")
    directory = tmp_path / "data"
    directory.mkdir()
    shutil.copyfile(migrated_template, directory / "kameng.db")
    url = f"sqlite+aiosqlite:///{directory / 'kameng.db'}"
    settings = Settings(database_url=url, secret_key=TEST_SECRET, _env_file=None)
    platform = build_platform(settings, db=Database(url))
    await make_sku(platform, "STEAM-100", stock=STOCK, price=PRICE)
    keys = []
    for n in range(CLIENTS):
        await make_reseller(platform, 5000 + n, balance=BALANCE)
        keys.append((await platform.api_keys.issue(5000 + n, actor=ADMIN)).token)
    await platform.close()

    set_writable(directory, False, with_directory=False)
    server = ServerProcess(url, tmp_path, prefix=UNPRIVILEGED)
    try:
        await server.start(keys[0])
        load = Load(server.base_url, keys)
        async with aiohttp.ClientSession() as http, contextlib.AsyncExitStack() as stack:
            clients = [asyncio.create_task(load.client(http, n)) for n in range(CLIENTS)]
            stack.callback(lambda: [client.cancel() for client in clients])
            await load.until(503, 8)  # started read-only: every order refused
            async with http.get(
                f"{server.base_url}/me", headers={"Authorization": f"Bearer {keys[0]}"}
            ) as response:
                assert response.status == 200  # reading still works
            set_writable(directory, True)  # back, mid-load, without a restart
            restored = len(load.answers)
            await load.until(201, 8, after=restored)
            # and gone again, directory too: the connections opened since stay writable
            # (the kernel checks permissions when a file is opened), others cannot open
            set_writable(directory, False)
            outage = len(load.answers)
            await asyncio.sleep(0.5)  # a few orders' worth of load on a read-only disk
            set_writable(directory, True)
            back = len(load.answers)
            await load.until(201, 8, after=back)
            load.stopping.set()
            await asyncio.gather(*clients)

            statuses = Counter(a[2] for a in load.answers)
            assert set(statuses) <= {201, 503}, statuses
            first = load.answers[0]
            assert first[2] == 503 and first[3]["error"]["code"] == "storage_unavailable"
            assert int(first[4]["Retry-After"]) > 0
            # after each recovery the orders go through: no connection stayed read-only
            assert [a[2] for a in load.answers[-CLIENTS:]] == [201] * CLIENTS
            assert outage <= back

            # what was refused charged nothing: the same key succeeds now, once
            refused = [(n, key) for n, key, status, *_ in load.answers if status == 503]
            for n, key in refused:
                status, _body, _headers = await load.order(http, n, key)
                assert status == 201
            sold: list[str] = []
            for n, key, *_ in load.answers:
                status, body, headers = await load.order(http, n, key)
                assert (status, headers.get("Idempotent-Replayed")) == (200, "true")
                sold += [code["number"] for code in body["codes"]]
            assert len(sold) == len(set(sold)) == len(load.answers)  # no code twice
    finally:
        set_writable(directory, True)
        log = await server.stop()
    assert "storage unavailable (" in log
    assert " ERROR " not in log and "Traceback" not in log, log[-2000:]

    env = {"KAMENG_DATABASE_URL": url, "KAMENG_SECRET_KEY": TEST_SECRET}
    checked = await asyncio.to_thread(run_kameng, "ledger", "check", env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

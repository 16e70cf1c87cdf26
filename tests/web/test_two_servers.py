"""Two ``kameng api serve`` processes on one SQLite file: every order from both goes
through, each code to one buyer, the ledger balances; the writers queued on the lock file
beside the database rather than in SQLite's busy handler."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import aiohttp
import pytest

from core.db import Database
from core.platform import build_platform
from core.settings import Settings
from core.writer_lock import SUFFIX
from tests.cli_runner import run_kameng
from tests.conftest import POSTGRES_URL, TEST_SECRET
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.servers import ServerProcess

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="two processes on a SQLite file")

CLIENTS = 4
ORDERS = 8  # each, within the API's burst of 20 a key


def lock_file_exists(database: Path) -> bool:
    return database.with_name(database.name + SUFFIX).exists()


async def test_two_servers_on_one_file(migrated_template: str, tmp_path: Path) -> None:
    path = tmp_path / "kameng.db"
    shutil.copyfile(migrated_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    settings = Settings(database_url=url, secret_key=TEST_SECRET, _env_file=None)
    platform = build_platform(settings, db=Database(url))
    await make_sku(platform, "STEAM-100", stock=CLIENTS * ORDERS)
    keys = []
    for n in range(CLIENTS):
        await make_reseller(platform, 6000 + n, balance=ORDERS * 92_00)
        keys.append((await platform.api_keys.issue(6000 + n, actor=ADMIN)).token)
    await platform.close()

    servers = [ServerProcess(url, tmp_path), ServerProcess(url, tmp_path)]
    try:
        for server in servers:
            await server.start(keys[0])
        async with aiohttp.ClientSession() as http:

            async def client(n: int) -> list[str]:
                bought = []
                for k in range(ORDERS):  # alternating between the two servers
                    async with http.post(
                        f"{servers[(n + k) % 2].base_url}/orders",
                        json={"sku": "STEAM-100", "quantity": 1},
                        headers={"Authorization": f"Bearer {keys[n]}", "Idempotency-Key": f"{k}"},
                    ) as response:
                        body = await response.json()
                        assert response.status == 201, body
                        bought += [code["number"] for code in body["codes"]]
                return bought

            bought = await asyncio.gather(*map(client, range(CLIENTS)))
            sold = [code for codes in bought for code in codes]
        assert len(sold) == len(set(sold)) == CLIENTS * ORDERS
        assert lock_file_exists(path)
    finally:
        logs = [await server.stop() for server in servers]
    for log in logs:
        assert " ERROR " not in log and "Traceback" not in log, log[-2000:]

    env = {"KAMENG_DATABASE_URL": url, "KAMENG_SECRET_KEY": TEST_SECRET}
    checked = await asyncio.to_thread(run_kameng, "ledger", "check", env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr

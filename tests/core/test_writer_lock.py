"""Write transactions on one SQLite file queue across processes on its lock file
(``core/writer_lock.py``): a writer waits, without blocking its event loop, while another
process holds the lock, and goes ahead as soon as it lets go."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db import Database
from core.writer_lock import SUFFIX, lock_path
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's writer queue")

HOLDER = """
import fcntl, sys
with open(sys.argv[1], "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    print("held", flush=True)
    sys.stdin.readline()  # until the test says so
"""


def test_the_lock_file_sits_beside_the_database(tmp_path: Path) -> None:
    assert lock_path(f"sqlite+aiosqlite:///{tmp_path}/k.db") == f"{tmp_path}/k.db{SUFFIX}"
    assert lock_path("sqlite+aiosqlite:///:memory:") is None
    assert lock_path("postgresql+asyncpg://postgres@127.0.0.1/kameng") is None


async def test_a_writer_waits_for_another_process(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'kameng.db'}"
    db = Database(url)
    lock = lock_path(url)
    assert lock is not None
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        HOLDER,
        lock,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert await holder.stdout.readline() == b"held\n"
        wrote = asyncio.Event()

        async def write() -> None:
            async with db.transaction() as session:
                await session.execute(text("CREATE TABLE t (a INTEGER)"))
            wrote.set()

        writer = asyncio.create_task(write())
        ticks = 0
        for _ in range(20):  # the loop keeps running while the writer waits
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not wrote.is_set()
        holder.stdin.write(b"go\n")
        await holder.stdin.drain()
        async with asyncio.timeout(30):
            await writer
        async with db.reading() as session:
            assert (await session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        if holder.returncode is None:
            holder.kill()
        await holder.wait()
        await db.dispose()

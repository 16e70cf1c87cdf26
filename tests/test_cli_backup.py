"""``kameng db backup`` and ``kameng db restore``, as an operator runs them.

SQLite: a backup taken while another process keeps buying is a consistent copy (the ledger
and the audit chain prove it, and every order committed before the backup began is in it);
a restore fills an empty database and the CLI then reads it; a database with tables is
never restored onto. PostgreSQL: the pg_dump / pg_restore lines, and (with the PostgreSQL
test database and the client tools) those lines run for real, round trip.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import make_url

from core.platform import Platform
from core.settings import Settings
from tests.cli_runner import Done, run_kameng
from tests.conftest import POSTGRES_URL, TEST_SECRET, drop_postgres, recreate_postgres
from tests.factories import make_reseller, make_sku

REPO = Path(__file__).resolve().parent.parent
RESELLER = 1001
sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="the SQLite backup path")
postgres_only = pytest.mark.skipif(
    not POSTGRES_URL, reason="needs KAMENG_TEST_DATABASE_URL (a PostgreSQL test database)"
)


def kameng(url: str, *args: str, cwd: Path) -> Done:
    return run_kameng(
        *args, env={"KAMENG_DATABASE_URL": url, "KAMENG_SECRET_KEY": TEST_SECRET}, cwd=cwd
    )


async def cli(url: str, *args: str, cwd: Path) -> Done:
    """``kameng`` in a worker thread (it runs its own event loop)."""
    return await asyncio.to_thread(kameng, url, *args, cwd=cwd)


def run_printed(line: str) -> None:
    """Runs a command line the CLI printed, as the operator pastes it into a shell."""
    subprocess.run(shlex.split(line), check=True, timeout=120)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def order_ids(path: Path) -> list[int]:
    with closing(sqlite3.connect(path)) as connection:
        return [row[0] for row in connection.execute("SELECT id FROM orders ORDER BY id")]


def self_contained(path: Path) -> bool:
    """One file: no write-ahead log beside it to copy as well."""
    return not Path(f"{path}-wal").exists()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def shop_with_a_sale(platform: Platform, stock: int = 10) -> None:
    await make_sku(platform, stock=stock)
    await make_reseller(platform, RESELLER, balance=stock * 92_00)
    await platform.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="first-sale")


async def nightly_backup(platform: Platform, settings: Settings, tmp_path: Path) -> Path:
    """The shop with a sale, backed up by ``kameng db backup``."""
    await shop_with_a_sale(platform)
    copy = tmp_path / "nightly.db"
    done = await cli(settings.database_url, "db", "backup", str(copy), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return copy


@sqlite_only
async def test_a_backup_taken_while_another_process_buys_is_consistent_and_complete(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    purchases = 600
    await make_sku(platform, stock=purchases)
    await make_reseller(platform, RESELLER, balance=purchases * 92_00)
    writer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.backup_writer",
        str(RESELLER),
        "STEAM-100",
        str(purchases),
        cwd=REPO,
        env={
            **os.environ,
            "KAMENG_DATABASE_URL": settings.database_url,
            "KAMENG_SECRET_KEY": TEST_SECRET,
        },
        stdout=asyncio.subprocess.PIPE,
    )
    assert writer.stdout is not None
    committed: list[int] = []

    async def read_committed(at_least: int) -> None:
        while len(committed) < at_least:
            line = await asyncio.wait_for(writer.stdout.readline(), timeout=60)
            assert line, "the writer stopped early"
            committed.append(int(line))

    copies = []
    try:
        for n in range(3):  # three backups, each while the writer is buying
            await read_committed(len(committed) + 40)
            before = set(committed)  # every order read so far had committed
            copy = tmp_path / f"backup-{n}.db"
            done = await cli(settings.database_url, "db", "backup", str(copy), cwd=tmp_path)
            assert done.returncode == 0, done.stderr
            assert f"backup written to {copy}" in done.stdout
            copies.append((copy, before))
        await read_committed(len(committed) + 40)  # and it went on buying after them
    finally:
        if writer.returncode is None:
            writer.kill()
        await writer.wait()

    for copy, before in copies:
        in_copy = order_ids(copy)
        assert before <= set(in_copy)
        assert in_copy == list(range(1, len(in_copy) + 1))  # a prefix: one snapshot, no gap
        assert self_contained(copy)
        check = await cli(sqlite_url(copy), "ledger", "check", cwd=tmp_path)
        assert check.returncode == 0 and "OK: the ledger balances" in check.stdout, check.stdout
        chain = await cli(sqlite_url(copy), "audit", "verify", cwd=tmp_path)
        assert chain.returncode == 0 and "chain intact" in chain.stdout, chain.stdout
    assert len(order_ids(copies[-1][0])) < len(committed)  # the writer did not wait for them


@sqlite_only
async def test_restore_onto_an_empty_path_checks_it_and_the_cli_reads_it(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    copy = await nightly_backup(platform, settings, tmp_path)
    target = tmp_path / "restored" / "kameng.db"
    target.parent.mkdir()

    restored = await cli(sqlite_url(target), "db", "restore", str(copy), cwd=tmp_path)

    assert restored.returncode == 0, restored.stderr
    assert f"restored {copy} onto {target}" in restored.stdout
    assert "OK: the ledger balances" in restored.stdout
    assert "chain intact" in restored.stdout
    balance = await cli(sqlite_url(target), "balance", "show", str(RESELLER), cwd=tmp_path)
    assert "balance 736.00" in balance.stdout  # 10 × 92.00 less the 2 bought
    sku = await cli(sqlite_url(target), "sku", "show", "STEAM-100", cwd=tmp_path)
    assert "stock 8" in sku.stdout
    bought = await cli(sqlite_url(target), "buy", str(RESELLER), "STEAM-100", "1", cwd=tmp_path)
    assert bought.returncode == 0 and bought.stdout.strip().endswith("-SECRET")  # same key


@sqlite_only
async def test_restore_onto_an_empty_database_file(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    copy = await nightly_backup(platform, settings, tmp_path)
    target = tmp_path / "empty.db"
    with closing(sqlite3.connect(target)) as connection:  # a database, but no tables
        connection.execute("PRAGMA journal_mode=WAL")

    restored = await cli(sqlite_url(target), "db", "restore", str(copy), cwd=tmp_path)

    assert restored.returncode == 0, restored.stderr
    assert order_ids(target) == order_ids(copy)


@sqlite_only
async def test_restore_onto_a_database_with_tables_is_refused_and_touches_nothing(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    copy = await nightly_backup(platform, settings, tmp_path)
    live = Path(str(make_url(settings.database_url).database))
    await platform.close()
    before = digest(live)

    refused = await cli(settings.database_url, "db", "restore", str(copy), cwd=tmp_path)

    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "table(s): a restore goes onto an empty database only; nothing touched" in refused.stderr
    assert digest(live) == before


@sqlite_only
async def test_what_is_not_a_backup_is_refused_and_a_backup_never_overwrites(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    await shop_with_a_sale(platform)
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("this is not a database\n" * 100)
    target = tmp_path / "new.db"

    refused = await cli(sqlite_url(target), "db", "restore", str(not_a_backup), cwd=tmp_path)
    assert refused.returncode == 2 and "is not a SQLite database" in refused.stderr
    assert not target.exists()

    existing = tmp_path / "yesterday.db"
    existing.write_bytes(b"yesterday's backup")
    over = await cli(settings.database_url, "db", "backup", str(existing), cwd=tmp_path)
    assert over.returncode == 2 and "a backup never overwrites a file" in over.stderr
    assert existing.read_bytes() == b"yesterday's backup"

    nowhere = tmp_path / "no-such-directory" / "today.db"
    lost = await cli(settings.database_url, "db", "backup", str(nowhere), cwd=tmp_path)
    assert lost.returncode == 2 and "no directory" in lost.stderr


def test_postgres_backup_prints_the_pg_dump_line_without_the_password(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://kameng:s3cret-pw@db.internal:5433/shop"

    done = kameng(url, "db", "backup", "/backups/shop.dump", cwd=tmp_path)

    assert done.returncode == 0
    assert done.stdout == (
        "pg_dump --format=custom --host=db.internal --port=5433 --username=kameng "
        "--dbname=shop --file=/backups/shop.dump\n"
    )
    assert "s3cret-pw" not in done.stdout + done.stderr
    assert "PGPASSWORD or ~/.pgpass" in done.stderr


@postgres_only
async def test_postgres_restore_is_refused_onto_a_database_with_tables(
    db: object, tmp_path: Path
) -> None:
    dump = tmp_path / "shop.dump"
    dump.write_bytes(b"PGDMP")

    refused = await cli(POSTGRES_URL, "db", "restore", str(dump), cwd=tmp_path)

    assert refused.returncode == 2 and refused.stdout == ""
    assert "nothing touched" in refused.stderr


@postgres_only
async def test_postgres_round_trip_through_the_printed_lines(
    platform: Platform, tmp_path: Path
) -> None:
    """The printed pg_dump line backs up, the printed pg_restore line fills an empty
    database, and the restored shop passes the proofs."""
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("PostgreSQL's client tools (pg_dump, pg_restore) are not installed")
    await shop_with_a_sale(platform)
    dump = tmp_path / "shop.dump"
    line = await cli(POSTGRES_URL, "db", "backup", str(dump), cwd=tmp_path)
    assert line.stdout.startswith("pg_dump --format=custom ")
    await asyncio.to_thread(run_printed, line.stdout)
    source = make_url(POSTGRES_URL)
    restored_url = source.set(database=f"{source.database}_restored").render_as_string(
        hide_password=False
    )
    await recreate_postgres(restored_url)
    try:
        told = await cli(restored_url, "db", "restore", str(dump), cwd=tmp_path)
        assert told.returncode == 0, told.stderr
        assert told.stdout.startswith("pg_restore --no-owner --single-transaction")
        assert "kameng ledger check, kameng audit verify" in told.stderr
        await asyncio.to_thread(run_printed, told.stdout)

        check = await cli(restored_url, "ledger", "check", cwd=tmp_path)
        assert "OK: the ledger balances" in check.stdout, check.stdout
        chain = await cli(restored_url, "audit", "verify", cwd=tmp_path)
        assert "chain intact" in chain.stdout
        balance = await cli(restored_url, "balance", "show", str(RESELLER), cwd=tmp_path)
        assert "balance 736.00" in balance.stdout
        again = await cli(restored_url, "db", "restore", str(dump), cwd=tmp_path)
        assert again.returncode == 2  # it has tables now
    finally:
        await drop_postgres(restored_url)


@sqlite_only
async def test_a_backup_of_an_older_release_is_restored_and_the_upgrade_named(
    tmp_path: Path,
) -> None:
    older = tmp_path / "older.db"
    migrated = await cli(sqlite_url(older), "db", "upgrade", "--revision", "0015", cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    copy = tmp_path / "older-backup.db"
    assert (await cli(sqlite_url(older), "db", "backup", str(copy), cwd=tmp_path)).returncode == 0
    target = tmp_path / "restored.db"

    restored = await cli(sqlite_url(target), "db", "restore", str(copy), cwd=tmp_path)

    assert restored.returncode == 0, restored.stderr
    assert "schema 0015" in restored.stdout
    assert "run kameng db upgrade, kameng ledger check, kameng audit verify" in restored.stdout
    upgraded = await cli(sqlite_url(target), "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0
    assert "OK" in (await cli(sqlite_url(target), "ledger", "check", cwd=tmp_path)).stdout


@sqlite_only
async def test_a_backup_of_a_newer_release_is_refused(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    assert (await cli(sqlite_url(newer), "db", "upgrade", cwd=tmp_path)).returncode == 0
    with closing(sqlite3.connect(newer)) as connection, connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    target = tmp_path / "restored.db"

    refused = await cli(sqlite_url(target), "db", "restore", str(newer), cwd=tmp_path)

    assert refused.returncode == 2
    assert "is of a newer release (schema 0099" in refused.stderr
    assert not target.exists()

"""Codes per second importing stock through ``StockImporter.import_codes``, and peak memory.

    .venv/bin/python bench/import.py [--codes 1000000] [--batch 20000]
                                     [--tracemalloc-codes 100000] [--postgres URL]

Passes, in this order, in one process (each on a fresh, migrated database with one SKU):

1. core, speed - ``platform.stock.import_codes`` fed by a generator of distinct code lines
   (nothing holds the whole file); TIMED from the call to its return. Peak RSS
   (``ru_maxrss``) is read right after, so it is the process peak up to and including this
   import (interpreter, SQLAlchemy and all).
2. raw baseline - the same lines, in batches of ``--batch``, keyed-fingerprinted and
   AES-GCM-encrypted with the core's ``CodeCipher``, then inserted with one aiosqlite
   ``executemany`` per batch in its own ``BEGIN IMMEDIATE`` transaction, same pragmas. Its
   time is split into crypto and insert, so "insert of already-encrypted rows" is shown too.
3. core, memory - ``import_codes`` again with ``tracemalloc`` on (which slows Python down,
   so it is a separate pass over ``--tracemalloc-codes`` lines): peak Python allocations.

With ``--postgres URL`` (its ``public`` schema is wiped) passes 1 and 2 also run on
PostgreSQL, the raw side with asyncpg ``executemany``. Targets: > 20,000 codes/s on SQLite
and < 200 MB peak. Speed is printed as ratios; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import aiosqlite
import asyncpg
from _common import (
    ADMIN,
    BENCH_SECRET,
    SKU,
    asyncpg_dsn,
    codes,
    fresh_platform,
    peak_rss_mb,
    prepare_postgres,
    seed_sku,
    sqlite_url,
    table,
)

from core.crypto import CodeCipher
from core.db import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB
from core.delivery.importer import DEFAULT_BATCH

CODES_TARGET = 20_000
MEMORY_TARGET_MB = 200


@dataclass
class Run:
    label: str
    codes: int
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.codes / self.seconds


async def core_import(url: str, count: int, batch: int) -> tuple[Run, float]:
    """Returns the timed run and the median ``Quotes.quote`` latency (ms) afterwards."""
    platform = await fresh_platform(url)
    await seed_sku(platform)
    began = time.perf_counter()
    report = await platform.stock.import_codes(SKU, codes(count), actor=ADMIN, batch_size=batch)
    seconds = time.perf_counter() - began
    assert report.added == count and report.rejected == 0, report
    await platform.catalogue.ensure_user(77_777, username="bench-quoter")
    latencies = []
    for _ in range(5):
        t = time.perf_counter()
        await platform.quotes.quote(77_777, SKU, 1)
        latencies.append((time.perf_counter() - t) * 1000)
    await platform.close()
    return Run("core import_codes", count, seconds), statistics.median(latencies)


def batches(lines: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(islice(lines, size)):
        yield chunk


INSERT = (
    "INSERT INTO codes (sku_id, import_id, ciphertext, fingerprint, status, created_at) VALUES ({})"
)


async def seeded_ids(url: str) -> tuple[int, int]:
    """A fresh migrated database with the SKU and an import record; their ids."""
    platform = await fresh_platform(url)
    await seed_sku(platform)
    async with platform.db.transaction() as session:
        from core.catalogue import load_sku
        from core.models import CodeImport

        sku = await load_sku(session, SKU)
        record = CodeImport(sku_id=sku.id, actor=ADMIN, created_at=datetime.now(UTC))
        session.add(record)
        await session.flush()
        ids = sku.id, record.id
    await platform.close()
    return ids


async def raw_sqlite(url: str, path: Path, count: int, batch: int) -> tuple[Run, Run]:
    sku_id, import_id = await seeded_ids(url)
    cipher = CodeCipher(BENCH_SECRET)
    conn = await aiosqlite.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        "foreign_keys=ON",
        f"cache_size=-{SQLITE_CACHE_KIB}",
    ):
        await conn.execute_fetchall(f"PRAGMA {pragma}")
    sql = INSERT.format("?, ?, ?, ?, 'available', ?")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    crypto = insert = 0.0
    began = time.perf_counter()
    for chunk in batches(codes(count), batch):
        t = time.perf_counter()
        rows = [(sku_id, import_id, cipher.encrypt(c), cipher.fingerprint(c), stamp) for c in chunk]
        t2 = time.perf_counter()
        await conn.execute_fetchall("BEGIN IMMEDIATE")
        await conn.executemany(sql, rows)
        await conn.execute_fetchall("COMMIT")
        crypto, insert = crypto + t2 - t, insert + time.perf_counter() - t2
    total = time.perf_counter() - began
    await conn.close()
    return _raw_runs(count, total, crypto, insert)


def _raw_runs(count: int, total: float, crypto: float, insert: float) -> tuple[Run, Run]:
    """A raw run's two rows, on either database: all of it, and the inserts alone."""
    return (
        Run(
            "raw fingerprint+encrypt+insert",
            count,
            total,
            f"crypto {crypto:.1f}s, insert {insert:.1f}s",
        ),
        Run("raw insert of encrypted rows", count, insert, "insert time only"),
    )


async def raw_postgres(url: str, count: int, batch: int) -> tuple[Run, Run]:
    sku_id, import_id = await seeded_ids(url)
    cipher = CodeCipher(BENCH_SECRET)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    sql = INSERT.format("$1, $2, $3, $4, 'available', $5")
    now = datetime.now(UTC)
    crypto = insert = 0.0
    began = time.perf_counter()
    for chunk in batches(codes(count), batch):
        t = time.perf_counter()
        rows = [(sku_id, import_id, cipher.encrypt(c), cipher.fingerprint(c), now) for c in chunk]
        t2 = time.perf_counter()
        async with conn.transaction():
            await conn.executemany(sql, rows)
        crypto, insert = crypto + t2 - t, insert + time.perf_counter() - t2
    total = time.perf_counter() - began
    await conn.close()
    return _raw_runs(count, total, crypto, insert)


async def traced_import(url: str, count: int, batch: int) -> float:
    """Peak traced Python allocations (MB) during one core import."""
    platform = await fresh_platform(url)
    await seed_sku(platform)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        await platform.stock.import_codes(SKU, codes(count), actor=ADMIN, batch_size=batch)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await platform.close()
    return peak / (1024 * 1024)


def print_runs(database: str, runs: list[Run], core: Run) -> None:
    rows = [
        [database, r.label, f"{r.rate:,.0f}", f"{core.rate / r.rate:.2f}", r.note] for r in runs
    ]
    print(table(["database", "pass", "codes/s", "core/this", "note"], rows))


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Stock import codes/s and peak memory: core vs raw SQL.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--codes", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=DEFAULT_BATCH, help="importer batch size")
    parser.add_argument(
        "--tracemalloc-codes",
        type=int,
        default=100_000,
        help="size of the separate tracemalloc pass (0: skip)",
    )
    parser.add_argument("--postgres", default="", help="also run on this database (wiped)")
    parser.add_argument(
        "--allow-wipe",
        action="store_true",
        help="allow a --postgres database whose name lacks 'bench'",
    )
    args = parser.parse_args(argv)

    rss_start = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="kameng-bench-") as tmp:
        directory = Path(tmp)
        core, quote_ms = await core_import(sqlite_url(directory, "core.db"), args.codes, args.batch)
        rss_core = peak_rss_mb()
        raw, insert_only = await raw_sqlite(
            sqlite_url(directory, "raw.db"), directory / "raw.db", args.codes, args.batch
        )
        traced = (
            await traced_import(
                sqlite_url(directory, "traced.db"), args.tracemalloc_codes, args.batch
            )
            if args.tracemalloc_codes
            else None
        )
    print(
        f"\n{args.codes:,} codes into one SKU, batches of {args.batch:,}, lines from a"
        " generator; codes/s of wall-clock time.\n"
    )
    print_runs("sqlite", [core, raw, insert_only], core)
    pg: tuple[Run, Run, Run] | None = None
    pg_quote_ms = 0.0
    if args.postgres:
        await prepare_postgres(args.postgres, allow_any=args.allow_wipe)
        pg_core, pg_quote_ms = await core_import(args.postgres, args.codes, args.batch)
        await prepare_postgres(args.postgres, allow_any=args.allow_wipe)
        pg_raw, pg_insert = await raw_postgres(args.postgres, args.codes, args.batch)
        pg = (pg_core, pg_raw, pg_insert)
        print()
        print_runs("postgresql", list(pg), pg_core)

    print(
        f"\npeak RSS: {rss_core:.0f} MB after the SQLite core import (process start:"
        f" {rss_start:.0f} MB; target < {MEMORY_TARGET_MB} MB)"
    )
    if traced is not None:
        print(
            f"tracemalloc peak during a core import of {args.tracemalloc_codes:,} codes:"
            f" {traced:.1f} MB of Python allocations (separate, slower pass)"
        )
    print(
        f"Quotes.quote with {args.codes:,} codes in stock (it counts them): sqlite"
        f" {quote_ms:.1f} ms"
        + (f", postgresql {pg_quote_ms:.1f} ms" if pg else "")
        + " (median of 5)"
    )
    print(
        f"\nratio sqlite: core/raw = {core.rate / raw.rate:.2f} (raw = fingerprint+encrypt"
        f"+insert); core {core.rate:,.0f} codes/s, target > {CODES_TARGET:,}"
    )
    if pg:
        print(
            f"ratio postgresql: core/raw = {pg[0].rate / pg[1].rate:.2f};"
            f" core {pg[0].rate:,.0f} codes/s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

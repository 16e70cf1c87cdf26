"""Purchases per second through the core purchase use case, beside a raw-SQL baseline.

    .venv/bin/python bench/checkout.py [--purchases 320] [--buyers 16] [--rounds 4]
                                       [--postgres URL | --skip-postgres]

Per database (a fresh SQLite file in a temp dir; PostgreSQL, whose ``public`` schema is
wiped) one migrated schema is seeded through the core (a supplier, one unique-stock SKU,
its codes, a reseller per buyer task and mode, top-ups). Then ``--buyers`` asyncio tasks,
each buying one code at a time for its own reseller, run these modes, ``--purchases`` each:

* core quote+buy - TIMED per purchase: ``Quotes.quote`` then ``Shop.buy``, what a user
  does (two write transactions: the quote is stored, then the sale). One shared Platform.
* core buy only  - the quotes are issued beforehand, untimed; TIMED: ``Shop.buy`` alone.
* raw            - the BASELINE: the sale's writes in plain SQL, one transaction per
  purchase, through the same driver directly (aiosqlite / asyncpg), one connection per
  task, same pragmas as ``core.db`` (WAL, synchronous=FULL, busy_timeout, cache_size).
  SQLite has one writer, so on SQLite the tasks queue for it on an in-process
  asyncio.Lock rather than polling in SQLite's busy handler, as the core's
  ``Database.transaction`` does too (``--raw-busy-wait`` to poll instead; it starves
  tasks for up to 100 ms a try and makes small runs erratic). Per purchase: BEGIN IMMEDIATE
  (SQLite); insert the order; debit the reseller with a conditional UPDATE; credit the
  supplier and platform accounts; insert the ledger transaction and its entries; claim one
  code with UPDATE ... RETURNING (FOR UPDATE SKIP LOCKED on PostgreSQL); insert the order
  line and the outbox row; count the unit in the supplier's day (the ladder's volume);
  append the hash-chained audit record; COMMIT; decrypt the code.
* raw via SQLAlchemy - the same statements as ``text()`` on the core's own engine
  (``core.db.Database``: same pool, hooks and BEGIN IMMEDIATE; on SQLite the same in-process
  queue as raw), a connection checked out per purchase. Not a target: it shows how
  much of the gap is the async SQLAlchemy layer and how much is the ORM use case itself.

The modes are interleaved in ``--rounds`` rounds so that drift (other processes, disk
cache) hits them alike; rates are purchases per second of wall-clock time summed over the
rounds. A warm-up purchase per task and mode is never timed. Afterwards
``core.checks.check_ledger`` (and the audit chain) must hold for the whole database, raw
sales included. Speed is printed as ratios (target: core >= 0.5 x raw); nothing asserts
a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
import asyncpg
from _common import (
    ADMIN,
    BENCH_SECRET,
    DEFAULT_POSTGRES,
    PRICE,
    SKU,
    SUPPLY_PRICE,
    asyncpg_dsn,
    codes,
    fresh_platform,
    prepare_postgres,
    seed_sku,
    sqlite_url,
    table,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from core import audit
from core.audit import record_hash
from core.checks import CheckReport, check_ledger
from core.crypto import CodeCipher
from core.db import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB
from core.orders import Receipt
from core.platform import Platform
from core.pricing.split import split_unit

TARGET = 0.5
CORE_QB, CORE_BUY, RAW, RAW_SA = "core quote+buy", "core buy only", "raw", "raw via SQLAlchemy"
MODES = (CORE_QB, CORE_BUY, RAW, RAW_SA)
FIRST_TID = {CORE_QB: 10_000, CORE_BUY: 20_000, RAW: 30_000, RAW_SA: 40_000}


@dataclass
class Timing:
    purchases: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.purchases / self.seconds

    def add(self, other: Timing) -> None:
        self.purchases += other.purchases
        self.seconds += other.seconds
        self.latencies += other.latencies

    def ms(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


def shares(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


async def timed(
    buyers: int, per_buyer: Sequence[int], one: Callable[[int, int], Awaitable[None]]
) -> Timing:
    """Run ``one(buyer, n)`` ``per_buyer[buyer]`` times in each of ``buyers`` tasks."""
    latencies: list[float] = []

    async def task(buyer: int) -> None:
        for n in range(per_buyer[buyer]):
            began = time.perf_counter()
            await one(buyer, n)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(task(b) for b in range(buyers)))
    return Timing(sum(per_buyer), time.perf_counter() - began, latencies)


# the raw sale ---------------------------------------------------------------------------------

SALE = {
    "order": "INSERT INTO orders (idempotency_key, user_id, sku_id, supplier_id, quote_id,"
    " quantity, unit_price, total, commission_bps, status, created_at) VALUES (:key, :user_id,"
    " :sku_id, :supplier_id, NULL, 1, :price, :price, :bps, 'paid', :now) RETURNING id",
    "debit": "UPDATE accounts SET balance = balance + :amount WHERE kind = 'reseller_balance'"
    " AND owner_id = :owner AND balance + :amount >= 0 RETURNING id",
    "credit": "UPDATE accounts SET balance = balance + :amount WHERE kind = :kind"
    " AND owner_id = :owner RETURNING id",
    "transaction": "INSERT INTO ledger_transactions (idempotency_key, kind, order_id, memo,"
    " created_at) VALUES (:key, 'purchase', :order_id, '', :now) RETURNING id",
    "entry": "INSERT INTO ledger_entries (transaction_id, account_id, amount)"
    " VALUES (:txn, :account, :amount)",
    "claim": "UPDATE codes SET status = 'sold' WHERE id IN (SELECT id FROM codes"
    " WHERE sku_id = :sku_id AND status = 'available' ORDER BY id LIMIT 1{lock})"
    " RETURNING id, ciphertext",
    "line": "INSERT INTO order_lines (order_id, code_id, price, supplier_amount,"
    " platform_spread, platform_commission, status) VALUES (:order_id, :code_id, :price,"
    " :supplier, :spread, :commission, 'delivered')",
    "outbox": "INSERT INTO outbox (kind, user_id, payload, created_at, available_at, attempts)"
    " VALUES ('sale', :user_id, :payload, :now, :now, 0)",
    "units": "INSERT INTO supplier_daily_units (supplier_id, day, units) VALUES (:supplier_id,"
    " :day, 1) ON CONFLICT (supplier_id, day) DO UPDATE SET units = supplier_daily_units.units + 1",
    "audit_head": "UPDATE audit_head SET last_id = last_id + 1 WHERE id = 1"
    " RETURNING last_id, last_hash",
    "audit": "INSERT INTO audit_log (id, created_at, action, actor, subject, payload,"
    " prev_hash, hash) VALUES (:id, :now, 'sale', :actor, :subject, :payload, :prev, :hash)",
    "audit_hash": "UPDATE audit_head SET last_hash = :hash WHERE id = 1",
}


class Executor(Protocol):
    """One connection's way to run the sale's statements (named ``:params``)."""

    async def begin(self) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def rows(self, name: str, params: dict[str, Any]) -> list[Any]: ...
    async def many(self, name: str, params: list[dict[str, Any]]) -> None: ...
    def stamp(self, now: datetime) -> Any: ...
    async def close(self) -> None: ...


class AiosqliteExecutor:
    """One aiosqlite connection; write transactions queue on an in-process lock (if given)
    instead of polling in SQLite's busy handler."""

    def __init__(self, conn: aiosqlite.Connection, lock: asyncio.Lock | None) -> None:
        self.conn = conn
        self.lock = lock
        self.sql = {k: v.format(lock="") for k, v in SALE.items()}

    @classmethod
    async def connect(cls, path: Path, lock: asyncio.Lock | None) -> AiosqliteExecutor:
        conn = await aiosqlite.connect(
            path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
        )
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",
            f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            "foreign_keys=ON",
            f"cache_size=-{SQLITE_CACHE_KIB}",
        ):
            await conn.execute_fetchall(f"PRAGMA {pragma}")
        return cls(conn, lock)

    async def begin(self) -> None:
        if self.lock:
            await self.lock.acquire()
        try:
            await self.conn.execute_fetchall("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self.lock:
            self.lock.release()

    async def commit(self) -> None:
        try:
            await self.conn.execute_fetchall("COMMIT")
        finally:
            self._release()

    async def rollback(self) -> None:
        try:
            await self.conn.execute_fetchall("ROLLBACK")
        finally:
            self._release()

    async def rows(self, name: str, params: dict[str, Any]) -> list[Any]:
        return list(await self.conn.execute_fetchall(self.sql[name], params))

    async def many(self, name: str, params: list[dict[str, Any]]) -> None:
        await self.conn.executemany(self.sql[name], params)

    def stamp(self, now: datetime) -> Any:
        return now.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores it on SQLite

    async def close(self) -> None:
        await self.conn.close()


def positional(sql: str) -> tuple[str, list[str]]:
    """``:name`` parameters → asyncpg's ``$n``, and the order to pass them in."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<!:):(\w+)", number, sql), names


class AsyncpgExecutor:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        skip_locked = " FOR UPDATE SKIP LOCKED"
        self.sql = {k: positional(v.format(lock=skip_locked)) for k, v in SALE.items()}

    @classmethod
    async def connect(cls, dsn: str) -> AsyncpgExecutor:
        return cls(await asyncpg.connect(dsn))

    async def begin(self) -> None:
        await self.conn.execute("BEGIN")

    async def commit(self) -> None:
        await self.conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self.conn.execute("ROLLBACK")

    async def rows(self, name: str, params: dict[str, Any]) -> list[Any]:
        sql, names = self.sql[name]
        return list(await self.conn.fetch(sql, *(params[n] for n in names)))

    async def many(self, name: str, params: list[dict[str, Any]]) -> None:
        sql, names = self.sql[name]
        await self.conn.executemany(sql, [[p[n] for n in names] for p in params])

    def stamp(self, now: datetime) -> Any:
        return now

    async def close(self) -> None:
        await self.conn.close()


class SqlAlchemyExecutor:
    """``text()`` on the core's own engine (its pool, pragmas and BEGIN IMMEDIATE hook); like
    the core's unit of work, each transaction checks a connection out and gives it back."""

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock | None) -> None:
        self.engine = engine
        self.lock = lock
        self.sqlite = engine.dialect.name == "sqlite"
        skip_locked = "" if self.sqlite else " FOR UPDATE SKIP LOCKED"
        self.sql = {k: text(v.format(lock=skip_locked)) for k, v in SALE.items()}
        self.conn: AsyncConnection | None = None

    async def begin(self) -> None:
        if self.lock:
            await self.lock.acquire()
        try:
            self.conn = await self.engine.connect()
            await self.conn.begin()
        except BaseException:
            await self._end(commit=False)
            raise

    async def _end(self, commit: bool) -> None:
        try:
            if self.conn is not None:
                try:
                    await (self.conn.commit() if commit else self.conn.rollback())
                finally:
                    await self.conn.close()
        finally:
            self.conn = None
            if self.lock:
                self.lock.release()

    async def commit(self) -> None:
        await self._end(commit=True)

    async def rollback(self) -> None:
        await self._end(commit=False)

    async def rows(self, name: str, params: dict[str, Any]) -> list[Any]:
        assert self.conn is not None
        result = await self.conn.execute(self.sql[name], params)
        return list(result.all()) if result.returns_rows else []

    async def many(self, name: str, params: list[dict[str, Any]]) -> None:
        assert self.conn is not None
        await self.conn.execute(self.sql[name], params)

    def stamp(self, now: datetime) -> Any:
        return now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else now

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()


@dataclass(frozen=True)
class Fixture:
    """Ids and amounts the raw sale needs, read once before timing (a hand-written shop
    would know its prices; the core's ladder re-reads them per sale)."""

    supplier_id: int
    supplier_user_id: int
    sku_id: int
    bps: int
    supplier: int
    spread: int
    commission: int

    def payloads(self, order_id: int) -> tuple[str, str]:
        outbox = json.dumps(
            {
                "order_id": order_id,
                "sku": SKU,
                "quantity": 1,
                "earning": self.supplier,
                "commission_bps": self.bps,
            }
        )
        body = {
            "sku": SKU,
            "quantity": 1,
            "total": PRICE,
            "supplier": self.supplier,
            "commission_bps": self.bps,
        }
        return outbox, json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


async def raw_sale(
    ex: Executor, fx: Fixture, cipher: CodeCipher, user_id: int, tid: int, key: str
) -> str:
    now = datetime.now(UTC)
    at = ex.stamp(now)
    await ex.begin()
    try:
        [(order_id,)] = await ex.rows(
            "order",
            {
                "key": key,
                "user_id": user_id,
                "sku_id": fx.sku_id,
                "supplier_id": fx.supplier_id,
                "price": PRICE,
                "bps": fx.bps,
                "now": at,
            },
        )
        debit = await ex.rows("debit", {"amount": -PRICE, "owner": user_id})
        if not debit:
            raise RuntimeError("insufficient balance")
        entries = [(debit[0][0], -PRICE)]
        for kind, owner, amount in (
            ("supplier_payable", fx.supplier_id, fx.supplier),
            ("platform_spread", 0, fx.spread),
            ("platform_commission", 0, fx.commission),
        ):
            [(account_id,)] = await ex.rows(
                "credit", {"amount": amount, "kind": kind, "owner": owner}
            )
            entries.append((account_id, amount))
        [(txn,)] = await ex.rows(
            "transaction", {"key": f"order:{key}", "order_id": order_id, "now": at}
        )
        await ex.many("entry", [{"txn": txn, "account": a, "amount": m} for a, m in entries])
        claimed = await ex.rows("claim", {"sku_id": fx.sku_id})
        if not claimed:
            raise RuntimeError("out of stock")
        [(code_id, ciphertext)] = claimed
        await ex.rows(
            "line",
            {
                "order_id": order_id,
                "code_id": code_id,
                "price": PRICE,
                "supplier": fx.supplier,
                "spread": fx.spread,
                "commission": fx.commission,
            },
        )
        outbox, payload = fx.payloads(order_id)
        await ex.rows("outbox", {"user_id": fx.supplier_user_id, "payload": outbox, "now": at})
        day = at[:10] if isinstance(at, str) else now.date()  # the ladder's count, as the core
        await ex.rows("units", {"supplier_id": fx.supplier_id, "day": day})
        [(record_id, prev)] = await ex.rows("audit_head", {})
        actor, subject = f"user:{tid}", f"order:{order_id}"
        digest = record_hash(record_id, now, "sale", actor, subject, payload, prev)
        await ex.rows(
            "audit",
            {
                "id": record_id,
                "now": at,
                "actor": actor,
                "subject": subject,
                "payload": payload,
                "prev": prev,
                "hash": digest,
            },
        )
        await ex.rows("audit_hash", {"hash": digest})
        await ex.commit()
    except BaseException:
        await ex.rollback()
        raise
    return cipher.decrypt(ciphertext)


FIXTURE_SQL = text(
    "SELECT s.id, s.user_id, k.id, (SELECT spread_supplier_bps FROM platform_policy)"
    " FROM skus k JOIN suppliers s ON s.id = k.supplier_id WHERE k.code = :sku"
)
USERS_SQL = text(
    "SELECT id FROM users WHERE telegram_id >= :lo AND telegram_id < :hi ORDER BY telegram_id"
)


async def read_fixture(platform: Platform, buyers: int) -> tuple[Fixture, dict[str, list[int]]]:
    async with platform.db.engine.connect() as conn:
        supplier_id, supplier_user_id, sku_id, spread_bps = (
            await conn.execute(FIXTURE_SQL, {"sku": SKU})
        ).one()
        users = {
            mode: [
                row[0]
                for row in await conn.execute(
                    USERS_SQL, {"lo": FIRST_TID[mode], "hi": FIRST_TID[mode] + buyers}
                )
            ]
            for mode in (RAW, RAW_SA)
        }
    bps = 300  # the seeded ladder's first tier; the raw side does not re-read it
    split = split_unit(PRICE, SUPPLY_PRICE, spread_bps, bps)
    fixture = Fixture(
        supplier_id,
        supplier_user_id,
        sku_id,
        bps,
        split.supplier,
        split.platform_spread,
        split.platform_commission,
    )
    return fixture, users


# one database ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    database: str
    timings: dict[str, Timing]
    ledger: CheckReport
    audit: audit.AuditVerdict


async def bench_database(
    name: str,
    url: str,
    connect_raw: Callable[[asyncio.Lock | None], Awaitable[Executor]],
    purchases: int,
    buyers: int,
    rounds: int,
    serialise: bool,
) -> Outcome:
    platform = await fresh_platform(url)
    cipher = CodeCipher(BENCH_SECRET)
    per_round = [shares(part, buyers) for part in shares(purchases, rounds)]
    per_buyer = (purchases + rounds * buyers) // buyers + 2
    # seeding: never timed
    await seed_sku(platform)
    stock = len(MODES) * (purchases + buyers)
    added = await platform.stock.import_codes(SKU, codes(stock), actor=ADMIN)
    assert added.added == stock, added
    for mode in MODES:
        for b in range(buyers):
            tid = FIRST_TID[mode] + b
            await platform.catalogue.ensure_user(tid, username=f"bench{tid}")
            await platform.balances.top_up(
                tid, PRICE * per_buyer, idempotency_key=f"seed-{tid}", note="seed", actor=ADMIN
            )
    fixture, users = await read_fixture(platform, buyers)
    lock = asyncio.Lock() if serialise else None
    raw = [await connect_raw(lock) for _ in range(buyers)]
    sa = [SqlAlchemyExecutor(platform.db.engine, lock) for _ in range(buyers)]

    async def quote_and_buy(buyer: int, _n: int) -> None:
        tid = FIRST_TID[CORE_QB] + buyer
        quote = await platform.quotes.quote(tid, SKU, 1)
        receipt = await platform.shop.buy(tid, quote.id)
        assert isinstance(receipt, Receipt) and len(receipt.codes) == 1, receipt

    quotes: list[list[str]] = []

    async def buy(buyer: int, n: int) -> None:
        receipt = await platform.shop.buy(FIRST_TID[CORE_BUY] + buyer, quotes[buyer][n])
        assert isinstance(receipt, Receipt) and len(receipt.codes) == 1, receipt

    def raw_buyer(
        mode: str, executors: Sequence[Executor], tag: str
    ) -> Callable[[int, int], Awaitable[None]]:
        async def one(buyer: int, n: int) -> None:
            tid = FIRST_TID[mode] + buyer
            code = await raw_sale(
                executors[buyer], fixture, cipher, users[mode][buyer], tid, f"{tag}:{tid}:{n}"
            )
            assert code.startswith("BENCH-")

        return one

    timings = {mode: Timing() for mode in MODES}
    try:
        for r, counts in enumerate([[1] * buyers, *per_round]):  # round 0: warm-up
            quotes[:] = [
                [
                    (await platform.quotes.quote(FIRST_TID[CORE_BUY] + b, SKU, 1)).id
                    for _ in range(count)
                ]
                for b, count in enumerate(counts)
            ]
            for mode, one in (
                (CORE_QB, quote_and_buy),
                (CORE_BUY, buy),
                (RAW, raw_buyer(RAW, raw, f"raw{r}")),
                (RAW_SA, raw_buyer(RAW_SA, sa, f"sa{r}")),
            ):
                timing = await timed(buyers, counts, one)
                if r:
                    timings[mode].add(timing)
    finally:
        for ex in [*raw, *sa]:
            await ex.close()
    ledger = await check_ledger(platform.db)
    verdict = await audit.verify(platform.db)
    await platform.close()
    return Outcome(name, timings, ledger, verdict)


async def bench_sqlite(purchases: int, buyers: int, rounds: int, serialise: bool) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="kameng-bench-") as tmp:
        path = Path(tmp) / "bench.db"

        async def connect(lock: asyncio.Lock | None) -> Executor:
            return await AiosqliteExecutor.connect(path, lock)

        return await bench_database(
            "sqlite",
            sqlite_url(Path(tmp), "bench.db"),
            connect,
            purchases,
            buyers,
            rounds,
            serialise,
        )


async def bench_postgres(
    url: str, purchases: int, buyers: int, rounds: int, allow_wipe: bool
) -> Outcome:
    await prepare_postgres(url, allow_any=allow_wipe)

    async def connect(_lock: asyncio.Lock | None) -> Executor:
        return await AsyncpgExecutor.connect(asyncpg_dsn(url))

    return await bench_database("postgresql", url, connect, purchases, buyers, rounds, False)


# report ---------------------------------------------------------------------------------------


def report(outcomes: list[Outcome], purchases: int, buyers: int, rounds: int) -> bool:
    print(
        f"\n{purchases} purchases of 1 code per mode and database, {buyers} concurrent buyer"
        f" tasks, {rounds} interleaved rounds; purchases/s of wall-clock time.\n"
        "  core quote+buy: Quotes.quote + Shop.buy per purchase (2 transactions)\n"
        "  core buy only:  Shop.buy per purchase (quotes issued beforehand, untimed)\n"
        "  raw:            the sale's writes as plain SQL on the driver, 1 transaction\n"
        "  raw via SQLAlchemy: the same SQL as text() on the core's engine (diagnostic)\n"
    )
    rows = []
    for o in outcomes:
        raw = o.timings[RAW]
        for mode in MODES:
            t = o.timings[mode]
            ratio = t.rate / raw.rate
            verdict = "" if mode == RAW else ("yes" if ratio >= TARGET else "NO")
            rows.append(
                [
                    o.database,
                    mode,
                    f"{t.rate:,.0f}",
                    f"{ratio:.2f}",
                    "" if mode in (RAW, RAW_SA) else verdict,
                    f"{t.ms(50):.1f}",
                    f"{t.ms(99):.1f}",
                ]
            )
    print(
        table(["database", "mode", "purchases/s", "x raw", f">={TARGET}", "p50 ms", "p99 ms"], rows)
    )
    ok = True
    for o in outcomes:
        print(f"\nledger check ({o.database}, all modes' sales):")
        print("  " + o.ledger.render().replace("\n", "\n  "))
        print(
            f"audit chain ({o.database}): "
            + (f"OK, {o.audit.records} records" if o.audit.ok else f"BROKEN {o.audit}")
        )
        ok = ok and o.ledger.ok and o.audit.ok
    print()
    for o in outcomes:
        qb, bo = (o.timings[m].rate / o.timings[RAW].rate for m in (CORE_QB, CORE_BUY))
        print(
            f"ratio {o.database}: core/raw = {qb:.2f} (quote+buy), {bo:.2f} (buy only);"
            f" target >= {TARGET}"
        )
    return ok


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Checkout purchases/s: core vs raw SQL.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--purchases", type=int, default=320, help="per mode and database")
    parser.add_argument("--buyers", type=int, default=16, help="concurrent buyer tasks")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="database to wipe and use")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--raw-busy-wait",
        action="store_true",
        help="SQLite raw modes: contend in SQLite's busy handler (the core"
        " queues on its own lock) instead of queueing on an in-process lock",
    )
    parser.add_argument(
        "--allow-wipe",
        action="store_true",
        help="allow a --postgres database whose name lacks 'bench'",
    )
    args = parser.parse_args(argv)
    if args.purchases < args.buyers * args.rounds:
        parser.error("--purchases must be at least --buyers x --rounds")
    outcomes = [
        await bench_sqlite(args.purchases, args.buyers, args.rounds, not args.raw_busy_wait)
    ]
    if not args.skip_postgres:
        outcomes.append(
            await bench_postgres(
                args.postgres, args.purchases, args.buyers, args.rounds, args.allow_wipe
            )
        )
    return 0 if report(outcomes, args.purchases, args.buyers, args.rounds) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

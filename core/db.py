"""Engine and transactions. One transaction per use case; repositories never commit.

SQLite: WAL, ``synchronous=FULL`` (a sale is durable before its codes are shown), a busy
timeout, foreign keys on, and every write transaction opened with ``BEGIN IMMEDIATE`` so a
read-then-write use case can never fail on a stale snapshot. Reads use a deferred ``BEGIN``.

SQLite has one writer at a time. Within a process, write units of work queue on an asyncio
lock per ``Database`` (first come, first served) instead of polling in SQLite's busy
handler, whose growing sleeps (up to 100 ms a try) starve unlucky tasks for seconds; the
busy timeout still arbitrates between processes. Across processes on one file, writers
queue on a lock file in the kernel (``core/writer_lock.py``). Each statement makes one trip to
aiosqlite's worker thread instead of four (``core/library_internals.py``, like every other
use of a library's private parts).

A unit of work that fails because the storage is read-only, full or failing
(``core/storage_faults.py``) discards the pooled connections, so the next one opens fresh
connections and recovers with the disk, and raises ``StorageUnavailable``. On SQLite the
next unit of work first waits until no connection of the failed period is open: SQLite
shares one WAL index (``-shm``) per file among the connections of a process and keeps how
it was first opened (read-only) while any of them is open, so under steady load a new
connection would join the old read-only one and never recover.

Discarding is ``engine.dispose()``, which closes only the idle connections: one in use
goes back, later, to the old pool, where SQLAlchemy leaves it open until the garbage
collector happens to reach that pool. So each discard starts a new period, and a
connection of an earlier period is closed when it is checked in (``_track_periods``);
otherwise a read-only connection could outlive the fault by minutes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncpg.exceptions import IntegrityConstraintViolationError
from sqlalchemy import LargeBinary, event
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.expression import Executable

from core import library_internals
from core.errors import StorageUnavailable
from core.storage_faults import storage_fault
from core.writer_lock import WriterLock, lock_path

log = logging.getLogger("kameng.db")

_READ_ONLY = "kameng_read_only"
_OPENED_READ_ONLY = "kameng_opened_read_only"  # its SQLite file was not writable then
_PERIOD = "kameng_period"  # a pooled connection's info: the discard period it opened in
SQLITE_BUSY_TIMEOUT_MS = 30_000
DRAIN_SECONDS = 5.0  # after a storage fault, the longest wait for connections in use
# Page cache per connection (KiB): big enough that inserting into the codes' fingerprint
# index (random keys) rarely reads pages back from the OS; a pool that reuses the most
# recent connection first keeps one of them warm.
SQLITE_CACHE_KIB = 32_768
# How long a storage fault counts as current when no write has committed since (the API's
# Retry-After): readiness fails meanwhile, then lets traffic find out whether it is fixed.
STORAGE_FAULT_CURRENT_SECONDS = 30.0


@dataclass(frozen=True)
class StorageFault:
    reason: str  # storage_fault()'s words: read-only, disk full, ...
    seen_at: float  # time.monotonic()


def _install_sqlite_transactions(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# hot paths: prepared Core statements on the driver connection -------------------------------


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # per position: (parameter name, its bind processor) or (None, the fixed value, processed)
    slots: tuple[tuple[str | None, Any], ...]


def _processor(bind: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    impl = bind.type.dialect_impl(dialect)
    if isinstance(impl, LargeBinary):
        return None  # both drivers take bytes as they are
    processor: Callable[[Any], Any] | None = impl.bind_processor(dialect)
    return processor


class Prepared:
    """A Core statement compiled once per dialect, for ``Driver`` to run.

    The SQL is still written with SQLAlchemy (tables, columns, types, dialect rendering);
    only the per-execution machinery is skipped. Parameters are plain values or enum
    members; results come back as driver rows (tuples), without type processing, so hot
    statements return only integers, strings and bytes (compare datetimes in SQL)."""

    def __init__(
        self, statement: Executable, *, variants: Mapping[str, Executable] | None = None
    ) -> None:
        self.statement = statement
        self._variants = dict(variants or {})  # dialect name → its own form (e.g. an upsert)
        self._by_dialect: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        done = self._by_dialect.get(dialect.name)
        if done is None:
            statement: Any = self._variants.get(dialect.name, self.statement)
            compiled = statement.compile(dialect=dialect)
            slots: list[tuple[str | None, Any]] = []
            for name in compiled.positiontup or ():
                bind = compiled.binds[name]
                processor = _processor(bind, dialect)
                if bind.value is None and bind.callable is None:
                    slots.append((name, processor))
                else:
                    value = bind.effective_value
                    slots.append((None, value if processor is None else processor(value)))
            done = self._by_dialect[dialect.name] = _Compiled(compiled.string, tuple(slots))
        return done


def _arguments(compiled: _Compiled, params: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        how if name is None else (params[name] if how is None else _processed(how, params[name]))
        for name, how in compiled.slots
    )


def _processed(processor: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else processor(value)


def _with_shared(compiled: _Compiled, shared: Mapping[str, Any]) -> _Compiled:
    """The same statement with some parameters fixed (and processed) once."""
    slots: list[tuple[str | None, Any]] = []
    for name, how in compiled.slots:
        if name is not None and name in shared:
            value = shared[name]
            slots.append((None, value if how is None or value is None else how(value)))
        else:
            slots.append((name, how))
    return _Compiled(compiled.sql, tuple(slots))


class Driver:
    """The driver connection under a session's open write transaction.

    For hot paths only: each statement is one round trip (aiosqlite, asyncpg) without
    SQLAlchemy's per-execution work. Everything runs inside the session's transaction,
    so it commits or rolls back with the use case. A unique violation is raised as
    SQLAlchemy's ``IntegrityError``, like the ORM path does."""

    def __init__(self, dialect: Dialect, connection: Any) -> None:
        self._dialect = dialect
        self._connection = connection
        self._sqlite = dialect.name == "sqlite"

    @classmethod
    async def of(cls, session: AsyncSession) -> Driver:
        if session.new or session.dirty or session.deleted:
            await session.flush()  # keep statement order as written
        connection = await session.connection()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if connection.dialect.name == "sqlite":
            if not driver.in_transaction:  # BEGIN IMMEDIATE ran when the session began
                raise RuntimeError("no SQLite transaction is open on this session")
        else:
            begun = await library_internals.begin_postgres(raw.dbapi_connection)
            if not begun and not driver.is_in_transaction():
                # the public path: SQLAlchemy's asyncpg adapter begins with its first statement
                await connection.exec_driver_sql("SELECT 1")
            if not driver.is_in_transaction():
                raise RuntimeError("no PostgreSQL transaction is open on this session")
        return cls(connection.dialect, driver)

    async def rows(self, statement: Prepared, params: Mapping[str, Any]) -> list[Any]:
        compiled = statement.compiled(self._dialect)
        arguments = _arguments(compiled, params)
        try:
            if self._sqlite:
                return list(await self._connection.execute_fetchall(compiled.sql, arguments))
            return list(await self._connection.fetch(compiled.sql, *arguments))
        except Exception as error:
            raise _translated(error, compiled.sql) from error

    async def many(
        self,
        statement: Prepared,
        params: Sequence[Mapping[str, Any]],
        shared: Mapping[str, Any] | None = None,
    ) -> None:
        """One statement for each of ``params``; ``shared`` values are the same in all."""
        compiled = statement.compiled(self._dialect)
        if shared:
            compiled = _with_shared(compiled, shared)
        arguments = [_arguments(compiled, p) for p in params]
        try:
            await self._connection.executemany(compiled.sql, arguments)
        except Exception as error:
            raise _translated(error, compiled.sql) from error


def _database_is_locked() -> OperationalError:
    # what SQLite itself says after its busy timeout
    return OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked"))


def _translated(error: Exception, sql: str) -> Exception:
    if isinstance(error, (sqlite3.IntegrityError, IntegrityConstraintViolationError)):
        return IntegrityError(sql, None, error)
    return error


class Database:
    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        options: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite or ":memory:" not in url:
            options |= {"pool_size": pool_size, "max_overflow": pool_size, "pool_use_lifo": True}
        if self.is_sqlite:
            options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
            one_trip = library_internals.sqlite_dbapi() if "+aiosqlite" in url else None
            if one_trip is not None:
                options["module"] = one_trip
        self.engine = create_async_engine(url, **options)
        if self.is_sqlite:
            _install_sqlite_transactions(self.engine)
        self._writer = async_sessionmaker(self.engine, expire_on_commit=False)
        self._reader = async_sessionmaker(
            self.engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False
        )
        self._write_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._writers: set[asyncio.Task[Any]] = set()
        path = lock_path(url) if self.is_sqlite else None
        self._file_lock = WriterLock(path) if path is not None else None
        self._checked_out = 0  # connections in use, whatever pool they came from
        self._period = 0  # bumped by each discard of the pool (_discard_connections)
        self._drain_before_next = False  # a storage fault: close every connection first
        self._last_fault: StorageFault | None = None
        self._track_periods()

    def _track_periods(self) -> None:
        """Pool events (they follow the engine to each new pool): count the connections in
        use, and close one opened before the last discard, or opened while the SQLite file
        was not writable, when it comes back."""
        pool_events = self.engine.sync_engine

        file = make_url(self.url).database if self.is_sqlite else None
        file = file if file and file != ":memory:" and not file.startswith("file:") else None

        @event.listens_for(pool_events, "do_connect")
        def _opening(_dialect: Any, record: ConnectionPoolEntry, *_: Any) -> None:
            # stamped before the connection opens (not in "connect", after it): one whose
            # opening straddles a discard belongs to the old pool and must count as old
            record.info[_PERIOD] = self._period
            if file is not None and not os.access(file, os.W_OK):
                # it will be read-only for life, and only a write would fail on it: kept in
                # the pool it would still be there, answering reads, after the disk is back
                record.info[_OPENED_READ_ONLY] = True

        @event.listens_for(pool_events, "checkout")
        def _out(*_: Any) -> None:
            self._checked_out += 1

        @event.listens_for(pool_events, "checkin")
        def _in(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
            self._checked_out -= 1
            if dbapi_connection is None:
                return
            if record.info.get(_PERIOD) != self._period or record.info.get(_OPENED_READ_ONLY):
                # in use when the pool was discarded: its pool is an orphan that would keep
                # it open (and SQLite's -shm read-only with it) until garbage-collected
                record.invalidate()

    async def _discard_connections(self) -> None:
        """Close the idle connections now and those in use when they come back."""
        await self.engine.dispose()
        # only now: while dispose awaits the closing of idle connections the old pool is
        # still the engine's, and a connection another task opens from it meanwhile must
        # count as old (the swap to the new pool and this line run without a pause)
        self._period += 1

    async def _drain_connections(self) -> None:
        """After a storage fault on SQLite: wait until every connection in use is back
        (those of the failed period close as they come back), close the idle ones, then go
        on. Bounded: a connection held longer than ``DRAIN_SECONDS`` is not waited for."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DRAIN_SECONDS
        # the count moves in the pool's (sync) events; polling for a moment, only after a
        # fault, is simpler than an event bound to one loop
        while self._checked_out > 0 and loop.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        await self._discard_connections()  # several tasks may get here: that is harmless
        self._drain_before_next = False

    def storage_fault(self) -> StorageFault | None:
        """The last storage fault while it is current: no write transaction has committed
        since, and it is less than ``STORAGE_FAULT_CURRENT_SECONDS`` old (for readiness)."""
        fault = self._last_fault
        if fault is None or time.monotonic() - fault.seen_at > STORAGE_FAULT_CURRENT_SECONDS:
            return None
        return fault

    def _write_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            self._write_locks = {
                known: held for known, held in self._write_locks.items() if not known.is_closed()
            }
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write unit of work: commits when the block ends, rolls back on an exception.

        Never open one inside another on the same ``Database`` (on SQLite the inner one
        would wait for the outer one forever, as it would for SQLite's own write lock)."""
        if not self.is_sqlite:
            async with self._storage_guard(), self._writer() as session, session.begin():
                yield session
            self._last_fault = None  # committed: the storage takes writes again
            return
        task = asyncio.current_task()
        if task in self._writers:
            raise RuntimeError("a write transaction inside another one on the same Database")
        lock = self._write_lock()
        try:
            async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                await lock.acquire()
        except TimeoutError:
            raise _database_is_locked() from None
        if task is not None:
            self._writers.add(task)
        held = None
        try:
            if self._file_lock is not None:
                try:
                    async with asyncio.timeout(SQLITE_BUSY_TIMEOUT_MS / 1000):
                        held = await self._file_lock.acquire()
                except TimeoutError:
                    raise _database_is_locked() from None
            async with self._storage_guard(), self._writer() as session, session.begin():
                yield session
            self._last_fault = None  # committed: the storage takes writes again
        finally:
            WriterLock.release(held)
            self._writers.discard(task)
            lock.release()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        async with self._storage_guard(), self._reader() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _storage_guard(self) -> AsyncIterator[None]:
        """Turns a storage fault into ``StorageUnavailable`` after discarding the pool.

        Entered before the session, so the failed connection is back in the pool when the
        pool is disposed of: every idle connection is closed, those still in use are
        closed when returned, and the next unit of work connects afresh."""
        if self._drain_before_next:
            await self._drain_connections()
        try:
            yield
        except Exception as error:
            fault = None if isinstance(error, StorageUnavailable) else storage_fault(error)
            if fault is None:
                raise
            self._last_fault = StorageFault(fault, time.monotonic())
            await self._discard_connections()
            self._drain_before_next = self.is_sqlite
            # one line, no traceback: an operator's disk problem, not a bug
            log.warning("storage unavailable (%s): connections discarded", fault)
            raise StorageUnavailable(reason=fault) from error

    async def read_rows(self, statement: Prepared, params: Mapping[str, Any]) -> list[Any]:
        """One read statement on its own, outside any transaction: a single statement reads
        one snapshot anyway, and this saves the BEGIN and COMMIT round trips of
        ``reading()`` (for what every API request asks first: who its key belongs to)."""
        async with self._storage_guard(), self.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            return await Driver(connection.dialect, raw.driver_connection).rows(statement, params)

    async def dispose(self) -> None:
        await self._discard_connections()

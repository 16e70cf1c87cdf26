"""After a storage fault no connection of the failed period stays open.

A connection opened while the disk was read-only stays read-only; on SQLite it also keeps
the process's shared WAL index read-only for every connection opened after it. So the
pool is discarded on a fault, and a connection that was in use then must close when it
comes back, not wait in the discarded pool for the garbage collector
(``tests/web/test_storage_faults.py`` is the same through a real read-only file).
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.util import await_

from core.db import Database
from core.errors import StorageUnavailable


def read_only_disk() -> sqlite3.OperationalError:
    """What SQLite raises on a read-only file (SQLITE_READONLY), whichever database runs:
    the storage guard knows a fault by the error, not by the dialect."""
    error = sqlite3.OperationalError("attempt to write a readonly database")
    error.sqlite_errorcode = sqlite3.SQLITE_READONLY
    return error


def watch_open_connections(db: Database) -> set[Any]:
    """The DBAPI connections of ``db`` open from now on, kept up to date by pool events."""
    open_connections: set[Any] = set()
    pool_events = db.engine.sync_engine

    def opened(dbapi_connection: Any, _record: Any) -> None:
        open_connections.add(dbapi_connection)

    def closed(dbapi_connection: Any, *_: Any) -> None:
        open_connections.discard(dbapi_connection)

    event.listen(pool_events, "connect", opened)
    event.listen(pool_events, "close", closed)
    event.listen(pool_events, "close_detached", closed)
    return open_connections


async def storage_fault_in_a_write(db: Database) -> None:
    with pytest.raises(StorageUnavailable):
        async with db.transaction() as session:
            await session.execute(select(1))
            raise read_only_disk()


async def test_a_connection_in_use_during_a_fault_closes_when_it_comes_back(
    db: Database,
) -> None:
    await db.dispose()  # from here on every connection is seen opening and closing
    open_connections = watch_open_connections(db)

    reading, done_reading = asyncio.Event(), asyncio.Event()

    async def long_read() -> None:  # a request still reading when the write fails
        async with db.reading() as session:
            await session.execute(select(1))
            reading.set()
            await done_reading.wait()

    reader = asyncio.create_task(long_read())
    await reading.wait()
    await storage_fault_in_a_write(db)
    assert len(open_connections) == 1  # the reader's: still in use
    done_reading.set()
    await reader
    assert open_connections == set()  # closed as it came back, not kept in the old pool

    async with db.transaction() as session:  # and the next unit of work connects afresh
        assert await session.scalar(select(1)) == 1
    assert len(open_connections) == 1


async def test_a_connection_opening_during_a_fault_closes_when_it_comes_back(
    db: Database,
) -> None:
    """It began opening in the pool the fault discards and finished after: it is of the
    failed period, though it opened since."""
    await db.dispose()
    open_connections = watch_open_connections(db)
    opening, opened = asyncio.Event(), asyncio.Event()

    def slow_to_open(*_: Any) -> None:  # the first connection waits halfway
        if not opening.is_set():
            opening.set()
            await_(opened.wait())

    event.listen(db.engine.sync_engine, "do_connect", slow_to_open)

    async def read() -> None:
        async with db.reading() as session:
            await session.execute(select(1))

    reader = asyncio.create_task(read())
    await opening.wait()
    await storage_fault_in_a_write(db)  # on a connection of its own
    opened.set()
    await reader
    assert open_connections == set()  # closed as it came back, not kept in the old pool


async def test_a_connection_opened_while_the_pool_is_discarded_closes_when_it_comes_back(
    db: Database,
) -> None:
    """Discarding awaits the closing of the idle connections; another request meanwhile
    still takes its connection from the pool being discarded."""
    await db.dispose()
    open_connections = watch_open_connections(db)
    async with db.reading() as session:  # one idle connection, for the discard to close
        await session.execute(select(1))
    closing, closed = asyncio.Event(), asyncio.Event()

    def slow_to_close(*_: Any) -> None:
        if not closing.is_set():
            closing.set()
            await_(closed.wait())

    event.listen(db.engine.sync_engine, "close", slow_to_close)
    fault = asyncio.create_task(storage_fault_in_a_write(db))
    await closing.wait()
    async with db.reading() as session:
        await session.execute(select(1))  # from the pool being discarded
        closed.set()
        await fault
    assert open_connections == set()  # closed as it came back, not kept in the old pool

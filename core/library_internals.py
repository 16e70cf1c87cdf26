"""The private parts of the database libraries that the hot path uses: all of them, here
(aiogram's are in ``bot/library_internals.py``, as ``core`` may not import aiogram).

Each one is kept because a bench shows it pays (the numbers are beside it), and each is
used only when a check, once per process, finds it as it was written against (the
versions beside it; ``constraints.txt`` pins them). If a library changed it, the public
path runs instead, which is slower but does the same, and a WARNING names the internal
and what changed. ``tests/core/test_library_internals.py`` fails with the pinned versions
when a check fails or a fast path is not taken, so an upgrade that changes one shows up
in the tests, not as a slower shop.

``KAMENG_LIBRARY_INTERNALS_OFF`` (names separated by commas, or ``all``) switches them
off, for a bench to compare: ``KAMENG_LIBRARY_INTERNALS_OFF=all python bench/checkout.py``.
"""

from __future__ import annotations

import collections
import inspect
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

log = logging.getLogger("kameng.library_internals")

SWITCH_OFF_VARIABLE = "KAMENG_LIBRARY_INTERNALS_OFF"


@dataclass(frozen=True)
class Internal:
    name: str
    checked_against: tuple[str, ...]  # "<distribution> <version>", as in constraints.txt
    changes: Callable[[], str | None]  # what differs from what the fast path expects


_decided: dict[str, bool] = {}


def in_use(internal: Internal) -> bool:
    """Whether ``internal``'s fast path runs in this process; decided on the first call."""
    decided = _decided.get(internal.name)
    if decided is None:
        decided = _decided[internal.name] = _decide(internal)
    return decided


def _decide(internal: Internal) -> bool:
    switched_off = os.environ.get(SWITCH_OFF_VARIABLE, "")
    names = {name.strip() for name in switched_off.split(",")}
    if internal.name in names or "all" in names:
        log.info("library internal %s switched off by %s", internal.name, SWITCH_OFF_VARIABLE)
        return False
    changed = internal.changes()
    if changed is not None:
        log.warning(
            "library internal %s is not used, the slower public path runs instead: %s "
            "(written against %s)",
            internal.name,
            changed,
            ", ".join(internal.checked_against),
        )
        return False
    return True


def _member(owner: type, name: str) -> Any:
    return inspect.getattr_static(owner, name, None)


def _signature_differs(function: Any, expected: str) -> bool:
    return not inspect.iscoroutinefunction(function) or str(inspect.signature(function)) != expected


# SQLite: one trip to aiosqlite's worker thread per statement ---------------------------------
#
# SQLAlchemy's aiosqlite adapter opens a cursor, executes, fetches and closes it: four trips
# to aiosqlite's worker thread, each a queue hand-off and an event-loop wake-up. Handing
# the thread one function that does all four (aiosqlite's private ``Connection._execute``
# on its private ``_conn``, in a cursor that subclasses SQLAlchemy's adapter cursor) makes
# statements through SQLAlchemy almost twice as fast: bench/checkout.py "raw via
# SQLAlchemy" 0.76 x raw with it, 0.41 without (medians of 9 runs each, back to back). The
# sale itself mostly goes to aiosqlite through ``core.db.Driver`` and did not show it
# (core quote+buy 0.43 vs 0.45; 21 instead of 27 trips per quote and sale); every ORM use
# case (the bot's reads, catalogue, admin) does.

# AsyncAdapt_dbapi_cursor's members in SQLAlchemy 2.1.9: _OneTripCursor replaces every one
# that touches the adapter's own aiosqlite cursor; a member added or removed may need it too.
_ADAPTER_CURSOR_MEMBERS = frozenset(
    {
        "__enter__",
        "__exit__",
        "__init__",
        "__iter__",
        "__slots__",
        "_adapt_connection",
        "_aenter_cursor",
        "_async_soft_close",
        "_awaitable_cursor_close",
        "_connection",
        "_cursor",
        "_execute_async",
        "_executemany_async",
        "_make_new_cursor",
        "_rows",
        "_soft_closed_memoized",
        "arraysize",
        "close",
        "description",
        "execute",
        "executemany",
        "fetchall",
        "fetchmany",
        "fetchone",
        "lastrowid",
        "nextset",
        "rowcount",
        "server_side",
        "setinputsizes",
    }
)


def _sqlite_one_trip_changes() -> str | None:
    if _signature_differs(_member(aiosqlite.Connection, "_execute"), "(self, fn, *args, **kwargs)"):
        return "aiosqlite.Connection._execute is not a coroutine (self, fn, *args, **kwargs)"
    if not isinstance(_member(aiosqlite.Connection, "_conn"), property):
        return "aiosqlite.Connection._conn is not a property"
    members = {
        name
        for owner in AsyncAdapt_aiosqlite_cursor.__mro__[:-1]
        for name in vars(owner)
        if name not in ("__annotations__", "__doc__", "__module__")
    }
    if members != _ADAPTER_CURSOR_MEMBERS:
        return f"SQLAlchemy's adapter cursor differs in {sorted(members ^ _ADAPTER_CURSOR_MEMBERS)}"
    for name in ("_execute_mutex", "_handle_exception", "_cursor_cls", "_connection"):
        if _member(AsyncAdapt_aiosqlite_connection, name) is None:
            return f"SQLAlchemy's aiosqlite adapter has no {name}"
    return None


SQLITE_ONE_TRIP = Internal(
    "sqlite_one_trip", ("SQLAlchemy 2.1.9", "aiosqlite 0.22.1"), _sqlite_one_trip_changes
)


def _run_in_sqlite_thread(
    driver: Any, operation: str, parameters: Any, many: bool
) -> tuple[Any, list[Any], int, int | None]:
    """Runs in aiosqlite's worker thread: execute, fetch everything, close the cursor."""
    cursor = driver._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statements each take one trip to the worker thread.
    Server-side cursors keep the stock adapter."""

    __slots__ = ("_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: Any) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return 1

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        pass

    async def _async_soft_close(self) -> None:
        return None

    def close(self) -> None:
        self._rows.clear()

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None

    def nextset(self) -> None:
        raise NotImplementedError("one statement per execute")

    async def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            description, rows, rowcount, lastrowid = await self._connection._execute(
                _run_in_sqlite_thread, self._connection, operation, parameters, many
            )
        self._description, self._rowcount, self._lastrowid = description, rowcount, lastrowid
        self._rows = collections.deque(rows)

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            return await_(self._trip(operation, parameters, False))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    def executemany(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        try:
            return await_(self._trip(operation, seq_of_parameters, True))
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class _OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneTripCursor

    def rollback(self) -> None:
        """The pool rolls back every connection it takes back, also after a COMMIT, when
        sqlite3 would do nothing: skip that trip (a writer still holds the write queue)."""
        try:
            idle = not self._connection.in_transaction
        except ValueError:  # closed: let the adapter report it
            idle = False
        if not idle:
            super().rollback()


class _OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        stock = super().connect(*arg, **kw)
        return _OneTripConnection(self, stock._connection)


def sqlite_dbapi() -> AsyncAdapt_aiosqlite_dbapi | None:
    """The ``module`` for an aiosqlite engine: the one-trip adapter, or None for SQLAlchemy's
    own."""
    if not in_use(SQLITE_ONE_TRIP):
        return None
    return _OneTripDbapi(aiosqlite, sqlite3)


# PostgreSQL: BEGIN without an extra round trip -----------------------------------------------
#
# SQLAlchemy's asyncpg adapter begins its transaction with the first statement it runs.
# ``core.db.Driver`` sends the hot path's statements to asyncpg directly, so on the public
# path it must first run one statement through SQLAlchemy (``SELECT 1``): one more round
# trip for every quote and every sale. The adapter's private ``_start_transaction()``,
# under its ``_execute_mutex``, begins it exactly as the adapter would. Measured with 8
# tasks quoting on PostgreSQL, 3 x 800 quotes, back to back (c7f710a with it, 8670929
# without): 0.60-0.69 CPU ms and 1,207-1,347 quotes/s with it, 0.78-0.85 ms and
# 1,051-1,188 quotes/s without.


def _postgres_begin_changes() -> str | None:
    if _signature_differs(_member(AsyncAdapt_asyncpg_connection, "_start_transaction"), "(self)"):
        return "SQLAlchemy's asyncpg adapter has no coroutine _start_transaction(self)"
    slots = {
        name
        for owner in AsyncAdapt_asyncpg_connection.__mro__
        for name in getattr(owner, "__slots__", ())
    }
    for name in ("_transaction", "_execute_mutex"):
        if name not in slots:
            return f"SQLAlchemy's asyncpg adapter has no {name}"
    return None


POSTGRES_BEGIN = Internal("postgres_begin", ("SQLAlchemy 2.1.9",), _postgres_begin_changes)


async def begin_postgres(adapted: Any) -> bool:
    """Begin the adapter's transaction if it has none yet; False when the internal is not in
    use (the caller takes the public path)."""
    if not in_use(POSTGRES_BEGIN):
        return False
    if adapted._transaction is None:
        async with adapted._execute_mutex:
            await adapted._start_transaction()
    return True


ALL = (SQLITE_ONE_TRIP, POSTGRES_BEGIN)

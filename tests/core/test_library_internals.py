"""The database libraries' private parts the hot path uses (``core/library_internals.py``):
with the pinned versions each is found and its fast path taken; a library that changed
one leaves the platform working on the public path, with one WARNING that names it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import bindparam, event, select, text
from sqlalchemy import insert as insert_into

from core import library_internals
from core.db import Database, Driver, Prepared
from core.models import Category
from core.schema import upgrade

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: nothing decided yet, nothing switched off."""
    monkeypatch.setattr(library_internals, "_decided", {})
    monkeypatch.delenv(library_internals.SWITCH_OFF_VARIABLE, raising=False)


def _installed(checked: str) -> str:
    distribution, _, _checked_version = checked.partition(" ")
    return f"{distribution} {version(distribution)}"


@pytest.mark.parametrize("internal", library_internals.ALL, ids=lambda i: i.name)
def test_each_internal_is_found_as_written_in_the_pinned_versions(
    internal: library_internals.Internal,
) -> None:
    assert internal.changes() is None
    # an upgrade must look at the internal again, then write down the versions it checked
    assert [_installed(checked) for checked in internal.checked_against] == list(
        internal.checked_against
    )


class _Trips:
    """Counts trips to aiosqlite's worker thread (every aiosqlite call is one)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        stock = aiosqlite.Connection._execute

        async def counted(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await stock(connection, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Trips]:
    yield _Trips(monkeypatch)


async def _trips_of_one_select(db: Database, trips: _Trips) -> int:
    statement = select(Category.name).where(Category.id < 0)
    async with db.reading() as session:
        await session.scalars(statement)  # the connection and BEGIN
        before = trips.count
        assert list(await session.scalars(statement)) == []
        return trips.count - before


async def test_a_sqlite_statement_takes_one_trip_to_the_worker_thread(
    db: Database, trips: _Trips
) -> None:
    if not db.is_sqlite:
        pytest.skip("aiosqlite only")
    assert await _trips_of_one_select(db, trips) == 1  # the stock adapter takes 4


def _changed_aiosqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """An aiosqlite whose private ``_execute`` takes other parameters (still works)."""
    stock = aiosqlite.Connection._execute

    async def _execute(self: Any, function: Any, *args: Any, **kwargs: Any) -> Any:
        return await stock(self, function, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", _execute)


async def test_a_changed_aiosqlite_runs_on_the_public_path_and_warns_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    undecided: None,
) -> None:
    _changed_aiosqlite(monkeypatch)
    trips = _Trips(monkeypatch)
    url = f"sqlite+aiosqlite:///{tmp_path / 'changed.db'}"
    databases = [Database(url), Database(url)]  # as a process that opens two
    try:
        await upgrade(databases[0])
        for n, db in enumerate(databases):
            async with db.transaction() as session:
                session.add(Category(name=f"public path {n}"))
        async with databases[1].reading() as session:
            assert await session.scalar(text("SELECT count(*) FROM categories")) == 2
        assert await _trips_of_one_select(databases[0], trips) == 4
    finally:
        for db in databases:
            await db.dispose()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["kameng.library_internals"]
    assert "sqlite_one_trip" in warnings[0].getMessage()
    assert "aiosqlite.Connection._execute" in warnings[0].getMessage()


# PostgreSQL: no internal --------------------------------------------------------------------


class _Refused(Exception):
    pass


@pytest.mark.parametrize("internals", ["in use", "switched off"])
async def test_what_driver_writes_first_in_a_use_case_rolls_back_with_it(
    db: Database, internals: str, undecided: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLAlchemy's asyncpg adapter opens a transaction at its first statement; ``Driver``
    writes straight to asyncpg, so it opens it first: through the adapter's private
    ``_start_transaction`` or, on the public path, one statement through SQLAlchemy."""
    if internals == "switched off":
        monkeypatch.setenv(library_internals.SWITCH_OFF_VARIABLE, "all")
    insert = Prepared(insert_into(Category).values(name=bindparam("name")))
    with pytest.raises(_Refused):
        async with db.transaction() as session:
            driver = await Driver.of(session)
            await driver.many(insert, [{"name": "rolled back"}])
            raise _Refused
    async with db.reading() as session:
        assert list(await session.scalars(select(Category.name))) == []


async def test_on_postgresql_driver_begins_without_a_statement_of_its_own(
    db: Database, undecided: None
) -> None:
    """The fast path: no ``SELECT 1`` round trip before the use case's first statement."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's BEGIN")
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.transaction() as session:
            driver = await Driver.of(session)
            assert driver is not None
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert library_internals.in_use(library_internals.POSTGRES_BEGIN)
    assert sent == []

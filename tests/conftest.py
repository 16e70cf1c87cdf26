"""Shared fixtures: a real, freshly migrated database per test.

SQLite file by default; PostgreSQL when ``KAMENG_TEST_DATABASE_URL`` is set (that database
is dropped and created again for every test).

Migrating takes about 0.3 s, and some 330 tests need a migrated database, so the schema is
migrated once per run into a template (a SQLite file; a PostgreSQL database named after the
test database plus ``_template``) and each test that uses ``db`` starts from a copy of it:
the same tables, seeded rows and sequences a fresh migration makes. A test that asks only
for ``database_url`` (the CLI's ``db upgrade``, the migrations' stairway) gets an empty
database and migrates it for real.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core import schema
from core.db import Database
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_tron import FakeTronServer

TEST_SECRET = "test-secret-key-0123456789abcdef0123456789"
POSTGRES_URL = os.environ.get("KAMENG_TEST_DATABASE_URL", "")


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


async def recreate_postgres(url: str, template: str = "template1") -> None:
    """Drops the database of ``url``, closing what is still connected to it, and creates it
    again as a copy of the database ``template`` (``template1``: empty; nobody may be
    connected to the template while it is copied)."""
    await _on_postgres_server(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await _on_postgres_server(url, "CREATE DATABASE {name} TEMPLATE {template}", template)


async def drop_postgres(url: str) -> None:
    await _on_postgres_server(url, "DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _on_postgres_server(url: str, statement: str, template: str = "") -> None:
    """Runs ``statement`` about the database of ``url`` from the server's ``postgres``
    database (a database cannot be dropped or created from inside one)."""
    parsed = make_url(url)
    server = create_async_engine(
        parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    quote = server.dialect.identifier_preparer.quote
    try:
        async with server.connect() as connection:
            sql = statement.format(name=quote(str(parsed.database)), template=quote(template))
            await connection.execute(text(sql))
    finally:
        await server.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrated once per run: the path of a SQLite file, or a PostgreSQL database's name."""
    if POSTGRES_URL:
        test_database = make_url(POSTGRES_URL)
        template = test_database.set(database=f"{test_database.database}_template")
        template_url = template.render_as_string(hide_password=False)
        asyncio.run(recreate_postgres(template_url))
        asyncio.run(schema.upgrade_at(template_url))
        yield str(template.database)
        asyncio.run(drop_postgres(template_url))
        return
    path = tmp_path_factory.mktemp("template") / "kameng.db"
    asyncio.run(schema.upgrade_at(f"sqlite+aiosqlite:///{path}"))
    # every page in the main file and none left in a WAL, so that copying one file is enough
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield str(path)


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test's database, empty (``db`` fills it with a copy of the migrated template)."""
    if POSTGRES_URL:
        if "db" not in request.fixturenames:  # else ``db`` creates it again anyway
            await recreate_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'kameng.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=TEST_SECRET, _env_file=None)


@pytest.fixture
def quick_scheduler_settings(database_url: str) -> Settings:
    """The defaults, with the bot's scheduler ticking every 50 ms so that jobs follow the
    fake clock quickly; a module that needs it takes it as its ``settings``."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        scheduler_interval_seconds=0.05,
        _env_file=None,
    )


@pytest.fixture
async def node() -> AsyncIterator[FakeTronServer]:
    """A fake TRON node on a real port (``sandbox/fake_tron``), for the USDT tests; a module
    points USDT at it with ``tests.tron_helpers.usdt_settings``."""
    async with FakeTronServer() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(settings: Settings, migrated_template: str) -> AsyncIterator[Database]:
    """A migrated database: a copy of the template, as if ``schema.upgrade`` had just run."""
    if POSTGRES_URL:
        await recreate_postgres(settings.database_url, migrated_template)
    else:
        path = make_url(settings.database_url).database
        assert path is not None
        shutil.copyfile(migrated_template, path)
    database = Database(settings.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def platform(settings: Settings, clock: FakeClock, db: Database) -> AsyncIterator[Platform]:
    yield build_platform(settings, clock=clock, db=db)

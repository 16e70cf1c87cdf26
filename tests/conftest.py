"""Shared fixtures: a real, freshly migrated database per test.

SQLite file by default; PostgreSQL when ``KAMENG_TEST_DATABASE_URL`` is set (its ``public``
schema is dropped and recreated for every test).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from core import schema
from core.db import Database
from core.platform import Platform, build_platform
from core.settings import Settings

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


async def reset_postgres(url: str) -> None:
    database = Database(url)
    async with database.engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await database.dispose()


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    if POSTGRES_URL:
        await reset_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return f"sqlite+aiosqlite:///{tmp_path / 'kameng.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=TEST_SECRET, _env_file=None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_url)
    await schema.upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
async def platform(settings: Settings, clock: FakeClock, db: Database) -> AsyncIterator[Platform]:
    yield build_platform(settings, clock=clock, db=db)

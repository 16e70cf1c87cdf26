"""Schema migrations (Alembic) run on a ``Database``'s own engine and transaction hooks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.script.revision import ResolutionError
from alembic.util import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from core.db import Database
from core.errors import InvalidInput, NoSuchRevision

VERSION_TABLE = "alembic_version"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(""))


def head_revision() -> str | None:
    """The revision the code expects: the newest migration in ``migrations/versions``."""
    return _scripts().get_current_head()


def is_known_revision(revision: str) -> bool:
    """False for a revision this code has no migration for: a newer code's (the database
    was upgraded ahead of this instance, as a rolling upgrade does)."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: never migrated). Read from Alembic's table
    directly: its ``MigrationContext`` logs two INFO lines each time, and readiness asks
    every few seconds."""

    def read(connection: Connection) -> str | None:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        revision = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return revision.scalar()

    async with db.reading() as session:
        connection = await session.connection()
        return await connection.run_sync(read)


async def upgrade(db: Database, revision: str = "head") -> None:
    await _run(db, revision, lambda cfg: command.upgrade(cfg, revision))


async def upgrade_at(url: str) -> None:
    """Migrates the database at ``url`` to the head on a connection of its own (a fresh
    sandbox, a test template), then lets the connection go."""
    database = Database(url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


async def downgrade(db: Database, revision: str) -> None:
    await _run(db, revision, lambda cfg: command.downgrade(cfg, revision))


async def _run(db: Database, revision: str, action: Callable[[Config], None]) -> None:
    config = alembic_config(db.url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        action(config)

    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(run)
    except CommandError as exc:
        # Alembic wraps "no such revision" (and a target it cannot reach from here) in a
        # CommandError whose cause says which; the schema is untouched (rolled back).
        if isinstance(exc.__cause__, ResolutionError):
            raise NoSuchRevision(revision=revision) from None
        raise InvalidInput(field="revision", value=revision, reason=str(exc)) from None

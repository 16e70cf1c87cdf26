"""Every migration walks up, down and up again on the real database."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from core import schema
from core.db import Database
from core.settings import Settings


async def _tables(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_stairway_up_down_up(settings: Settings) -> None:
    database = Database(settings.database_url)
    script = ScriptDirectory.from_config(schema.alembic_config(settings.database_url))
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    try:
        for revision in revisions:
            await schema.upgrade(database, revision)
            previous = script.get_revision(revision).down_revision or "base"
            await schema.downgrade(database, str(previous))
            await schema.upgrade(database, revision)
        assert {"orders", "codes", "ledger_entries", "audit_log"} <= await _tables(database)
        await schema.downgrade(database, "base")
        assert await _tables(database) <= {"alembic_version"}
    finally:
        await database.dispose()

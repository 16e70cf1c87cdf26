"""Backups and restores of the platform's database.

SQLite: ``backup_sqlite`` copies the live file with SQLite's online backup API in one step,
inside one read transaction, so the copy is one consistent snapshot (every transaction
committed before the step began, none after) while the bot and the API keep writing (in
WAL mode readers never block writers). ``restore_sqlite`` fills an empty database from a
backup: the copy is written beside the target and renamed over it, so the target is either
untouched or the whole backup.

PostgreSQL: the work is ``pg_dump`` / ``pg_restore``'s (custom format); this module gives
the command line for the configured URL, never with its password.

A database that has tables is never restored onto: ``DatabaseNotEmpty``, nothing touched.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, make_url, text

from core.db import Database
from core.schema import head_revision, is_known_revision


class BackupRefused(Exception):
    """A backup or restore that cannot be done as asked; nothing was written."""


class DatabaseNotEmpty(BackupRefused):
    def __init__(self, where: str, tables: int) -> None:
        super().__init__(
            f"{where} has {tables} table(s): a restore goes onto an empty database only; "
            "nothing touched"
        )
        self.tables = tables


@dataclass(frozen=True)
class SqliteCopy:
    """A finished copy: where, its size, the schema revision it holds."""

    path: Path
    size: int
    revision: str | None


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def sqlite_file(url: str) -> Path:
    """The file of a SQLite URL; an in-memory database has none to copy."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupRefused(f"backups support SQLite and PostgreSQL, not {parsed.drivername}")
    if not parsed.database or parsed.database == ":memory:":
        raise BackupRefused("an in-memory SQLite database has no file to back up or restore")
    return Path(parsed.database)


# SQLite ------------------------------------------------------------------------------


def backup_sqlite(source: Path, destination: Path) -> SqliteCopy:
    """Copy the live database ``source`` to ``destination`` (which must not exist)."""
    if destination.exists():
        raise BackupRefused(f"{destination} exists: a backup never overwrites a file")
    if not source.is_file():
        raise BackupRefused(f"no database at {source}")
    partial = _beside(destination, "partial")
    try:
        with (
            closing(sqlite3.connect(_read_only(source), uri=True, timeout=30)) as live,
            closing(sqlite3.connect(partial)) as copy,
        ):
            _require_database(live, source)
            live.backup(copy)  # pages=-1: the whole database in one step, one snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
            revision = _checked(copy, destination)
        _durable_rename(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return SqliteCopy(destination, destination.stat().st_size, revision)


def restore_sqlite(backup: Path, target: Path) -> SqliteCopy:
    """Put the database in ``backup`` at ``target``, which must be empty or absent."""
    tables = sqlite_tables(target)
    if tables:
        raise DatabaseNotEmpty(str(target), tables)
    partial = _beside(target, "restoring")
    try:
        with (
            closing(sqlite3.connect(_read_only(backup), uri=True)) as saved,
            closing(sqlite3.connect(partial)) as copy,
        ):
            _require_database(saved, backup)
            saved.backup(copy)
            revision = _checked(copy, backup)
            if revision is None:
                raise BackupRefused(f"{backup} is a SQLite database but not a Kameng one")
            if not is_known_revision(revision):
                raise BackupRefused(
                    f"{backup} is of a newer release (schema {revision}, this one knows up to "
                    f"{head_revision()}): restore it with that release's kameng"
                )
        # an empty target's leftover WAL must not be replayed onto the restored file
        for leftover in ("-wal", "-shm"):
            Path(f"{target}{leftover}").unlink(missing_ok=True)
        _durable_rename(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return SqliteCopy(target, target.stat().st_size, revision)


def sqlite_tables(path: Path) -> int:
    """How many tables the SQLite file has: 0 when it is absent or an empty file."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    with closing(sqlite3.connect(_read_only(path), uri=True)) as connection:
        _require_database(connection, path)
        (count,) = connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchone()
    return int(count)


def _read_only(path: Path) -> str:
    """A read-only URI: nothing is created or changed at ``path`` by opening it."""
    return f"{path.resolve().as_uri()}?mode=ro"


def _require_database(connection: sqlite3.Connection, path: Path) -> None:
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(f"{path} is not a SQLite database ({exc})") from None


def _checked(copy: sqlite3.Connection, name: Path) -> str | None:
    """The copy's integrity (``quick_check``) and its schema revision, if it has one."""
    (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
    if verdict != "ok":
        raise BackupRefused(f"the copy of {name} fails SQLite's integrity check: {verdict}")
    has_version = copy.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).fetchone()
    if not has_version:
        return None
    row = copy.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def _beside(path: Path, purpose: str) -> Path:
    """A temporary name in the same directory, so that the final rename is atomic."""
    if not path.parent.is_dir():
        raise BackupRefused(f"no directory {path.parent} to write {path.name} in")
    return path.with_name(f".{path.name}.{purpose}-{os.getpid()}")


def _durable_rename(partial: Path, final: Path) -> None:
    with open(partial, "rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a power cut
    finally:
        os.close(directory)


# PostgreSQL -----------------------------------------------------------------------------


def pg_dump_command(url: str, path: Path) -> list[str]:
    """The ``pg_dump`` line (custom format) that backs up the database of ``url``."""
    return ["pg_dump", "--format=custom", *_pg_connection(make_url(url)), f"--file={path}"]


def pg_restore_command(url: str, path: Path) -> list[str]:
    """The ``pg_restore`` line that loads ``path`` into the (empty) database of ``url``:
    all or nothing, owned by the restoring user."""
    return [
        "pg_restore",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        *_pg_connection(make_url(url)),
        str(path),
    ]


def _pg_connection(url: URL) -> list[str]:
    """Host, port, user and database of the URL, as given; never the password."""
    options = []
    if url.host:
        options.append(f"--host={url.host}")
    if url.port:
        options.append(f"--port={url.port}")
    if url.username:
        options.append(f"--username={url.username}")
    if url.database:
        options.append(f"--dbname={url.database}")
    return options


def has_password(url: str) -> bool:
    return make_url(url).password is not None


async def postgres_tables(db: Database) -> int:
    """How many tables the PostgreSQL database has outside the system schemas."""
    async with db.reading() as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            )
        )
    return int(count or 0)

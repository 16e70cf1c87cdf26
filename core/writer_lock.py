"""Writers in several processes on one SQLite file queue in the kernel.

SQLite has one writer at a time. In one process, write transactions queue on an asyncio
lock (``core/db.py``); across processes (the bot and the API on one file, or two API
servers) they used to meet in SQLite's busy handler, which sleeps and retries with growing
sleeps (up to 100 ms a try): the unlucky waited seconds. An exclusive ``flock`` on a lock
file beside the database, taken around each write transaction, makes a waiting writer
sleep in the kernel and wake as soon as the holder lets go.

Uncontended it is one ``open`` and one non-blocking ``flock``; only a writer that must
wait does so in a worker thread, so the event loop keeps serving. Where the lock file
cannot be opened (a read-only directory) the transaction goes ahead without it and SQLite's
busy handler arbitrates as before.
"""

from __future__ import annotations

import asyncio
import fcntl
import os

from sqlalchemy.engine import make_url

SWITCH_OFF_VARIABLE = "KAMENG_SQLITE_WRITER_LOCK"  # "off": the busy handler only (benches)
SUFFIX = "-writer.lock"


def lock_path(url: str) -> str | None:
    """The lock file of a SQLite database URL (``<file>-writer.lock``); None for an
    in-memory database, a non-SQLite URL, or when switched off."""
    if os.environ.get(SWITCH_OFF_VARIABLE, "").strip().lower() == "off":
        return None
    parsed = make_url(url)
    database = parsed.database or ""
    if not parsed.drivername.startswith("sqlite") or database in ("", ":memory:"):
        return None
    if database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None
    return database + SUFFIX


class WriterLock:
    """The cross-process writer queue of one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def acquire(self) -> int | None:
        """Wait for the lock; the held file descriptor to pass to ``release``, or None when
        the lock file cannot be opened. Cancelled (a timeout around it), the waiting
        thread lets go of the lock as soon as it gets it."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            pass  # another process writes: wait for it below
        except OSError:
            os.close(fd)
            return None
        waiting = asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
        try:
            await asyncio.shield(waiting)
        except BaseException:
            waiting.add_done_callback(lambda _done: os.close(fd))
            raise
        return fd

    @staticmethod
    def release(fd: int | None) -> None:
        if fd is not None:
            os.close(fd)  # closing the descriptor releases its flock

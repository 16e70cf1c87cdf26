"""Which database errors mean "the storage is read-only, full or failing".

Such an error is not a bug and not the caller's fault: the request may succeed again once
the operator fixes the disk. What makes that possible without a restart is throwing away
the pooled connections: a SQLite connection opened while its file was read-only stays
read-only for its whole life, even after write permission comes back (``core/db.py``
discards the pool when a unit of work fails with one of these).
"""

from __future__ import annotations

import sqlite3

# SQLite's primary result codes (the low byte of an extended code such as
# SQLITE_READONLY_DIRECTORY) that a failing or read-only disk produces
_SQLITE = {8: "read-only", 10: "I/O error", 13: "disk full", 14: "cannot open"}
# PostgreSQL's SQLSTATEs for the same (a read-only transaction: e.g. a standby, or
# default_transaction_read_only after a failover)
_POSTGRES = {"25006": "read-only", "53100": "disk full", "58030": "I/O error"}


def storage_fault(error: BaseException) -> str | None:
    """``read-only``, ``I/O error``, ``disk full`` or ``cannot open`` when ``error`` (or the
    driver error under it) is a storage fault; None otherwise."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            return _SQLITE.get(code & 0xFF) if isinstance(code, int) else None
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str):
            return _POSTGRES.get(sqlstate)
        # SQLAlchemy's DBAPIError keeps the driver's error in .orig
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return None

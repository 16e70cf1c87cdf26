"""Append-only, hash-chained audit trail.

Each record's hash covers its own fields and the previous record's hash, so editing or
deleting any record breaks every hash after it. Appends are serialised by the row lock on
``audit_head`` (taken by the UPDATE), which also makes the sequence gap-free.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import as_utc
from core.db import Database, Driver, Prepared
from core.models import AuditHead, AuditRecord

GENESIS_HASH = "0" * 64
_VERIFY_CHUNK = 5_000


def record_hash(
    record_id: int,
    created_at: datetime,
    action: str,
    actor: str,
    subject: str,
    payload: str,
    prev_hash: str,
) -> str:
    fields = [record_id, as_utc(created_at).isoformat(), action, actor, subject, payload, prev_hash]
    canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_ADVANCE = Prepared(
    update(AuditHead)
    .where(AuditHead.id == 1)
    .values(last_id=AuditHead.last_id + 1)
    .returning(AuditHead.last_id, AuditHead.last_hash)
)
_RECORD = Prepared(
    insert(AuditRecord).values(
        id=bindparam("id"),
        created_at=bindparam("now"),
        action=bindparam("action"),
        actor=bindparam("actor"),
        subject=bindparam("subject"),
        payload=bindparam("payload"),
        prev_hash=bindparam("prev_hash"),
        hash=bindparam("hash"),
    )
)
_SEAL = Prepared(update(AuditHead).where(AuditHead.id == 1).values(last_hash=bindparam("hash")))


async def append(
    session: AsyncSession,
    *,
    action: str,
    actor: str,
    subject: str,
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Add one record inside the caller's transaction. ``payload`` must hold no code text."""
    return await append_on(
        await Driver.of(session),
        action=action,
        actor=actor,
        subject=subject,
        payload=payload,
        now=now,
    )


async def append_on(
    driver: Driver,
    *,
    action: str,
    actor: str,
    subject: str,
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """``append`` on a driver connection already in the caller's transaction."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    [(record_id, prev_hash)] = await driver.rows(_ADVANCE, {})
    digest = record_hash(record_id, now, action, actor, subject, body, prev_hash)
    await driver.rows(
        _RECORD,
        {
            "id": record_id,
            "now": now,
            "action": action,
            "actor": actor,
            "subject": subject,
            "payload": body,
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    await driver.rows(_SEAL, {"hash": digest})
    return int(record_id)


@dataclass(frozen=True)
class AuditVerdict:
    ok: bool
    records: int
    broken_id: int | None = None
    reason: str = ""


async def verify(db: Database) -> AuditVerdict:
    """Walk the chain in order; name the first record whose link or hash does not hold."""
    expected_prev, expected_id, count = GENESIS_HASH, 1, 0
    async with db.reading() as session:
        last_id = 0
        while True:
            rows = (
                await session.execute(
                    select(AuditRecord)
                    .where(AuditRecord.id > last_id)
                    .order_by(AuditRecord.id)
                    .limit(_VERIFY_CHUNK)
                )
            ).scalars()
            chunk = list(rows)
            if not chunk:
                break
            for record in chunk:
                if record.id != expected_id:
                    return AuditVerdict(False, count, expected_id, "record missing")
                if record.prev_hash != expected_prev:
                    return AuditVerdict(False, count, record.id, "link to previous record broken")
                digest = record_hash(
                    record.id,
                    record.created_at,
                    record.action,
                    record.actor,
                    record.subject,
                    record.payload,
                    record.prev_hash,
                )
                if digest != record.hash:
                    return AuditVerdict(False, count, record.id, "record content altered")
                expected_prev, expected_id, count = record.hash, record.id + 1, count + 1
                last_id = record.id
            session.expunge_all()
        head = (await session.execute(select(AuditHead))).scalar_one()
    if head.last_id != count or head.last_hash != expected_prev:
        return AuditVerdict(False, count, count + 1, "records removed from the end")
    return AuditVerdict(True, count)

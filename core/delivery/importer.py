"""Stock import: codes from a stream of lines, in batches, so any file runs in bounded memory.

Every code is encrypted (AES-GCM) and fingerprinted (keyed HMAC of its normalised form).
A fingerprint already on the platform is a duplicate — counted as "in file" when this same
import stored it, "on platform" otherwise — so memory never grows with the file.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from core import audit
from core.catalogue import load_sku
from core.clock import Clock
from core.crypto import CodeCipher
from core.db import Database
from core.models import Code, CodeImport, CodeStatus

MAX_CODE_LENGTH = 1_000
DEFAULT_BATCH = 5_000


@dataclass(frozen=True)
class ImportReport:
    import_id: int
    sku_code: str
    added: int = 0
    duplicate_in_file: int = 0
    duplicate_on_platform: int = 0
    invalid: int = 0
    lines_read: int = 0

    @property
    def rejected(self) -> int:
        return self.duplicate_in_file + self.duplicate_on_platform + self.invalid


@dataclass(frozen=True)
class RejectedLine:
    line_no: int
    reason: str  # "duplicate_in_file" | "duplicate_on_platform" | "too_long" | "control_chars"
    text: str

    def __repr__(self) -> str:  # the text is a code: keep it out of logs
        return f"RejectedLine(line_no={self.line_no}, reason={self.reason!r})"


def invalid_reason(code: str) -> str | None:
    if len(code) > MAX_CODE_LENGTH:
        return "too_long"
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in code if ch != "\t"):
        return "control_chars"
    return None


async def _numbered(lines: Iterable[str] | AsyncIterable[str]) -> AsyncIterator[tuple[int, str]]:
    number = 0
    if isinstance(lines, AsyncIterable):
        async for line in lines:
            number += 1
            yield number, line
    else:
        for line in lines:
            number += 1
            yield number, line


class StockImporter:
    def __init__(self, db: Database, cipher: CodeCipher, clock: Clock) -> None:
        self._db = db
        self._cipher = cipher
        self._clock = clock

    async def import_codes(
        self,
        sku_code: str,
        lines: Iterable[str] | AsyncIterable[str],
        *,
        actor: str,
        batch_size: int = DEFAULT_BATCH,
        on_progress: Callable[[ImportReport], None] | None = None,
        on_rejected: Callable[[RejectedLine], None] | None = None,
    ) -> ImportReport:
        now = self._clock.now()
        async with self._db.transaction() as session:
            sku = await load_sku(session, sku_code)
            record = CodeImport(sku_id=sku.id, actor=actor, created_at=now)
            session.add(record)
            await session.flush()
            report = ImportReport(import_id=record.id, sku_code=sku.code)
            sku_id = sku.id

        batch: list[tuple[int, str]] = []
        async for number, raw in _numbered(lines):
            report = replace(report, lines_read=number)
            code = raw.strip()
            if not code:
                continue
            reason = invalid_reason(code)
            if reason is not None:
                report = replace(report, invalid=report.invalid + 1)
                if on_rejected:
                    on_rejected(RejectedLine(number, reason, code))
                continue
            batch.append((number, code))
            if len(batch) >= batch_size:
                report = await self._store_batch(sku_id, report, batch, now, on_rejected)
                batch = []
                if on_progress:
                    on_progress(report)
        if batch:
            report = await self._store_batch(sku_id, report, batch, now, on_rejected)
        return await self._finish(report, actor)

    async def _store_batch(
        self,
        sku_id: int,
        report: ImportReport,
        batch: list[tuple[int, str]],
        now: datetime,
        on_rejected: Callable[[RejectedLine], None] | None,
    ) -> ImportReport:
        fingerprint = self._cipher.fingerprint
        first_seen: dict[bytes, tuple[int, str]] = {}
        in_file = 0
        rejected: list[RejectedLine] = []
        for number, code in batch:
            digest = fingerprint(code)
            if digest in first_seen:
                in_file += 1
                rejected.append(RejectedLine(number, "duplicate_in_file", code))
            else:
                first_seen[digest] = (number, code)
        for attempt in (1, 2):
            try:
                added, in_file_db, on_platform, more = await self._insert_new(
                    sku_id, report.import_id, first_seen, now
                )
                break
            except IntegrityError:
                # Another import stored one of these codes between our check and insert.
                if attempt == 2:
                    raise
        for line in rejected + more:
            if on_rejected:
                on_rejected(line)
        return replace(
            report,
            added=report.added + added,
            duplicate_in_file=report.duplicate_in_file + in_file + in_file_db,
            duplicate_on_platform=report.duplicate_on_platform + on_platform,
        )

    async def _insert_new(
        self, sku_id: int, import_id: int, fresh: dict[bytes, tuple[int, str]], now: datetime
    ) -> tuple[int, int, int, list[RejectedLine]]:
        encrypt = self._cipher.encrypt
        rejected: list[RejectedLine] = []
        in_file = on_platform = 0
        async with self._db.transaction() as session:
            existing = await session.execute(
                select(Code.fingerprint, Code.import_id).where(Code.fingerprint.in_(list(fresh)))
            )
            to_add = dict(fresh)
            for digest, owner_import in existing:
                number, code = to_add.pop(digest)
                if owner_import == import_id:
                    in_file += 1
                    rejected.append(RejectedLine(number, "duplicate_in_file", code))
                else:
                    on_platform += 1
                    rejected.append(RejectedLine(number, "duplicate_on_platform", code))
            if to_add:
                await session.execute(
                    insert(Code),
                    [
                        {
                            "sku_id": sku_id,
                            "import_id": import_id,
                            "ciphertext": encrypt(code),
                            "fingerprint": digest,
                            "status": CodeStatus.AVAILABLE,
                            "created_at": now,
                        }
                        for digest, (_, code) in to_add.items()
                    ],
                )
        return len(to_add), in_file, on_platform, rejected

    async def _finish(self, report: ImportReport, actor: str) -> ImportReport:
        now = self._clock.now()
        async with self._db.transaction() as session:
            await session.execute(
                update(CodeImport)
                .where(CodeImport.id == report.import_id)
                .values(
                    added=report.added,
                    duplicate_in_file=report.duplicate_in_file,
                    duplicate_on_platform=report.duplicate_on_platform,
                    invalid=report.invalid,
                    finished_at=now,
                )
            )
            await audit.append(
                session,
                action="codes.import",
                actor=actor,
                subject=f"sku:{report.sku_code}",
                payload={
                    "import_id": report.import_id,
                    "added": report.added,
                    "duplicate_in_file": report.duplicate_in_file,
                    "duplicate_on_platform": report.duplicate_on_platform,
                    "invalid": report.invalid,
                },
                now=now,
            )
        return report

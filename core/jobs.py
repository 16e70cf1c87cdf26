"""Persisted jobs and the runner that fires each of them once.

A job is a row (kind, JSON payload, ``run_at``). Any number of processes may run a
``JobRunner`` against the same database: a runner *claims* a due job under a lease
(``core.leases.claim``: pending or running, and the lease free → running, leased to it),
so exactly one claim succeeds on SQLite and PostgreSQL alike. A job due longer ago than the
grace time is marked missed instead of run. A handler that fails is retried with a backoff
up to ``max_attempts``; a handler that works through a list checkpoints a cursor (which
also renews its lease) so a retry resumes where it stopped.

Time comes from the injected ``Clock``; a scheduler (APScheduler in the bot) only decides
*when* to call ``tick``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from core import leases
from core.clock import Clock, as_utc
from core.db import Database
from core.models import JobStatus, ScheduledJob

log = logging.getLogger("kameng.jobs")

DEFAULT_MAX_ATTEMPTS = 5
RETRY_BACKOFF = timedelta(seconds=30)


@dataclass(frozen=True)
class NewJob:
    key: str  # unique: scheduling the same key twice keeps the first
    kind: str
    run_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = DEFAULT_MAX_ATTEMPTS


@dataclass(frozen=True)
class JobView:
    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    run_at: datetime
    status: JobStatus
    attempts: int
    cursor: int | None
    last_error: str | None


def _view(job: ScheduledJob) -> JobView:
    return JobView(
        id=job.id,
        key=job.key,
        kind=job.kind,
        payload=json.loads(job.payload),
        run_at=as_utc(job.run_at),
        status=job.status,
        attempts=job.attempts,
        cursor=job.cursor,
        last_error=job.last_error,
    )


def add_jobs(session: AsyncSession, jobs: list[NewJob], now: datetime) -> None:
    """Adds jobs inside the caller's transaction (a duplicate key fails the transaction)."""
    for job in jobs:
        session.add(
            ScheduledJob(
                key=job.key,
                kind=job.kind,
                payload=json.dumps(job.payload, sort_keys=True),
                run_at=as_utc(job.run_at),
                status=JobStatus.PENDING,
                attempts=0,
                max_attempts=job.max_attempts,
                created_at=now,
            )
        )


_LIVE = (JobStatus.PENDING, JobStatus.RUNNING)  # may still run (the others are final)
_RUNNING = [ScheduledJob.status == JobStatus.RUNNING]


def _claimable(now: datetime) -> ColumnElement[bool]:
    """Pending and past any retry backoff, or running under a lease that has expired: a
    pending job's ``lease_until`` is its earliest retry, a running one's its lease."""
    return ScheduledJob.status.in_(_LIVE) & leases.is_free(ScheduledJob, now)


class JobStore:
    """The jobs table: scheduling, claiming under a lease, and recording outcomes."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def schedule(self, jobs: list[NewJob]) -> list[JobView]:
        """Adds jobs in one transaction; a key already scheduled keeps its first job."""
        keys = [job.key for job in jobs]
        async with self._db.transaction() as session:
            taken = set(
                await session.scalars(select(ScheduledJob.key).where(ScheduledJob.key.in_(keys)))
            )
            add_jobs(session, [job for job in jobs if job.key not in taken], self._clock.now())
        async with self._db.reading() as session:
            rows = await session.scalars(select(ScheduledJob).where(ScheduledJob.key.in_(keys)))
            return sorted((_view(job) for job in rows), key=lambda v: keys.index(v.key))

    async def by_key(self, key: str) -> JobView | None:
        async with self._db.reading() as session:
            job = await session.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
            return None if job is None else _view(job)

    async def jobs(
        self, *, kind_prefix: str = "", status: JobStatus | None = None, limit: int = 100
    ) -> list[JobView]:
        query = select(ScheduledJob).where(ScheduledJob.kind.startswith(kind_prefix))
        if status is not None:
            query = query.where(ScheduledJob.status == status)
        async with self._db.reading() as session:
            rows = await session.scalars(
                query.order_by(ScheduledJob.run_at, ScheduledJob.id).limit(limit)
            )
            return [_view(job) for job in rows]

    async def mark_missed(self, now: datetime, grace: timedelta) -> list[int]:
        """Claimable jobs due before ``now - grace`` will not run: they are marked missed.

        Looks first in a read, so an idle tick never takes SQLite's write lock."""
        late = _claimable(now), ScheduledJob.run_at < now - grace
        async with self._db.reading() as session:
            if await session.scalar(select(ScheduledJob.id).where(*late).limit(1)) is None:
                return []
        async with self._db.transaction() as session:
            rows = await session.execute(
                update(ScheduledJob)
                .where(*late)
                .values(
                    status=JobStatus.MISSED,
                    lease_owner=None,
                    lease_until=None,
                    finished_at=now,
                    last_error="missed: later than the grace time",
                )
                .returning(ScheduledJob.id)
                .execution_options(synchronize_session=False)
            )
            return [row.id for row in rows]

    async def due(self, now: datetime, limit: int = 50) -> list[int]:
        async with self._db.reading() as session:
            return list(
                await session.scalars(
                    select(ScheduledJob.id)
                    .where(_claimable(now), ScheduledJob.run_at <= now)
                    .order_by(ScheduledJob.run_at, ScheduledJob.id)
                    .limit(limit)
                )
            )

    async def claim(
        self, job_id: int, owner: str, now: datetime, lease: timedelta, grace: timedelta
    ) -> JobView | None:
        """One conditional UPDATE: exactly one of any number of racing runners gets the job."""
        async with self._db.transaction() as session:
            claimed = await leases.claim(
                session,
                ScheduledJob,
                owner=owner,
                now=now,
                lease=lease,
                where=[
                    ScheduledJob.id == job_id,
                    ScheduledJob.status.in_(_LIVE),
                    ScheduledJob.run_at <= now,
                    ScheduledJob.run_at >= now - grace,
                ],
                values={"status": JobStatus.RUNNING, "attempts": ScheduledJob.attempts + 1},
            )
            if not claimed:
                return None
            job = await session.get(ScheduledJob, job_id, populate_existing=True)
            assert job is not None
            return _view(job)

    async def checkpoint(
        self, job_id: int, owner: str, cursor: int, now: datetime, lease: timedelta
    ) -> bool:
        """Records progress and renews the lease; False when the lease was lost."""
        async with self._db.transaction() as session:
            return await leases.renew(
                session,
                ScheduledJob,
                job_id,
                owner=owner,
                until=now + lease,
                where=_RUNNING,
                values={"cursor": cursor},
            )

    async def renew(self, job_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        """Hold a running job one lease longer; False when the lease was lost."""
        async with self._db.transaction() as session:
            return await leases.renew(
                session, ScheduledJob, job_id, owner=owner, until=now + lease, where=_RUNNING
            )

    async def give_back(self, job_id: int, owner: str) -> bool:
        """A clean stop mid-job: free at once (the attempt not counted); the next runner
        resumes from the checkpoint."""
        async with self._db.transaction() as session:
            return await leases.release(
                session,
                ScheduledJob,
                job_id,
                owner=owner,
                where=_RUNNING,
                values={"status": JobStatus.PENDING, "attempts": ScheduledJob.attempts - 1},
            )

    async def complete(self, job_id: int, owner: str, now: datetime) -> bool:
        async with self._db.transaction() as session:
            return await leases.release(
                session,
                ScheduledJob,
                job_id,
                owner=owner,
                where=_RUNNING,
                values={"status": JobStatus.DONE, "finished_at": now, "last_error": None},
            )

    async def fail(self, job_id: int, owner: str, now: datetime, error: str) -> bool:
        """Back to pending after a backoff, or failed for good after ``max_attempts``."""
        async with self._db.transaction() as session:
            job = await session.scalar(
                select(ScheduledJob)
                .where(ScheduledJob.id == job_id, leases.held_by(ScheduledJob, owner), *_RUNNING)
                .with_for_update()
            )
            if job is None:
                return False
            error = error[:2000]
            if job.attempts >= job.max_attempts:
                return await leases.release(
                    session,
                    ScheduledJob,
                    job_id,
                    owner=owner,
                    where=_RUNNING,
                    values={"status": JobStatus.FAILED, "finished_at": now, "last_error": error},
                )
            # held back until the retry: nobody may claim it before then
            return await leases.renew(
                session,
                ScheduledJob,
                job_id,
                owner=owner,
                until=now + RETRY_BACKOFF * job.attempts,
                where=_RUNNING,
                values={"status": JobStatus.PENDING, "last_error": error},
            )


@dataclass
class JobContext:
    """What a handler gets besides the job: its checkpoint, which also renews the lease."""

    job: JobView
    owner: str
    _store: JobStore
    _clock: Clock
    _lease: timedelta

    async def checkpoint(self, cursor: int) -> bool:
        return await self._store.checkpoint(
            self.job.id, self.owner, cursor, self._clock.now(), self._lease
        )


JobHandler = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class TickResult:
    ran: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)


def runner_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


class JobRunner:
    """Claims due jobs and runs their handlers, one at a time, in ``run_at`` order."""

    def __init__(
        self,
        store: JobStore,
        handlers: Mapping[str, JobHandler],
        clock: Clock,
        *,
        grace: timedelta,
        lease: timedelta,
        owner: str | None = None,
        batch: int = 50,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._clock = clock
        self._grace = grace
        self._lease = lease
        self._batch = batch
        self.owner = owner or runner_id()

    async def tick(self) -> TickResult:
        result = TickResult()
        now = self._clock.now()
        result.missed.extend(await self._store.mark_missed(now, self._grace))
        for job_id in result.missed:
            log.warning("job %s missed: due longer ago than the grace time", job_id)
        for job_id in await self._store.due(now, self._batch):
            job = await self._store.claim(job_id, self.owner, now, self._lease, self._grace)
            if job is None:
                continue  # another runner has it
            if await self._run(job):
                result.ran.append(job.id)
            else:
                result.failed.append(job.id)
        return result

    async def _run(self, job: JobView) -> bool:
        handler = self._handlers.get(job.kind)
        context = JobContext(job, self.owner, self._store, self._clock, self._lease)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")

            async def renew() -> bool:
                return await self._store.renew(job.id, self.owner, self._clock.now(), self._lease)

            async with leases.renewing(renew, self._lease):
                await handler(context)
        except asyncio.CancelledError:
            # a clean stop: the job is given back at once, not when its lease runs out
            await asyncio.shield(self._store.give_back(job.id, self.owner))
            raise
        except Exception as exc:
            log.exception("job %s (%s) failed on attempt %s", job.id, job.kind, job.attempts)
            await self._store.fail(job.id, self.owner, self._clock.now(), repr(exc))
            return False
        if not await self._store.complete(job.id, self.owner, self._clock.now()):
            log.warning("job %s finished after its lease was lost", job.id)
        return True

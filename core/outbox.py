"""The outbox: notifications promised inside a committed transaction, delivered by a worker.

A purchase (or any use case) adds an ``OutboxMessage`` in its own transaction, so a paid
order can never lose its notification and sending can never slow or fail the purchase.
A worker then:

1. **claims** due rows under a lease (``core.leases.claim``: rows with ``outcome IS NULL
   AND available_at <= now`` whose lease is free), so two processes never hold the same
   row at once;
2. delivers each one, then marks it **sent**, schedules a **retry** with exponential
   backoff (``attempts``, ``available_at``, ``last_error``), or **gives up** when the
   recipient can never be reached (blocked the bot).

A row whose lease ran out (its worker died mid-send) is claimed again: delivery is at least
once, and exactly once whenever the worker lives to mark the row. Every update after the
claim checks ``lease_owner``, so a worker that lost its lease cannot overwrite a newer result.
Nothing here knows about Telegram: the sender in the front decides what an error means.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import leases
from core.clock import Clock, as_utc
from core.db import Database
from core.models import OutboxMessage, User

LEASE = timedelta(seconds=30)  # the default (``Settings.lease_seconds``), renewed while sending
BACKOFF_BASE = timedelta(seconds=5)
BACKOFF_CAP = timedelta(minutes=30)  # a long outage is retried every half hour, for ever
ERROR_TEXT_LIMIT = 500


class Outcome(StrEnum):
    SENT = "sent"
    ABSORBED = "absorbed"  # folded into something else (a digest) instead of being sent
    UNDELIVERABLE = "undeliverable"  # the recipient cannot be reached (blocked the bot)


class LeaseLost(RuntimeError):
    """The row was claimed by another worker after this one's lease ran out."""


@dataclass(frozen=True)
class Envelope:
    """One claimed row, with what a sender needs to address and word it."""

    id: int
    kind: str
    payload: dict[str, Any]
    user_id: int
    telegram_id: int
    language: str
    attempts: int  # failed or finished attempts before this one
    created_at: datetime
    worker: str  # the lease holder


def backoff(attempt: int) -> timedelta:
    """Delay after the ``attempt``-th failure: 5 s, 10 s, 20 s … capped at 30 minutes."""
    exponent = min(max(attempt - 1, 0), 20)
    delay: timedelta = BACKOFF_BASE * 2**exponent
    return min(delay, BACKOFF_CAP)


async def enqueue(
    session: AsyncSession, *, kind: str, user_id: int, payload: dict[str, Any], now: datetime
) -> None:
    """Promise a notification inside the caller's transaction."""
    await session.execute(
        insert(OutboxMessage).values(
            kind=kind,
            user_id=user_id,
            payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
            created_at=now,
            available_at=now,
            attempts=0,
        )
    )


async def finish(
    session: AsyncSession,
    envelope: Envelope,
    outcome: Outcome,
    now: datetime,
    *,
    error: str | None = None,
) -> None:
    """End a claimed row inside the caller's transaction; raises ``LeaseLost`` (so the
    transaction rolls back) when another worker holds it by now."""
    values: dict[str, Any] = {"outcome": outcome.value, "attempts": OutboxMessage.attempts + 1}
    if outcome is Outcome.SENT:
        values["sent_at"] = now
    if error is not None:
        values["last_error"] = error[:ERROR_TEXT_LIMIT]
    if not await _release(session, envelope, values):
        raise LeaseLost(f"outbox row {envelope.id} is no longer held by {envelope.worker}")


async def reschedule(session: AsyncSession, envelope: Envelope, at: datetime, error: str) -> None:
    """Count a failed attempt and hand the row back for ``at``, in the caller's transaction;
    raises ``LeaseLost`` when another worker holds it by now."""
    values = {
        "attempts": OutboxMessage.attempts + 1,
        "available_at": at,
        "last_error": error[:ERROR_TEXT_LIMIT],
    }
    if not await _release(session, envelope, values):
        raise LeaseLost(f"outbox row {envelope.id} is no longer held by {envelope.worker}")


async def _release(session: AsyncSession, envelope: Envelope, values: dict[str, Any]) -> bool:
    """Hand the row back (with ``values``) if it is still pending and the envelope's."""
    return await leases.release(
        session,
        OutboxMessage,
        envelope.id,
        owner=envelope.worker,
        where=[OutboxMessage.outcome.is_(None)],
        values=values,
    )


def _first_of_each_user(count: int, where: list[Any]) -> Any:
    """The ids of each recipient's ``count`` oldest rows matching ``where``. A sub-select
    of its own: PostgreSQL refuses ``FOR UPDATE`` on a query with a window function, not on
    one that filters by such a sub-select."""
    rank = (
        func.row_number()
        .over(partition_by=OutboxMessage.user_id, order_by=OutboxMessage.id)
        .label("rank")
    )
    ranked = select(OutboxMessage.id, rank).where(*where).subquery()
    return select(ranked.c.id).where(ranked.c.rank <= count)


@dataclass(frozen=True)
class OutboxStats:
    pending: int
    due: int
    failing: int  # pending rows that failed at least once
    oldest: datetime | None = None  # when the oldest pending row was written


class Outbox:
    def __init__(self, db: Database, clock: Clock, *, lease: timedelta = LEASE) -> None:
        self._db = db
        self._clock = clock
        self._lease = lease

    def _due(self, now: datetime, kinds: Collection[str]) -> list[Any]:
        return [
            OutboxMessage.outcome.is_(None),
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.available_at <= now,
            OutboxMessage.kind.in_(list(kinds)),
        ]

    async def claim(
        self,
        worker: str,
        *,
        kinds: Collection[str],
        limit: int = 20,
        per_user: int | None = None,
        users: Collection[int] | None = None,
    ) -> list[Envelope]:
        """Lease up to ``limit`` due rows of ``kinds`` to ``worker``, oldest first; with
        ``per_user``, at most that many (each recipient's oldest) of any one recipient, so
        a backlog to one chat leaves room in the batch for everybody else's rows; with
        ``users``, only rows to those recipients."""
        now = self._clock.now()
        due = self._due(now, kinds)
        if users is not None:
            due.append(OutboxMessage.user_id.in_(list(users)))
        free = leases.is_free(OutboxMessage, now)
        async with self._db.reading() as session:  # idle rounds take no write lock
            if await session.scalar(select(OutboxMessage.id).where(*due, free).limit(1)) is None:
                return []
        where = list(due)
        if per_user is not None:
            where.append(OutboxMessage.id.in_(_first_of_each_user(per_user, [*due, free])))
        async with self._db.transaction() as session:
            claimed = await leases.claim(
                session,
                OutboxMessage,
                owner=worker,
                now=now,
                lease=self._lease,
                where=where,
                order_by=[OutboxMessage.id],
                limit=limit,
            )
            if not claimed:
                return []
            rows = await session.execute(
                select(OutboxMessage, User.telegram_id, User.language)
                .join(User, User.id == OutboxMessage.user_id)
                .where(OutboxMessage.id.in_(claimed))
                .order_by(OutboxMessage.id)
            )
            return [
                Envelope(
                    id=row.id,
                    kind=row.kind,
                    payload=json.loads(row.payload),
                    user_id=row.user_id,
                    telegram_id=telegram_id,
                    language=language,
                    attempts=row.attempts,
                    created_at=as_utc(row.created_at),
                    worker=worker,
                )
                for row, telegram_id, language in rows
            ]

    async def sent(self, envelope: Envelope) -> bool:
        """Delivered. False when the lease was lost meanwhile (the row stays another's)."""
        return await self._finish(envelope, Outcome.SENT)

    async def sent_all(self, envelopes: Collection[Envelope]) -> int:
        """Delivered together (one message told them all), in one transaction; returns how
        many were still this worker's (the others' leases were lost meanwhile)."""
        now = self._clock.now()
        values = {"outcome": Outcome.SENT.value, "attempts": OutboxMessage.attempts + 1}
        async with self._db.transaction() as session:
            marked = [
                await _release(session, envelope, {**values, "sent_at": now})
                for envelope in envelopes
            ]
        return sum(marked)

    async def absorb(self, envelope: Envelope) -> bool:
        """Nothing to send any more (a request decided before its card went out)."""
        return await self._finish(envelope, Outcome.ABSORBED)

    async def give_up(self, envelope: Envelope, error: str) -> bool:
        """Never retry this row (the recipient blocked the bot, or Telegram refuses it)."""
        return await self._finish(envelope, Outcome.UNDELIVERABLE, error=error)

    async def _finish(self, envelope: Envelope, outcome: Outcome, error: str | None = None) -> bool:
        try:
            async with self._db.transaction() as session:
                await finish(session, envelope, outcome, self._clock.now(), error=error)
        except LeaseLost:
            return False
        return True

    async def retry(
        self, envelope: Envelope, error: str, *, delay: timedelta | None = None
    ) -> datetime:
        """Count a failed attempt and schedule the next one (backoff unless ``delay``)."""
        wait = delay if delay is not None else backoff(envelope.attempts + 1)
        at = self._clock.now() + wait
        async with self._db.transaction() as session:
            await _release(
                session,
                envelope,
                {
                    "attempts": OutboxMessage.attempts + 1,
                    "available_at": at,
                    "last_error": error[:ERROR_TEXT_LIMIT],
                },
            )
        return at

    async def renew(self, envelopes: Collection[Envelope]) -> None:
        """Hold the claimed rows still this worker's one lease longer (while it sends)."""
        if not envelopes:
            return
        until = self._clock.now() + self._lease
        async with self._db.transaction() as session:
            for envelope in envelopes:
                await leases.renew(
                    session, OutboxMessage, envelope.id, owner=envelope.worker, until=until
                )

    @property
    def lease(self) -> timedelta:
        return self._lease

    async def release(self, envelopes: Collection[Envelope]) -> None:
        """Hand claimed rows back untouched (the worker is stopping or pausing)."""
        if not envelopes:
            return
        async with self._db.transaction() as session:
            for envelope in envelopes:
                await _release(session, envelope, {})

    async def stats(self, kinds: Collection[str] | None = None) -> OutboxStats:
        now = self._clock.now()
        pending = [OutboxMessage.outcome.is_(None), OutboxMessage.sent_at.is_(None)]
        if kinds is not None:
            pending.append(OutboxMessage.kind.in_(list(kinds)))
        async with self._db.reading() as session:
            total, due, failing, oldest = (
                await session.execute(
                    select(
                        func.count(),
                        func.count().filter(OutboxMessage.available_at <= now),
                        func.count().filter(OutboxMessage.attempts > 0),
                        func.min(OutboxMessage.created_at),
                    ).where(*pending)
                )
            ).one()
            return OutboxStats(
                int(total), int(due), int(failing), None if oldest is None else as_utc(oldest)
            )

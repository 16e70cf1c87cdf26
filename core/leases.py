"""Claiming rows under a lease: the one mechanism behind the outbox, jobs and broadcasts.

A table that workers claim mixes in ``models.Leased`` (``lease_owner``, ``lease_until``).
A row is *held* by ``lease_owner`` while ``lease_until`` is in the future; it is *free*
when ``lease_until`` is NULL or has passed (its holder died or stalled), and then anyone
may claim it. Every function here runs inside the caller's transaction, so a claim or a
release commits together with whatever else the use case writes.

* :func:`claim` leases up to ``limit`` free rows that also match the caller's conditions:
  their ids selected, then one ``UPDATE … RETURNING``. On PostgreSQL the select locks them
  ``FOR UPDATE SKIP LOCKED``, so concurrent claimers pass over each other's rows instead of
  waiting; SQLite has one writer at a time (``BEGIN IMMEDIATE``, ``core/db.py``), so the
  transaction is atomic there without it (SQLAlchemy renders no ``FOR UPDATE``).
* :func:`renew` and :func:`release` change a row only while ``lease_owner`` is still the
  caller: a worker whose lease ran out and was taken over changes nothing.
* :func:`renewing` keeps a lease alive while the work runs (every third of the lease), so
  leases can be short: a holder that died is taken over within one lease.

    async with db.transaction() as session:
        ids = await leases.claim(
            session, OutboxMessage, owner="w1", now=now, lease=timedelta(minutes=5),
            where=[OutboxMessage.outcome.is_(None)], order_by=[OutboxMessage.id], limit=20,
        )
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Leased

log = logging.getLogger("kameng.leases")


def is_free(table: type[Leased], now: datetime) -> ColumnElement[bool]:
    """Nobody holds the row: never leased, released, or the lease ran out."""
    return or_(table.lease_until.is_(None), table.lease_until <= now)


def held_by(table: type[Leased], owner: str) -> ColumnElement[bool]:
    """The row is ``owner``'s (a lease that ran out stays its own until someone claims it)."""
    return table.lease_owner == owner


async def claim(
    session: AsyncSession,
    table: type[Leased],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    where: Sequence[ColumnElement[bool]] = (),
    order_by: Sequence[Any] = (),
    limit: int = 1,
    values: Mapping[str, Any] | None = None,
) -> list[int]:
    """Lease up to ``limit`` free rows matching ``where`` (first by ``order_by``) to ``owner``
    until ``now + lease``, setting ``values`` too; returns the ids claimed (in no order)."""
    claimable = [*where, is_free(table, now)]
    candidates = (
        select(table.id)
        .where(*claimable)
        .order_by(*order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # Two statements, not ``UPDATE … WHERE id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)``:
    # PostgreSQL may run that sub-select again for each row it updates, and each run skips
    # the rows the statement has just changed, so one claimer took every due row whatever
    # ``limit`` said (seen: 14 of 14 with a limit of 3; tests/web/test_one_callback_sender.py).
    ids = list(await session.scalars(candidates))
    if not ids:
        return []
    claimed = await session.scalars(
        update(table)
        # the conditions again: PostgreSQL re-checks them on a row that changed meanwhile
        .where(table.id.in_(ids), *claimable)
        .values(lease_owner=owner, lease_until=now + lease, **(values or {}))
        .returning(table.id)
        .execution_options(synchronize_session=False)
    )
    return list(claimed)


async def renew(
    session: AsyncSession,
    table: type[Leased],
    row_id: int,
    *,
    owner: str,
    until: datetime,
    where: Sequence[ColumnElement[bool]] = (),
    values: Mapping[str, Any] | None = None,
) -> bool:
    """Hold the row until ``until`` (and set ``values``) if it is still ``owner``'s."""
    return await _update_held(
        session, table, row_id, owner, where, {"lease_until": until, **(values or {})}
    )


async def release(
    session: AsyncSession,
    table: type[Leased],
    row_id: int,
    *,
    owner: str,
    where: Sequence[ColumnElement[bool]] = (),
    values: Mapping[str, Any] | None = None,
) -> bool:
    """Free the row (and set ``values``) if it is still ``owner``'s; False if it is not."""
    return await _update_held(
        session,
        table,
        row_id,
        owner,
        where,
        {"lease_owner": None, "lease_until": None, **(values or {})},
    )


async def _update_held(
    session: AsyncSession,
    table: type[Leased],
    row_id: int,
    owner: str,
    where: Sequence[ColumnElement[bool]],
    values: Mapping[str, Any],
) -> bool:
    done = await session.scalar(
        update(table)
        .where(table.id == row_id, held_by(table, owner), *where)
        .values(**values)
        .returning(table.id)
        .execution_options(synchronize_session=False)
    )
    return done is not None


@contextlib.asynccontextmanager
async def renewing(renew: Callable[[], Awaitable[object]], lease: timedelta) -> AsyncIterator[None]:
    """Call ``renew`` every third of ``lease`` while the block runs (a renewal that fails,
    the database unreachable say, is logged and tried again at the next beat)."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            try:
                await renew()
            except Exception as exc:
                log.warning("renewing a lease failed (%s); trying again", type(exc).__name__)

    task = asyncio.create_task(beat(), name="kameng-lease-renewal")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""The one ``kameng serve`` of a deployment without Redis: a lease on a row, renewed while
it runs.

Without Redis, FSM state and throttling live in one process's memory, so a second instance
on the same database would split a user's conversation between two memories. The instance
takes the ``serve`` row of ``instance_leases`` through the project's one lease
(``core/leases.py``) at start and renews it every ``RENEW_EVERY``; a second instance finds
it held and refuses to start. (``kameng serve`` renews every third of
``Settings.lease_seconds``.) An instance that died (SIGKILL, power cut) stops renewing,
its lease runs out after ``LEASE`` and the next one takes it over; a clean stop gives it
back at once.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import leases
from core.clock import Clock
from core.db import Database
from core.models import InstanceLease

SERVE = "serve"
LEASE = timedelta(seconds=30)  # the default (``Settings.lease_seconds``)
RENEW_EVERY = LEASE / 3


class InstanceHeld(Exception):
    """Another instance holds the lease; who, and until when (UTC)."""

    def __init__(self, owner: str | None, until: str) -> None:
        super().__init__(f"held by {owner} until {until}")
        self.owner = owner
        self.until = until


class InstanceLeases:
    def __init__(self, db: Database, clock: Clock, lease: timedelta = LEASE) -> None:
        self._db = db
        self._clock = clock
        self.lease = lease

    async def take(self, owner: str, name: str = SERVE) -> None:
        """Hold the ``name`` lease as ``owner``, or raise :class:`InstanceHeld`."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            taken = await leases.claim(
                session,
                InstanceLease,
                owner=owner,
                now=now,
                lease=self.lease,
                where=[InstanceLease.name == name],
            )
            if taken:
                return
            holder = (
                await session.execute(
                    select(InstanceLease.lease_owner, InstanceLease.lease_until).where(
                        InstanceLease.name == name
                    )
                )
            ).one()
        until = holder.lease_until
        raise InstanceHeld(holder.lease_owner, "" if until is None else f"{until:%H:%M:%S}")

    async def renew(self, owner: str, name: str = SERVE) -> bool:
        """Hold it ``LEASE`` longer; False if it is no longer ``owner``'s (taken over)."""
        async with self._db.transaction() as session:
            row_id = await self._row(session, name)
            return await leases.renew(
                session, InstanceLease, row_id, owner=owner, until=self._clock.now() + self.lease
            )

    async def give_back(self, owner: str, name: str = SERVE) -> None:
        async with self._db.transaction() as session:
            row_id = await self._row(session, name)
            await leases.release(session, InstanceLease, row_id, owner=owner)

    @staticmethod
    async def _row(session: AsyncSession, name: str) -> int:
        row_id = await session.scalar(select(InstanceLease.id).where(InstanceLease.name == name))
        assert row_id is not None, "migration 0017 inserts the serve row"
        return row_id

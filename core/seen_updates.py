"""Telegram updates already taken: each update is handled once, whatever delivers it twice.

Telegram redelivers an update whose webhook answer it did not get, and two instances behind
a balancer may both receive one. The webhook asks :meth:`SeenUpdates.first_time` before it
hands an update to the dispatcher: the first caller inserts the update id and gets True,
every later one (on any instance: the row is in the shared database) gets False. Telegram
keeps an undelivered update for 24 hours, so a day-old row can go (:meth:`forget_old`).

With Redis (``KAMENG_REDIS_URL``) the same question is a ``SET NX EX`` there instead
(``bot/webhook.py``); this table is the dedupe of a deployment without Redis.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.clock import Clock
from core.db import Database
from core.models import SeenUpdate

#: Telegram gives up on an update after a day; a redelivery is never older
KEEP = timedelta(hours=24)


class SeenUpdates:
    def __init__(self, db: Database, clock: Clock, keep: timedelta = KEEP) -> None:
        self._db = db
        self._clock = clock
        self._keep = keep

    async def first_time(self, update_id: int) -> bool:
        """Record ``update_id``; True only for the first caller, on any instance."""
        async with self._db.transaction() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            taken = await session.scalar(
                insert(SeenUpdate)
                .values(update_id=update_id, seen_at=self._clock.now())
                .on_conflict_do_nothing(index_elements=[SeenUpdate.update_id])
                .returning(SeenUpdate.update_id)
            )
        return taken is not None

    async def forget_old(self) -> int:
        """Delete the ids recorded more than a day ago; how many went."""
        async with self._db.transaction() as session:
            gone = await session.execute(
                delete(SeenUpdate).where(SeenUpdate.seen_at < self._clock.now() - self._keep)
            )
        return int(getattr(gone, "rowcount", 0) or 0)

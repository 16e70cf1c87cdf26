"""The one lease (``core/leases.py``) on every table workers claim: a held row goes to one
owner at a time, an expired lease is anyone's, and only the holder renews or releases."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from core import leases, schema
from core.db import Database
from core.jobs import NewJob, add_jobs
from core.models import (
    BroadcastCampaign,
    CampaignStatus,
    Leased,
    OutboxMessage,
    ScheduledJob,
    User,
)
from core.outbox import enqueue
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import make_reseller

LEASE = timedelta(seconds=60)
ROWS = 3
USER_TID = 1001


async def _add_rows(platform: Platform, table: type[Leased], count: int) -> list[int]:
    """``count`` unleased rows of ``table``, each as its use case writes it."""
    await make_reseller(platform, USER_TID)
    now = platform.clock.now()
    async with platform.db.transaction() as session:
        user_id = await session.scalar(select(User.id).where(User.telegram_id == USER_TID))
        assert user_id is not None
        for n in range(count):
            if table is OutboxMessage:
                await enqueue(session, kind="sale", user_id=user_id, payload={"n": n}, now=now)
            elif table is ScheduledJob:
                add_jobs(session, [NewJob(f"job-{n}", "note", now)], now)
            else:
                session.add(
                    BroadcastCampaign(
                        admin_user_id=user_id,
                        admin_chat_id=USER_TID,
                        kind="text",
                        body_html=f"news {n}",
                        audience="resellers",
                        status=CampaignStatus.SENDING,
                        created_at=now,
                    )
                )
    async with platform.db.reading() as session:
        return list(await session.scalars(select(table.id).order_by(table.id)))


@dataclass(frozen=True)
class Step:
    action: str  # claim | renew | release (renew and release: every row, one at a time)
    owner: str
    at: int  # seconds after the start
    changed: int  # rows claimed, renewed or released


CASES: dict[str, list[Step]] = {
    "a held row is not claimed again, not even by its holder": [
        Step("claim", "a", 0, ROWS),
        Step("claim", "b", 59, 0),
        Step("claim", "a", 59, 0),
    ],
    "an expired lease is claimable by another owner": [
        Step("claim", "a", 0, ROWS),
        Step("claim", "b", 60, ROWS),
        Step("claim", "c", 61, 0),
    ],
    "a release by a stale owner changes nothing": [
        Step("claim", "a", 0, ROWS),
        Step("claim", "b", 61, ROWS),
        Step("release", "a", 62, 0),
        Step("claim", "c", 62, 0),
        Step("release", "b", 63, ROWS),
        Step("claim", "c", 63, ROWS),
    ],
    "renew extends only one's own lease": [
        Step("claim", "a", 0, ROWS),
        Step("renew", "b", 30, 0),
        Step("renew", "a", 30, ROWS),
        Step("claim", "b", 89, 0),
        Step("claim", "b", 90, ROWS),
    ],
    "a stale owner cannot renew what another took over": [
        Step("claim", "a", 0, ROWS),
        Step("claim", "b", 60, ROWS),
        Step("renew", "a", 61, 0),
        Step("claim", "a", 119, 0),
    ],
    "a released row is free at once": [
        Step("claim", "a", 0, ROWS),
        Step("release", "a", 1, ROWS),
        Step("renew", "a", 2, 0),
        Step("claim", "b", 2, ROWS),
    ],
}


async def _run(platform: Platform, table: type[Leased], ids: list[int], step: Step) -> int:
    now = platform.clock.now() + timedelta(seconds=step.at)
    async with platform.db.transaction() as session:
        if step.action == "claim":
            claimed = await leases.claim(
                session, table, owner=step.owner, now=now, lease=LEASE, limit=10
            )
            return len(claimed)
        change: Callable[[int], Awaitable[bool]]
        if step.action == "renew":

            async def change(row: int) -> bool:
                until = now + LEASE
                return await leases.renew(session, table, row, owner=step.owner, until=until)
        else:

            async def change(row: int) -> bool:
                return await leases.release(session, table, row, owner=step.owner)

        return sum([await change(row) for row in ids])


@pytest.mark.parametrize("table", [OutboxMessage, ScheduledJob, BroadcastCampaign])
@pytest.mark.parametrize("case", list(CASES))
async def test_lease_rules(platform: Platform, table: type[Leased], case: str) -> None:
    ids = await _add_rows(platform, table, ROWS)
    for number, step in enumerate(CASES[case]):
        changed = await _run(platform, table, ids, step)
        assert changed == step.changed, f"step {number}: {step}"


async def test_a_claim_takes_the_first_rows_by_its_order_and_only_those_it_matches(
    platform: Platform,
) -> None:
    ids = await _add_rows(platform, ScheduledJob, 5)
    now = platform.clock.now()
    async with platform.db.transaction() as session:
        newest = await leases.claim(
            session,
            ScheduledJob,
            owner="a",
            now=now,
            lease=LEASE,
            where=[ScheduledJob.id != ids[-1]],
            order_by=[ScheduledJob.id.desc()],
            limit=2,
            values={"attempts": 7},
        )
    assert sorted(newest) == ids[2:4]
    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(ScheduledJob).where(ScheduledJob.lease_until.is_not(None))
        )
        held = {r.id: (r.lease_owner, r.attempts) for r in rows}
    assert held == {ids[2]: ("a", 7), ids[3]: ("a", 7)}


async def test_a_claim_takes_no_more_than_its_limit(platform: Platform) -> None:
    """The limit holds on PostgreSQL too: one claimer once took every due row, however
    small its limit, when the planner ran the claim's sub-select once per updated row."""
    await _add_rows(platform, OutboxMessage, 14)
    async with platform.db.transaction() as session:
        claimed = await leases.claim(
            session,
            OutboxMessage,
            owner="a",
            now=platform.clock.now(),
            lease=LEASE,
            where=[OutboxMessage.outcome.is_(None), OutboxMessage.kind.in_(["sale", "other"])],
            order_by=[OutboxMessage.id],
            limit=3,
        )
    assert len(claimed) == 3


async def test_two_owners_claiming_at_once_never_get_the_same_row(platform: Platform) -> None:
    ids = await _add_rows(platform, OutboxMessage, 40)
    other = Database(platform.db.url)  # a second process: its own engine and connections
    now = platform.clock.now()

    async def claim(db: Database, owner: str) -> list[int]:
        async with db.transaction() as session:
            return await leases.claim(
                session, OutboxMessage, owner=owner, now=now, lease=LEASE, limit=3
            )

    try:
        batches = await asyncio.gather(
            *(claim(platform.db if n % 2 else other, f"w{n}") for n in range(20))
        )
    finally:
        await other.dispose()
    claimed = [row for batch in batches for row in batch]
    assert sorted(claimed) == sorted(ids)  # every row once: none twice, none left


async def test_a_claim_passes_over_rows_another_transaction_is_claiming(
    platform: Platform,
) -> None:
    """PostgreSQL: B's claim does not wait for A's open transaction, it skips A's rows
    (SKIP LOCKED). SQLite: one writer at a time, so B waits for A's commit; then A's rows
    are held. Either way nobody gets a row twice."""
    ids = await _add_rows(platform, OutboxMessage, 10)
    other = Database(platform.db.url)
    now = platform.clock.now()
    postgres = platform.db.engine.dialect.name == "postgresql"

    async def claim_b() -> list[int]:
        async with other.transaction() as session:
            return await leases.claim(
                session, OutboxMessage, owner="b", now=now, lease=LEASE, limit=6
            )

    try:
        async with platform.db.transaction() as session:
            a = await leases.claim(
                session,
                OutboxMessage,
                owner="a",
                now=now,
                lease=LEASE,
                order_by=[OutboxMessage.id],
                limit=6,
            )
            b_task = asyncio.create_task(claim_b())
            await asyncio.sleep(0.5)
            assert b_task.done() is postgres  # A's transaction is still open here
        b = await asyncio.wait_for(b_task, 30)
    finally:
        await other.dispose()
    assert sorted(a) == ids[:6]
    assert sorted(b) == ids[6:]  # the four A did not take, and none of A's


async def test_the_lease_columns_keep_their_values_down_to_0015_and_back(
    platform: Platform, clock: FakeClock
) -> None:
    outbox = await _add_rows(platform, OutboxMessage, 1)
    campaigns = await _add_rows(platform, BroadcastCampaign, 1)
    async with platform.db.transaction() as session:
        for table in (OutboxMessage, BroadcastCampaign):
            await leases.claim(session, table, owner="w", now=clock.now(), lease=LEASE)
    old = {"outbox": ("locked_by", "locked_until"), "broadcast_campaigns": ("owner", "lease_until")}

    async def leases_in(columns: dict[str, tuple[str, str]]) -> list[tuple[object, ...]]:
        async with platform.db.reading() as session:
            return [
                tuple((await session.execute(text(f"SELECT id, {o}, {u} FROM {t}"))).one())
                for t, (o, u) in columns.items()
            ]

    new = {t: ("lease_owner", "lease_until") for t in old}
    before = await leases_in(new)
    assert [row[:2] for row in before] == [(outbox[0], "w"), (campaigns[0], "w")]
    await schema.downgrade(platform.db, "0015")
    assert await leases_in(old) == before
    await schema.upgrade(platform.db)
    assert await leases_in(new) == before

"""The instance lease (one ``kameng serve`` without Redis) and the webhook's update dedupe,
on the real database: taken once, taken over only once expired; each update id once."""

from __future__ import annotations

import asyncio

import pytest

from core.db import Database
from core.instance_lease import LEASE, InstanceHeld, InstanceLeases
from core.seen_updates import KEEP, SeenUpdates
from tests.conftest import FakeClock


async def test_the_lease_is_held_renewed_and_taken_over_only_once_expired(
    db: Database, clock: FakeClock
) -> None:
    leases = InstanceLeases(db, clock)
    await leases.take("first")
    with pytest.raises(InstanceHeld) as held:
        await leases.take("second")
    assert held.value.owner == "first"
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert await leases.renew("first")
    clock.advance(seconds=LEASE.total_seconds() - 1)
    with pytest.raises(InstanceHeld):
        await leases.take("second")  # renewed: still the first one's
    clock.advance(seconds=2)  # the first one died: no renewal came
    await leases.take("second")
    assert not await leases.renew("first")  # a stalled first one learns it lost it
    await leases.give_back("second")
    await leases.take("third")  # given back: free at once


async def test_each_update_id_is_first_once_even_when_asked_at_the_same_time(
    db: Database, clock: FakeClock
) -> None:
    seen = SeenUpdates(db, clock)
    answers = await asyncio.gather(*(seen.first_time(4711) for _ in range(5)))
    assert sorted(answers) == [False, False, False, False, True]
    assert await seen.first_time(4712)
    clock.advance(seconds=KEEP.total_seconds() + 1)
    assert await seen.first_time(4713)
    assert await seen.forget_old() == 2  # 4711 and 4712 are a day old; 4713 stays
    assert not await seen.first_time(4713)

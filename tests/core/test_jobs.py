"""Persisted jobs: due jobs run once, late ones within grace run, too-late ones are missed,
and two runners on one database never both fire a job."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from core.clock import SystemClock
from core.db import Database
from core.jobs import JobContext, JobRunner, JobStore, NewJob, TickResult
from core.models import JobStatus
from core.settings import Settings
from tests.conftest import FakeClock

GRACE = timedelta(minutes=10)
LEASE = timedelta(minutes=5)


def runner(db: Database, clock: FakeClock, handlers: dict, owner: str | None = None) -> JobRunner:  # type: ignore[type-arg]
    return JobRunner(JobStore(db, clock), handlers, clock, grace=GRACE, lease=LEASE, owner=owner)


class Recorder:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    async def __call__(self, context: JobContext) -> None:
        await asyncio.sleep(0)  # let a racing runner in
        self.calls[context.job.key] += 1


async def test_a_job_runs_when_due_and_only_once(db: Database, clock: FakeClock) -> None:
    store = JobStore(db, clock)
    await store.schedule([NewJob("a", "note", clock.now() + timedelta(seconds=3), {"n": 1})])
    record = Recorder()
    r = runner(db, clock, {"note": record})

    assert (await r.tick()).ran == []
    clock.advance(seconds=3)
    assert len((await r.tick()).ran) == 1
    assert (await r.tick()).ran == []
    assert record.calls == {"a": 1}
    (job,) = await store.jobs()
    assert job.status is JobStatus.DONE and job.attempts == 1 and job.payload == {"n": 1}


async def test_scheduling_a_key_twice_keeps_the_first(db: Database, clock: FakeClock) -> None:
    store = JobStore(db, clock)
    first = await store.schedule([NewJob("k", "note", clock.now(), {"v": 1})])
    again = await store.schedule([NewJob("k", "note", clock.now(), {"v": 2})])
    assert first == again and again[0].payload == {"v": 1}


async def test_after_a_restart_a_late_job_runs_once_and_a_too_late_one_is_missed(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    start = clock.now()
    await JobStore(db, clock).schedule(
        [
            NewJob("late", "note", start + timedelta(minutes=1)),
            NewJob("too-late", "note", start - timedelta(minutes=30)),
        ]
    )
    # the process that scheduled them is gone; a new one starts 6 minutes later
    clock.advance(minutes=6)
    restarted = Database(settings.database_url)
    try:
        record = Recorder()
        result = await runner(restarted, clock, {"note": record}).tick()
        assert record.calls == {"late": 1}
        assert len(result.ran) == 1 and len(result.missed) == 1
        await runner(restarted, clock, {"note": record}).tick()
        assert record.calls == {"late": 1}
        statuses = {job.key: job.status for job in await JobStore(restarted, clock).jobs()}
        assert statuses == {"late": JobStatus.DONE, "too-late": JobStatus.MISSED}
    finally:
        await restarted.dispose()


async def test_two_runners_on_one_database_fire_each_job_once(
    db: Database, clock: FakeClock, settings: Settings
) -> None:
    store = JobStore(db, clock)
    await store.schedule(
        [NewJob(f"j{n}", "note", clock.now() + timedelta(seconds=n % 5)) for n in range(40)]
    )
    other = Database(settings.database_url)
    try:
        record = Recorder()
        first = runner(db, clock, {"note": record}, owner="process-1")
        second = runner(other, clock, {"note": record}, owner="process-2")
        ran: list[int] = []
        for _ in range(6):
            results = await asyncio.gather(first.tick(), second.tick(), first.tick())
            ran += [job for result in results for job in result.ran]
            clock.advance(seconds=1)
        assert sorted(ran) == sorted(set(ran)) and len(ran) == 40
        assert record.calls == {f"j{n}": 1 for n in range(40)}
        assert {job.status for job in await store.jobs()} == {JobStatus.DONE}
    finally:
        await other.dispose()


async def test_a_failing_job_is_retried_with_backoff_then_given_up(
    db: Database, clock: FakeClock
) -> None:
    store = JobStore(db, clock)
    await store.schedule([NewJob("flaky", "boom", clock.now(), max_attempts=2)])
    attempts = 0

    async def boom(context: JobContext) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("telegram is down")

    r = runner(db, clock, {"boom": boom})
    assert len((await r.tick()).failed) == 1
    assert (await r.tick()).failed == []  # backing off
    clock.advance(seconds=30)
    assert len((await r.tick()).failed) == 1
    clock.advance(minutes=5)
    await r.tick()
    assert attempts == 2
    (job,) = await store.jobs()
    assert job.status is JobStatus.FAILED and "telegram is down" in (job.last_error or "")


def _fanout_to_five(
    served: list[int], dies_as: str, death: type[BaseException]
) -> Callable[[JobContext], Awaitable[None]]:
    """A job serving recipients 1 to 5 from its checkpoint on, each one checkpointed; run
    by the runner named ``dies_as`` it dies with ``death`` after recipient 3."""

    async def fanout(context: JobContext) -> None:
        start = (context.job.cursor or 0) + 1
        for recipient in range(start, 6):
            served.append(recipient)
            assert await context.checkpoint(recipient)
            if recipient == 3 and context.owner == dies_as:
                raise death

    return fanout


async def test_a_crashed_runner_s_job_is_resumed_from_its_checkpoint(
    db: Database, clock: FakeClock
) -> None:
    store = JobStore(db, clock)
    await store.schedule([NewJob("send", "fanout", clock.now())])
    served: list[int] = []
    fanout = _fanout_to_five(served, dies_as="crashing", death=Killed)  # lease held

    crashing = runner(db, clock, {"fanout": fanout}, owner="crashing")
    with pytest.raises(Killed):
        await crashing.tick()
    survivor = runner(db, clock, {"fanout": fanout}, owner="survivor")
    assert (await survivor.tick()).ran == []  # the lease still holds
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert len((await survivor.tick()).ran) == 1
    assert served == [1, 2, 3, 4, 5]
    (job,) = await store.jobs()
    assert job.status is JobStatus.DONE and job.attempts == 2


class Killed(BaseException):
    """What a SIGKILL looks like from inside: nothing of the runner's runs any more."""


async def test_a_stopped_runner_gives_its_job_back_at_once(db: Database, clock: FakeClock) -> None:
    store = JobStore(db, clock)
    await store.schedule([NewJob("send", "fanout", clock.now())])
    served: list[int] = []
    # SchedulerService.stop cancels the busy tick
    fanout = _fanout_to_five(served, dies_as="stopping", death=asyncio.CancelledError)

    with pytest.raises(asyncio.CancelledError):
        await runner(db, clock, {"fanout": fanout}, owner="stopping").tick()
    survivor = runner(db, clock, {"fanout": fanout}, owner="survivor")
    assert len((await survivor.tick()).ran) == 1  # no wait for a lease to run out
    assert served == [1, 2, 3, 4, 5]
    (job,) = await store.jobs()
    assert job.status is JobStatus.DONE and job.attempts == 1  # a stop is not an attempt


async def test_a_long_job_keeps_its_lease_while_it_runs(db: Database) -> None:
    """The lease is short and renewed every third of it: a job running for several
    leases is never taken over by a second runner."""
    clock = SystemClock()
    store = JobStore(db, clock)
    await store.schedule([NewJob("slow", "slow", clock.now())])
    short = timedelta(seconds=0.3)
    second: list[TickResult] = []

    async def slow(_context: JobContext) -> None:
        for _ in range(6):  # 1.2 s: four leases
            await asyncio.sleep(0.2)
            other = JobRunner(store, {"slow": slow}, clock, grace=GRACE, lease=short, owner="b")
            second.append(await other.tick())

    first = JobRunner(store, {"slow": slow}, clock, grace=GRACE, lease=short, owner="a")
    assert len((await first.tick()).ran) == 1
    assert [result.ran for result in second] == [[]] * 6
    (job,) = await store.jobs()
    assert job.status is JobStatus.DONE and job.attempts == 1

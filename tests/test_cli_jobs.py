"""``kameng jobs`` shows an operator the scheduled jobs and which were missed."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from core.jobs import JobRunner, JobStore, NewJob
from core.platform import Platform
from tests.cli_runner import run_kameng
from tests.conftest import FakeClock


async def test_jobs_lists_what_is_scheduled_and_what_was_missed(
    platform: Platform, clock: FakeClock, database_url: str, tmp_path: Path
) -> None:
    store = JobStore(platform.db, clock)
    await store.schedule(
        [
            NewJob("soon", "promotion.announce", clock.now() + timedelta(hours=1), {"p": 1}),
            NewJob("old", "promotion.report", clock.now() - timedelta(days=1), {"p": 2}),
        ]
    )
    runner = JobRunner(store, {}, clock, grace=timedelta(hours=1), lease=timedelta(minutes=5))
    await runner.tick()

    async def kameng(*args: str) -> str:
        env = {"KAMENG_DATABASE_URL": database_url}
        done = await asyncio.to_thread(run_kameng, "jobs", *args, env=env, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listing = (await kameng()).splitlines()
    assert [line.split()[1] for line in listing] == ["promotion.report", "promotion.announce"]
    assert "2026-11-25 12:00 UTC  missed" in listing[0] and '{"p": 2}' in listing[0]
    assert "pending" in listing[1]
    assert (await kameng("--status", "missed")).count("\n") == 1

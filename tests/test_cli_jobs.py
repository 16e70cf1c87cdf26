"""``kameng jobs`` shows an operator the scheduled jobs and which were missed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from core.jobs import JobRunner, JobStore, NewJob
from core.platform import Platform
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

    def kameng(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "jobs", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "KAMENG_DATABASE_URL": database_url},
            cwd=tmp_path,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    listing = kameng().splitlines()
    assert [line.split()[1] for line in listing] == ["promotion.report", "promotion.announce"]
    assert "2026-11-25 12:00 UTC  missed" in listing[0] and '{"p": 2}' in listing[0]
    assert "pending" in listing[1]
    assert kameng("--status", "missed").count("\n") == 1

"""Job runner throughput: persisted jobs claimed and run per second, one runner beside two
runners racing on one database, and what an idle tick costs.

    .venv/bin/python bench/jobs.py [--jobs 500] [--postgres URL --allow-wipe | --skip-postgres]

Per database (a fresh SQLite file; PostgreSQL, whose ``public`` schema is wiped) ``--jobs``
jobs with a no-op handler are scheduled as due, then run by one ``JobRunner`` ticking until
none is left; again with two runners (two ``Database`` engines, as two processes would
have) ticking concurrently. Every job must have run exactly once. Then idle ticks (nothing
due, every job done) are timed. Printed as rates and ratios; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from _common import fresh_platform, prepare_postgres, sqlite_url, table

from core.clock import SystemClock
from core.db import Database
from core.jobs import JobContext, JobRunner, JobStore, NewJob

GRACE = timedelta(hours=1)
LEASE = timedelta(minutes=5)


async def _schedule(store: JobStore, count: int, tag: str) -> None:
    now = SystemClock().now()
    for start in range(0, count, 200):
        await store.schedule(
            [NewJob(f"{tag}-{n}", "noop", now) for n in range(start, min(count, start + 200))]
        )


async def _drain(runners: list[JobRunner]) -> float:
    began = time.perf_counter()
    while True:
        results = await asyncio.gather(*(runner.tick() for runner in runners))
        if not any(result.ran for result in results):
            return time.perf_counter() - began


async def bench(url: str, jobs: int) -> list[str]:
    platform = await fresh_platform(url)
    other = Database(url)
    ran: Counter[str] = Counter()

    async def noop(context: JobContext) -> None:
        ran[context.job.key] += 1

    clock = SystemClock()

    def runner(db: Database, owner: str) -> JobRunner:
        store = JobStore(db, clock)
        return JobRunner(store, {"noop": noop}, clock, grace=GRACE, lease=LEASE, owner=owner)

    try:
        await _schedule(platform.jobs, jobs, "one")
        one = await _drain([runner(platform.db, "solo")])
        await _schedule(platform.jobs, jobs, "two")
        two = await _drain([runner(platform.db, "p1"), runner(other, "p2")])
        if sorted(set(ran.values())) != [1] or len(ran) != 2 * jobs:
            sys.exit(f"FAIL: a job ran twice or never: {Counter(ran.values())}")
        idle_runner = runner(platform.db, "idle")
        ticks = 50
        began = time.perf_counter()
        for _ in range(ticks):
            await idle_runner.tick()
        idle = (time.perf_counter() - began) / ticks
    finally:
        await other.dispose()
        await platform.close()
    return [
        f"{jobs / one:.0f}",
        f"{jobs / two:.0f}",
        f"{one / two:.2f}",
        f"{idle * 1000:.2f}",
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--allow-wipe", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        rows.append(["sqlite", *await bench(sqlite_url(Path(directory), "jobs.db"), args.jobs)])
    if args.postgres and not args.skip_postgres:
        await prepare_postgres(args.postgres, allow_any=args.allow_wipe)
        rows.append(["postgresql", *await bench(args.postgres, args.jobs)])
    print(
        table(
            ["database", "jobs/s 1 runner", "jobs/s 2 runners", "ratio 2/1", "idle tick ms"],
            rows,
        )
    )
    for row in rows:
        print(f"ratio {row[0]}: two runners/one runner = {row[3]}")
    print("OK: every job ran exactly once")


if __name__ == "__main__":
    asyncio.run(main())

"""The benchmarks run end to end at tiny sizes (SQLite only). Nothing here asserts a time.

Each runs at about the smallest size its script accepts (at least two purchases per mode
for the percentiles, two concurrent buyers): starting the process costs more than the work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def run_bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize(
    ("script", "args", "expected"),
    [
        (
            "checkout.py",
            ("--purchases", "2", "--buyers", "2", "--rounds", "1", "--skip-postgres"),
            ["ratio sqlite: core/raw =", "OK: the ledger balances"],
        ),
        (
            "import.py",
            ("--codes", "10", "--batch", "5", "--tracemalloc-codes", "5"),
            ["ratio sqlite: core/raw =", "peak RSS:"],
        ),
        (
            "jobs.py",
            ("--jobs", "2", "--skip-postgres"),
            ["ratio sqlite: two runners/one runner =", "OK: every job ran exactly once"],
        ),
        (
            "two_writers.py",
            ("--clients", "2", "--seconds", "0.5"),
            ["ratio p99 two, writer queue / one server =", "OK: the ledger balances"],
        ),
    ],
)
def test_bench_runs_and_prints_its_ratio(
    script: str, args: tuple[str, ...], expected: list[str]
) -> None:
    out = run_bench(script, *args)
    for line in expected:
        assert line in out, out

"""The broadcast benchmark runs end to end at a tiny size, with a restart in the middle.
Nothing here asserts a time: only that nobody got two copies and nobody was lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_broadcast_bench_runs_and_prints_its_ratio() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "broadcast.py"),
            *("--recipients", "20", "--rate", "200", "--limit", "240"),
            *("--random-429", "0.005", "--progress-seconds", "0.5", "--stop-at", "0.5"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    for line in ("of the 240/s limit", "duplicates: 0", "lost: 0", "a new worker resumes"):
        assert line in out, out

"""bench/supplier_upload.py runs end to end at a tiny size (SQLite only; no time asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "supplier_upload.py"
LINES = 10  # two batches


def test_supplier_upload_bench_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--lines", str(LINES), "--batch", "5"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"sqlite: {LINES:,} lines uploaded" in done.stdout
    assert f"sqlite: Added: {LINES}" in done.stdout

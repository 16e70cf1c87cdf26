"""bench/supplier_upload.py runs end to end at a tiny size (SQLite only; no time asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "supplier_upload.py"


def test_supplier_upload_bench_runs() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--lines", "3000", "--batch", "500"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "sqlite: 3,000 lines uploaded" in done.stdout
    assert "sqlite: Added: 3000" in done.stdout

"""The outbox bench runs end to end at a tiny size (SQLite only). Nothing asserts a time."""

from __future__ import annotations

from tests.test_bench_smoke import run_bench


def test_outbox_bench_runs_and_prints_its_ratios() -> None:
    out = run_bench("outbox.py", "--sales", "20", "--purchases", "8", "--buyers", "2")
    for line in (
        "ratio sqlite: sender/raw-send =",
        "ratio sqlite: purchases with/without sender =",
        "sale notices the supplier received: 36 (sales made: 36)",
        "OK: the ledger balances",
    ):
        assert line in out, out

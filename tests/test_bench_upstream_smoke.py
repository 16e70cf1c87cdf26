"""The upstream bench runs end to end at a tiny size. Nothing asserts a time."""

from __future__ import annotations

from tests.test_bench_smoke import run_bench


def test_upstream_bench_runs_and_prints_its_ratios() -> None:
    out = run_bench(
        "upstream.py",
        *("--seconds", "0.2", "--codes", "500", "--local-buyers", "1"),
        *("--upstream-buyers", "2", "--delays", "0,0.05"),
    )
    for line in (
        "ratio local mixed/alone at 0 ms =",
        "ratio local mixed/alone at 50 ms =",
        "upstream (mixed)",
        "event loop lag while upstream calls are in flight at 50 ms: p50",
        "OK: the ledger balances",
    ):
        assert line in out, out

"""The API bench runs end to end at a tiny size (SQLite only). Nothing asserts a time."""

from __future__ import annotations

from tests.test_bench_smoke import run_bench


def test_api_bench_runs_and_prints_its_ratio() -> None:
    out = run_bench("api.py", "--seconds", "0.2", "--clients", "2", "--rounds", "1")
    for line in (
        "ratio sqlite: api/core =",
        "CPU per order api/core =",
        "OK: the ledger balances",
        "audit chain: OK",
    ):
        assert line in out, out

"""The Stars pre-checkout bench runs end to end at a tiny size. Nothing asserts a time."""

from __future__ import annotations

from tests.test_bench_smoke import run_bench


def test_stars_checkout_bench_runs_and_prints_its_ratios() -> None:
    out = run_bench("stars_checkout.py", "--queries", "3", "--buyers", "2", "--purchases", "2")
    for line in (
        "ratio sqlite: pre-checkout median under load/idle =",
        "ratio sqlite: slowest answer/Telegram's deadline =",
        "OK: the ledger balances",
    ):
        assert line in out, out

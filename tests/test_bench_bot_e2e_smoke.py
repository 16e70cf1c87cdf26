"""bench/bot_e2e.py runs end to end at a tiny size (SQLite). Nothing here asserts a time."""

from __future__ import annotations

from tests.test_bench_smoke import run_bench


def test_bot_e2e_bench_runs_and_prints_its_ratio() -> None:
    # the smallest sizes the script accepts (--resellers >= its 4 warm-up buyers)
    out = run_bench("bot_e2e.py", "--resellers", "4", "--purchases-each", "1", "--rounds", "1")
    for line in (
        "ratio sqlite: bot/core =",
        "bot Confirm -> codes (all at once): p50",
        "bot Confirm -> codes at a steady pace (25 arrivals/s, Poisson: each reseller buys",
        "bot Confirm -> codes at a steady pace (40 arrivals/s, Poisson: each reseller buys",
        "Bot API calls per purchase: ",
        "all distinct: True",
        "OK: the ledger balances and every code reached exactly one buyer",
    ):
        assert line in out, out

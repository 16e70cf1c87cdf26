"""The outbox bench runs end to end at a tiny size (SQLite only). Nothing asserts a time."""

from __future__ import annotations

from tests.test_bench_smoke import run_bench

SALES, PURCHASES, BURST = 2, 2, 5
# the drained sales, the purchases made twice (without and with the sender running), a burst
SALES_MADE = SALES + 2 * PURCHASES + BURST


def test_outbox_bench_runs_and_prints_its_ratios() -> None:
    out = run_bench(
        "outbox.py",
        *("--sales", str(SALES), "--purchases", str(PURCHASES)),
        *("--buyers", "2", "--burst", str(BURST)),
    )
    for line in (
        "ratio sqlite: sender/raw-send =",
        "ratio sqlite: purchases with/without sender =",
        "ratio sqlite: burst caught up in / one by one =",
        f"sales the supplier was told of: {SALES_MADE} in ",
        f"messages (sales made: {SALES_MADE})",
        "OK: the ledger balances",
    ):
        assert line in out, out

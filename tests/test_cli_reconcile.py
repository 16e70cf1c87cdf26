"""``kameng upstream reconcile``: our procurements beside the upstream's orders, every
difference one line, with what we recorded owing beside what the upstream says it charged —
here after an injected fault (the upstream delivers an order we are still waiting on)."""

from __future__ import annotations

from sandbox.fake_upstream import FakeDujiao, Mode
from tests.test_cli_errors import Kameng, kameng, ok  # noqa: F401 (the fixture)
from tests.test_cli_upstream import dujiao  # noqa: F401 (the fixture)


def _reseller_on_upstream(run: Kameng, upstream: FakeDujiao, balance: str) -> None:
    """The operator's setup: the upstream "dj" added and synced (its SKU U1-1 on sale),
    reseller 1001 holding ``balance``."""
    ok(run("db", "upgrade"))
    ok(
        run(
            "upstream", "add", "dj", "--protocol", "dujiao", "--url", upstream.base_url,
            "--key", upstream.key, "--secret", upstream.secret, "--markup", "8",
            "--category", "Games",
        )
    )  # fmt: skip
    ok(run("upstream", "sync", "dj"))
    ok(run("user", "grant", "1001", "reseller"))
    ok(run("balance", "credit", "1001", balance, "--note", "bank"))


def test_reconcile_prints_every_difference(kameng: Kameng, dujiao: FakeDujiao) -> None:  # noqa: F811
    _reseller_on_upstream(kameng, dujiao, balance="500")

    assert ok(kameng("buy", "1001", "U1-1", "1")) == "FAKE-kameng-1-1\n"  # codes at once
    dujiao.catalogue.mode = Mode.SLOW
    ok(kameng("buy", "1001", "U1-1", "1"))  # taken there, still processing
    assert ok(kameng("upstream", "reconcile", "dj")) == "0 difference(s) over 1 day(s)\n"

    dujiao.catalogue.fill(dujiao.catalogue.orders["kameng-2"], 1)  # delivered, we not told yet
    assert ok(kameng("upstream", "reconcile", "dj", "--days", "2")) == (
        "order 2: ours fulfilling 0 cost 0.00, upstream delivered 1 cost 92.00\n"
        "1 difference(s) over 2 day(s)\n"
    )


def test_reconcile_after_a_run_with_injected_faults(kameng: Kameng, dujiao: FakeDujiao) -> None:  # noqa: F811
    """Slow orders the upstream then delivers, cancels or half delivers without telling us
    (callback lost), beside orders that ended cleanly: one line per difference."""
    _reseller_on_upstream(kameng, dujiao, balance="900")

    ok(kameng("buy", "1001", "U1-1", "1"))  # 1: delivered at once
    dujiao.catalogue.mode = Mode.FAIL
    ok(kameng("buy", "1001", "U1-1", "1"))  # 2: failed there, refunded here
    dujiao.catalogue.mode = Mode.CALLBACK_LOST
    for _ in range(3):
        ok(kameng("buy", "1001", "U1-1", "2"))  # 3, 4, 5: still processing there
    orders = dujiao.catalogue.orders
    dujiao.catalogue.fill(orders["kameng-3"], 2)  # delivered there, we were never told
    orders["kameng-4"].status = "canceled"  # canceled there
    dujiao.catalogue.fill(orders["kameng-5"], 1, partial=True)  # half delivered there

    out = ok(kameng("upstream", "reconcile", "dj"))
    print(out)  # the closing note of issue 13 quotes it
    assert out == (
        "order 3: ours fulfilling 0 cost 0.00, upstream delivered 2 cost 184.00\n"
        "order 4: ours fulfilling 0 cost 0.00, upstream failed 0 cost not said\n"
        "order 5: ours fulfilling 0 cost 0.00, upstream partial 1 cost not said\n"
        "3 difference(s) over 1 day(s)\n"
    )
    ok(kameng("ledger", "check"))

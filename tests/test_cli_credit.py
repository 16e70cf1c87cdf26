"""``kameng credit``, ``kameng commission`` and ``kameng reports revenue`` as an operator
uses them, in-process through click's runner on the test database."""

from __future__ import annotations

from tests.test_cli_errors import Kameng, kameng, ok, refused, shop  # noqa: F401  (fixtures)


def test_an_operator_grants_shows_and_freezes_a_line(shop: Kameng) -> None:  # noqa: F811
    granted = ok(
        shop("credit", "grant", "1001", "--limit", "300.00", "--rate-bps", "5", "--term-days", "30")
    )
    assert "limit 300.00, 5 bps a day, 30 days" in granted
    # 500.00 of his own, then 92.00 × 6 = 552.00: 52.00 drawn on the line
    ok(shop("buy", "1001", "STEAM-100", "5", "--key", "a"))
    ok(shop("codes", "import", "STEAM-100", "-", stdin="C6\nC7\n"))
    ok(shop("buy", "1001", "STEAM-100", "1", "--key", "b"))
    shown = ok(shop("credit", "show", "1001"))
    assert "credit line of 1001: open" in shown
    assert "balance -52.00, drawn 52.00" in shown
    assert "credit line of 1001: frozen" in ok(shop("credit", "freeze", "1001"))
    assert refused(shop("buy", "1001", "STEAM-100", "1", "--key", "c")).startswith(
        "error: the credit line is frozen"
    )
    assert "posted 0 interest entries" in ok(shop("credit", "accrue"))  # today is not over
    assert "credit line of 1001: open" in ok(shop("credit", "freeze", "1001", "--unfreeze"))
    assert refused(shop("credit", "show", "1002")).startswith("error:")


def test_revenue_by_source_and_commission_schedules(shop: Kameng) -> None:  # noqa: F811
    ok(shop("commission", "set", "Steam", "--from-units", "0", "--rate-bps", "100"))
    assert "Steam (category:1): from 0 units 1%" in ok(shop("commission", "show"))
    ok(shop("buy", "1001", "STEAM-100", "2", "--key", "a"))
    report = ok(
        shop("reports", "revenue", "--from", "2020-01-01", "--to", "2029-12-31", "--by-source")
    )
    # 2 × 92.00 from 85.00: spread 3.50 a unit; Steam's own 1% of 88.50 = 0.89 a unit
    assert "spread" in report and "7.00" in report
    assert "1.78" in report
    lines = dict(line.split()[:2] for line in report.splitlines()[1:])
    assert lines["total"] == lines["ledger"] == "8.78"
    assert "OK" in ok(shop("ledger", "check"))
    ok(shop("commission", "remove", "Steam", "--from-units", "0"))
    assert "Steam" not in ok(shop("commission", "show"))

"""``kameng ads`` and ``kameng services`` as an operator runs them: define a slot, read its
sealed bids, grant a brand zone, price services; refusals are one line."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli_errors import Kameng, kameng, ok, refused, shop

__all__ = ["kameng", "shop"]


def test_an_operator_defines_a_slot_and_reads_its_bids(shop: Kameng) -> None:
    out = ok(
        shop(
            "ads", "slot-add", "Steam top", "--placement", "category", "--category", "Steam",
            "--reserve", "50.00", "--first-close", "2030-01-01 00:00",
        )
    )  # fmt: skip
    assert out.startswith("slot #1 Steam top: round #1 takes bids until 2030-01-01 00:00")
    listing = ok(shop("ads", "slots"))
    assert "Steam top  category:Steam  7d  reserve 50.00  nothing featured" in listing
    assert "round #1 closes 2030-01-01 00:00" in listing
    assert ok(shop("ads", "bids", "1")) == "no bids\n"
    # the category must exist; a category slot needs one
    assert "category" in refused(
        shop("ads", "slot-add", "X", "--placement", "category", "--category", "Nope",
             "--reserve", "1.00")
    )  # fmt: skip
    refused(shop("ads", "slot-add", "Y", "--placement", "category", "--reserve", "1.00"))
    # a reserve nobody may bid (above KAMENG_ADS_MAX_BID, 10,000.00 by default): a typo
    assert "at most 10000.00 CNY" in refused(
        shop("ads", "slot-add", "Z", "--placement", "home", "--reserve", "50000")
    )


def test_an_operator_grants_a_zone_and_prices_services(shop: Kameng) -> None:
    ok(shop("buy", "1001", "STEAM-100", "5", "--key", "k1"))  # the supplier earns 429.20
    out = ok(
        shop("ads", "zone-grant", "900", "Steam corner", "--days", "30", "--fee", "100.00",
             "--key", "z1")
    )  # fmt: skip
    assert "zone #1 Steam corner" in out and "fee 100.00, share 0 bps" in out
    assert "Steam corner" in ok(shop("ads", "zones"))
    line = refused(
        shop("ads", "zone-grant", "900", "Bigger", "--days", "30", "--fee", "1000.00",
             "--key", "z2")
    )  # fmt: skip
    assert "balance" in line.lower() or "payable" in line.lower()
    out = ok(
        shop("services", "price", "report-m", "--kind", "analytics_report", "--billing",
             "monthly", "--price", "99.00", "--days", "30")
    )  # fmt: skip
    assert out == "report-m  analytics_report  monthly  99.00 / 30d\n"
    assert ok(shop("services", "list")) == out
    refused(
        shop("services", "price", "x", "--kind", "search_boost", "--billing", "once",
             "--price", "-5", "--days", "3"),
        exit_code=2,
    )  # fmt: skip


def test_an_operator_writes_a_demand_report_for_a_supplier(shop: Kameng, tmp_path: Path) -> None:
    ok(shop("buy", "1001", "STEAM-100", "5", "--key", "k1"))  # the supplier earns 429.20
    ok(
        shop("services", "price", "demand", "--kind", "demand_report", "--billing", "once",
             "--price", "20.00", "--days", "1")
    )  # fmt: skip
    out_dir = tmp_path / "reports"
    out = ok(shop("services", "demand", "1", "--supplier", "900", "--offer", "demand",
                  "--out", str(out_dir)))  # fmt: skip
    assert out.splitlines()[0] == "demand report of Steam: charged 20.00"
    assert (out_dir / "demand.png").read_bytes().startswith(b"\x89PNG")
    csv = (out_dir / "demand.csv").read_text(encoding="utf-8-sig")
    assert csv.splitlines()[0].startswith("section")
    assert "STEAM-100" in csv  # the supplier's own restock line
    # the same day again: the same report, not paid twice
    again = ok(shop("services", "demand", "1", "--supplier", "900", "--offer", "demand",
                    "--out", str(out_dir)))  # fmt: skip
    assert again.splitlines()[0] == "demand report of Steam: already paid"
    # a reseller is no supplier; an unknown category is refused in one line
    refused(shop("services", "demand", "1", "--supplier", "1001", "--offer", "demand",
                 "--out", str(out_dir)))  # fmt: skip
    assert "category" in refused(
        shop("services", "demand", "99", "--supplier", "900", "--offer", "demand",
             "--out", str(out_dir))
    ).lower()  # fmt: skip
    refused(shop("services", "demand", "-1", "--supplier", "900", "--offer", "demand",
                 "--out", str(out_dir)), exit_code=2)  # fmt: skip


def test_an_operator_buys_a_boost_twice_and_it_is_extended_not_doubled(shop: Kameng) -> None:
    ok(shop("buy", "1001", "STEAM-100", "5", "--key", "k1"))  # the supplier earns 429.20
    ok(
        shop("services", "price", "boost-7", "--kind", "search_boost", "--billing", "once",
             "--price", "30.00", "--days", "7")
    )  # fmt: skip
    first = ok(shop("services", "buy", "900", "boost-7", "--sku", "STEAM-100", "--key", "b1"))
    assert first.startswith("#1 boost-7 STEAM-100: runs until ") and "charged 30.00" in first
    ends = first.split("runs until ")[1].split(",")[0]
    again = ok(shop("services", "buy", "900", "boost-7", "--sku", "STEAM-100", "--key", "b2"))
    assert again.startswith(f"#1 boost-7 STEAM-100: extended from {ends[:-4]} to "), again
    assert again.endswith("charged 30.00\n")
    replay = ok(shop("services", "buy", "900", "boost-7", "--sku", "STEAM-100", "--key", "b2"))
    assert "already bought with this key" in replay and "nothing charged" in replay
    [line] = ok(shop("services", "of", "900")).splitlines()  # one boost, not two
    assert "boost-7 STEAM-100  active  period 2" in line
    # a reseller buys no boost: one line
    refused(shop("services", "buy", "1001", "boost-7", "--sku", "STEAM-100", "--key", "b3"))

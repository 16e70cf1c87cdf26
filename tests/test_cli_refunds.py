"""A refund through ``kameng refund`` voids the codes the buyer saw: the next buyer never
gets them. ``kameng codes restock`` puts them back only as an explicit, audited act."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import main
from tests.conftest import TEST_SECRET

Kameng = Callable[..., Result]


@pytest.fixture
def kameng(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kameng:
    monkeypatch.chdir(tmp_path)  # no stray .env
    runner = CliRunner()
    env = {"KAMENG_DATABASE_URL": database_url, "KAMENG_SECRET_KEY": TEST_SECRET}

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> Result:
        done = runner.invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)
        if ok:
            assert done.exit_code == 0, done.stderr
        return done

    return run


def _shop(kameng: Kameng) -> None:
    kameng("db", "upgrade")
    kameng("user", "grant", "900", "supplier")
    kameng(
        "sku", "add", "--code", "STEAM-100", "--name", "Steam 100", "--category", "Steam",
        "--supplier", "900", "--face-value", "100.00", "--supply-price", "85.00",
        "--price", "92.00",
    )  # fmt: skip
    kameng("sku", "activate", "STEAM-100")
    kameng("codes", "import", "STEAM-100", "-", stdin="A-1\nA-2\nA-3\nA-4\nA-5\n")
    kameng("user", "grant", "1001", "reseller")
    kameng("user", "grant", "1002", "reseller")
    kameng("balance", "credit", "1001", "500", "--note", "bank")
    kameng("balance", "credit", "1002", "500", "--note", "bank")


def _stock(kameng: Kameng) -> str:
    return kameng("sku", "show", "STEAM-100").stdout


def test_a_refunded_code_never_reaches_the_next_buyer(kameng: Kameng) -> None:
    _shop(kameng)
    assert kameng("buy", "1001", "STEAM-100", "3").stdout.splitlines() == ["A-1", "A-2", "A-3"]

    refunded = kameng("refund", "1")

    assert "refunded 3 unit(s), 276.00" in refunded.stdout
    assert "stock 2" in _stock(kameng)  # the three codes the buyer saw are void, not stock
    assert kameng("buy", "1002", "STEAM-100", "2").stdout.splitlines() == ["A-4", "A-5"]
    sold_out = kameng("buy", "1002", "STEAM-100", "1", ok=False)
    assert sold_out.exit_code == 1 and "not enough stock" in sold_out.stderr
    assert "OK" in kameng("ledger", "check").stdout


def test_void_is_accepted_as_a_deprecated_no_op(kameng: Kameng) -> None:
    _shop(kameng)
    kameng("buy", "1001", "STEAM-100", "1")

    done = kameng("refund", "1", "--void")

    assert "--void is deprecated" in done.stderr and "refunded 1 unit(s)" in done.stdout
    assert "stock 4" in _stock(kameng)


def test_restock_puts_a_confirmed_unused_code_back_once_and_audited(kameng: Kameng) -> None:
    _shop(kameng)
    kameng("buy", "1001", "STEAM-100", "5")
    kameng("refund", "1", "--units", "2")  # lines 4 and 5
    no_reason = kameng("codes", "restock", "1", ok=False)
    assert no_reason.exit_code != 0 and "--reason" in no_reason.stderr

    done = kameng("codes", "restock", "1", "--units", "1", "--reason", "supplier: A-5 unused")

    assert "restocked 1 code(s) of STEAM-100 (lines 5)" in done.stdout
    assert "stock 1" in _stock(kameng)
    assert kameng("buy", "1002", "STEAM-100", "1").stdout.splitlines() == ["A-5"]
    assert "OK" in kameng("ledger", "check").stdout
    assert "chain intact" in kameng("audit", "verify").stdout

    twice = kameng("codes", "restock", "1", "--line", "5", "--reason", "again", ok=False)
    assert twice.exit_code == 1
    assert twice.stderr.strip() == "error: cannot restock: line 5 of order 1 was already restocked"
    delivered = kameng("codes", "restock", "1", "--line", "1", "--reason", "x", ok=False)
    assert "line 1 of order 1 is not refunded" in delivered.stderr
    too_many = kameng("codes", "restock", "1", "--units", "2", "--reason", "x", ok=False)
    assert "order 1 has 1 refunded code(s) to restock, 2 asked" in too_many.stderr
    assert len(too_many.stderr.strip().splitlines()) == 1
    assert "stock 0" in _stock(kameng)

"""An operator lists a direct top-up SKU with ``kameng sku add --kind direct --field …``; a
field that cannot be used is one line and exit 2, and nothing is listed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import main
from tests.conftest import TEST_SECRET

Kameng = Callable[..., Result]
SKU = (
    *("sku", "add", "--code", "MOBILE-50", "--name", "Mobile 50", "--category", "Mobile"),
    *("--supplier", "900", "--face-value", "50.00", "--supply-price", "48.00"),
    *("--price", "49.50"),
)


@pytest.fixture
def kameng(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kameng:
    monkeypatch.chdir(tmp_path)  # no stray .env
    runner = CliRunner()
    env = {"KAMENG_DATABASE_URL": database_url, "KAMENG_SECRET_KEY": TEST_SECRET}

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env, catch_exceptions=False)

    run("db", "upgrade")
    run("user", "grant", "900", "supplier")
    return run


def test_a_direct_sku_is_listed_with_its_fields_and_sold_only_with_an_account(
    kameng: Kameng,
) -> None:
    added = kameng(
        *SKU, "--kind", "direct", "--field", "phone:Phone number:手机号:1[3-9]\\d{9}",
        "--deadline-minutes", "45",
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert added.stdout.split()[1] == "MOBILE-50"
    assert kameng("sku", "activate", "MOBILE-50").exit_code == 0
    kameng("user", "grant", "1001", "reseller")
    kameng("balance", "credit", "1001", "100", "--note", "bank")

    bought = kameng("buy", "1001", "MOBILE-50", "1")  # the CLI names no account
    assert bought.exit_code != 0
    assert "account field phone is missing" in bought.stderr
    assert "100.00" in kameng("balance", "show", "1001").stdout


@pytest.mark.parametrize(
    ("extra", "says", "exit_code"),
    [
        (("--kind", "direct"), "a direct SKU needs at least one", 2),  # usage
        (("--field", "phone:Phone:手机号:1\\d{10}"), "only a direct SKU has fields", 2),
        (("--kind", "direct", "--field", "phone:Phone:手机号:1["), "invalid account field", 1),
        (  # refused by the platform
            ("--kind", "direct", "--field", "p:P:电话:1", "--deadline-minutes", "0"),
            "deadline minutes",
            1,
        ),
    ],
)
def test_a_field_that_cannot_be_used_lists_nothing(
    kameng: Kameng, extra: tuple[str, ...], says: str, exit_code: int
) -> None:
    refused = kameng(*SKU, *extra)
    assert refused.exit_code == exit_code, refused.stdout
    assert says in refused.stderr
    assert kameng("sku", "show", "MOBILE-50").exit_code != 0

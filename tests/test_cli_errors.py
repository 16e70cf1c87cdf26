"""What an operator sees when ``kameng`` refuses: one readable line on stderr, a non-zero
exit, never a traceback or a raw ``code(field=…)``. Run in-process through click's runner,
on the test database (SQLite, or PostgreSQL with ``KAMENG_TEST_DATABASE_URL``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import core.platform  # noqa: F401  (every module's KamengError subclasses, for the walk below)
from cli.main import main
from cli.render import MESSAGES, describe_error
from core.errors import (
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    InvalidInput,
    InvalidQuantity,
    KamengError,
    NotFound,
    OutOfStock,
    PriceNotAllowed,
)
from tests.conftest import POSTGRES_URL, TEST_SECRET, recreate_postgres

Kameng = Callable[..., Result]
OTHER_SECRET = "another-secret-key-0123456789abcdef012345"


@pytest.fixture
def kameng(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kameng:
    """``kameng ARGS…`` in this process, on a fresh database; ``env`` overrides settings."""
    if POSTGRES_URL:
        asyncio.run(recreate_postgres(POSTGRES_URL))
        url = POSTGRES_URL
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'kameng.db'}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    runner = CliRunner()
    base = {"KAMENG_DATABASE_URL": url, "KAMENG_SECRET_KEY": TEST_SECRET, "KAMENG_DEBUG": None}

    def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(main, list(args), input=stdin, env={**base, **(env or {})})

    return run


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.stderr
    return result.stdout


def refused(result: Result, exit_code: int = 1) -> str:
    """The one line an operator reads, after checking it is all they get."""
    assert result.exit_code == exit_code, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def shop(kameng: Kameng) -> Kameng:
    """A listed SKU (face 100.00, price 92.00) with 5 codes and a reseller with 500.00."""
    ok(kameng("db", "upgrade"))
    ok(kameng("user", "grant", "900", "supplier"))
    ok(kameng("user", "grant", "1001", "reseller"))
    ok(kameng(*SKU_ADD, "--price", "92.00"))
    ok(kameng("sku", "activate", "STEAM-100"))
    ok(kameng("codes", "import", "STEAM-100", "-", stdin="C1\nC2\nC3\nC4\nC5\n"))
    ok(kameng("balance", "credit", "1001", "500.00", "--note", "seed"))
    return kameng


SKU_ADD = (
    "sku",
    "add",
    "--code",
    "STEAM-100",
    "--name",
    "Steam 100",
    "--category",
    "Steam",
    "--supplier",
    "900",
    "--face-value",
    "100.00",
    "--supply-price",
    "85.00",
)


# the API's rules ----------------------------------------------------------------------


def test_the_same_key_with_another_quantity_is_refused_and_replays_only_the_same_request(
    shop: Kameng,
) -> None:
    first = ok(shop("buy", "1001", "STEAM-100", "1", "--key", "K"))

    assert refused(shop("buy", "1001", "STEAM-100", "2", "--key", "K")) == (
        "error: the key K was already used for a different request; use a new key for a new request"
    )
    assert ok(shop("buy", "1001", "STEAM-100", "1", "--key", "K")) == first  # same codes
    assert "balance 408.00" in ok(shop("balance", "show", "1001"))  # charged once


def test_a_price_above_face_value_or_of_zero_needs_force(shop: Kameng) -> None:
    add = (*SKU_ADD[:3], "ITUNES-1", *SKU_ADD[4:])

    assert refused(shop(*add, "--price", "120.00")) == (
        "error: price 120.00 CNY is above the face value 100.00 CNY; pass --force to allow it"
    )
    assert refused(shop(*add, "--price", "92.00", "--level-price", "gold=100.01")) == (
        "error: price 100.01 CNY is above the face value 100.00 CNY; pass --force to allow it"
    )
    assert refused(shop(*add[:-2], "--supply-price", "0", "--price", "0")) == (
        "error: price 0.00 CNY would give codes away (face value 100.00 CNY); "
        "pass --force to allow it"
    )
    assert refused(shop("sku", "show", "ITUNES-1")) == "error: no sku ITUNES-1"

    ok(shop(*add, "--price", "120.00", "--force"))
    assert "price 120.00" in ok(shop("sku", "show", "ITUNES-1"))


# plain words --------------------------------------------------------------------------


def test_quantities_are_counts_and_refunds_say_what_is_left(shop: Kameng) -> None:
    assert refused(shop("buy", "1001", "STEAM-100", "20000")) == (
        "error: quantity must be a whole number from 1 to 10,000"
    )
    assert refused(shop("buy", "1001", "STEAM-100", "6")) == (
        "error: not enough balance: short by 52.00 CNY"
    )
    bought = shop("buy", "1001", "STEAM-100", "1")
    ok(bought)
    order = bought.stderr.split()[1].rstrip(":")  # "order 7: 1 x STEAM-100"
    ok(shop("refund", order))

    assert refused(shop("refund", order)) == "error: nothing left to refund on this order"
    assert refused(shop("refund", order, "--units", "0")) == (
        "error: units must be 1 or more, not 0"
    )


def test_negative_numbers_are_refused_as_numbers_not_as_unknown_options(shop: Kameng) -> None:
    assert refused(shop("balance", "credit", "1001", "-5", "--note", "x"), 2) == (
        "error: Invalid value for 'AMOUNT': amount must be positive, not -5"
    )
    assert refused(shop("supplier", "withdraw", "900", "-1.50"), 2) == (
        "error: Invalid value for 'AMOUNT': amount must be positive, not -1.50"
    )
    assert refused(shop("buy", "1001", "STEAM-100", "-5")) == (
        "error: quantity must be a whole number from 1 to 10,000"
    )
    assert "balance 500.00" in ok(shop("balance", "show", "1001"))


def test_an_unknown_revision_is_named(kameng: Kameng) -> None:
    ok(kameng("db", "upgrade"))
    assert refused(kameng("db", "downgrade", "nonsense")) == "error: no such revision: nonsense"
    assert refused(kameng("db", "upgrade", "--revision", "nonsense")) == (
        "error: no such revision: nonsense"
    )


# the secret key -----------------------------------------------------------------------


def test_a_key_that_does_not_match_the_stored_codes_says_so_and_charges_nothing(
    shop: Kameng,
) -> None:
    other = {"KAMENG_SECRET_KEY": OTHER_SECRET}
    assert refused(shop("buy", "1001", "STEAM-100", "1", env=other), 2) == (
        "error: KAMENG_SECRET_KEY does not match the stored codes: they were encrypted with "
        "another key. Set the key this database was used with."
    )
    assert "balance 500.00" in ok(shop("balance", "show", "1001"))
    assert "stock 5" in ok(shop("sku", "show", "STEAM-100"))


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("short-key", "9 characters, fewer than 32"),
        (f" {TEST_SECRET}", "it has spaces, quotes or other characters a key never has"),
        (f'"{TEST_SECRET}"', "it has spaces, quotes or other characters a key never has"),
    ],
)
def test_a_malformed_key_is_called_malformed(shop: Kameng, key: str, reason: str) -> None:
    assert refused(shop("balance", "show", "1001", env={"KAMENG_SECRET_KEY": key}), 2) == (
        f"error: KAMENG_SECRET_KEY is malformed: {reason}. A key is at least 32 characters "
        "of letters, digits, '-' and '_', as `kameng secret generate` prints it."
    )


def test_no_key_is_not_set(kameng: Kameng) -> None:
    assert refused(kameng("balance", "show", "1", env={"KAMENG_SECRET_KEY": ""}), 2).startswith(
        "error: KAMENG_SECRET_KEY is not set."
    )


# anything else ------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(kameng: Kameng) -> None:
    nowhere = {"KAMENG_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"}

    line = refused(kameng("db", "upgrade", env=nowhere))
    assert line.startswith("error: unexpected ConnectionRefusedError: ")
    assert line.endswith("(run with --debug or KAMENG_DEBUG=1 for the traceback)")

    debugged = kameng("--debug", "db", "upgrade", env=nowhere)
    assert isinstance(debugged.exception, ConnectionRefusedError)


def test_a_usage_mistake_is_one_line(shop: Kameng) -> None:
    assert refused(shop("buy", "1001"), 2) == "error: Missing argument 'CODE'."
    assert refused(shop("bogus"), 2) == "error: No such command 'bogus'. (see 'main --help')"


def _every_error_class(base: type[KamengError] = KamengError) -> list[type[KamengError]]:
    found = [base]
    for sub in base.__subclasses__():
        found.extend(_every_error_class(sub))
    return found


def test_every_platform_error_has_a_sentence() -> None:
    missing = [cls.__name__ for cls in _every_error_class() if cls.code not in MESSAGES]
    assert missing == []


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (NotFound(kind="quantity_break", ref="7"), "no quantity break 7"),
        (
            InvalidQuantity(quantity=0, max=10_000),
            "quantity must be a whole number from 1 to 10,000",
        ),
        (
            InvalidAmount(amount=0, max=5_000_000),
            "amount must be above 0.00 CNY and at most 50000.00 CNY",
        ),
        (OutOfStock(sku="S", available=2, requested=3), "not enough stock of S: 2 left, 3 asked"),
        (InsufficientBalance(shortfall=1_50), "not enough balance: short by 1.50 CNY"),
        (
            IdempotencyConflict(key="k"),
            "the key k was already used for a different request; use a new key for a new request",
        ),
        (
            InvalidInput(field="units", value=3, refundable=2),
            "units must be 1 to 2: 2 left to refund",
        ),
        (
            InvalidInput(field="units", value=0, refundable=0),
            "nothing left to refund on this order",
        ),
        (InvalidInput(field="sku_code", value="S", reason="taken"), "sku code S is already taken"),
        (
            InvalidInput(field="price", value=80_00, min=85_00),
            "price 80.00 CNY is below the supply price 85.00 CNY",
        ),
        (
            PriceNotAllowed(reason="above_face_value", price=101_00, face_value=100_00),
            "price 101.00 CNY is above the face value 100.00 CNY; pass --force to allow it",
        ),
    ],
)
def test_refusals_read_as_sentences(error: KamengError, line: str) -> None:
    assert describe_error(error, "CNY") == line

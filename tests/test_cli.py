"""The operator's flow through the real ``kameng`` command, as a shell script would run it
(in-process through click's CliRunner; one test starts the installed entry point)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli_runner import Done, run_kameng
from tests.conftest import TEST_SECRET


@pytest.fixture
def kameng(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {
        "KAMENG_DATABASE_URL": database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
    }

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> Done:
        done = run_kameng(*args, stdin=stdin, env=env, cwd=tmp_path)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return run


def test_operator_flow_from_empty_database_to_codes_on_stdout(kameng) -> None:  # type: ignore[no-untyped-def]
    kameng("db", "upgrade")
    kameng("user", "grant", "900", "supplier")
    added = kameng(
        "sku",
        "add",
        "--code",
        "STEAM-100",
        "--name",
        "Steam 100 CNY",
        "--category",
        "Steam",
        "--supplier",
        "900",
        "--face-value",
        "100.00",
        "--supply-price",
        "85.00",
        "--price",
        "92.00",
        "--level-price",
        "gold=90.00",
    )
    assert added.stdout.split()[1] == "STEAM-100"
    kameng("sku", "activate", "STEAM-100")
    imported = kameng("codes", "import", "STEAM-100", "-", stdin="A-1\nA-2\nA-3\nA-1\n\n")
    assert "added 3" in imported.stdout and "duplicate in file 1" in imported.stdout
    kameng("user", "grant", "1001", "reseller")
    kameng("user", "level", "1001", "gold")
    assert "balance 200.00" in kameng("balance", "credit", "1001", "200", "--note", "bank").stdout

    bought = kameng("buy", "1001", "STEAM-100", "2")

    assert bought.stdout.splitlines() == ["A-1", "A-2"]  # codes and nothing else on stdout
    assert "balance 20.00" in kameng("balance", "show", "1001").stdout
    # gold pays 90.00: spread 5.00 → 2.50 each side; 87.50 less 3 % (2.63) = 84.87 per unit
    assert "payable 169.74" in kameng("supplier", "show", "900").stdout
    assert "OK" in kameng("ledger", "check").stdout
    assert "chain intact" in kameng("audit", "verify").stdout


def test_clear_errors_and_non_zero_exits(kameng) -> None:  # type: ignore[no-untyped-def]
    kameng("db", "upgrade")
    malformed = kameng("balance", "credit", "1", "12.345", "--note", "x", ok=False)
    assert malformed.returncode != 0 and "malformed amount" in malformed.stderr
    unknown = kameng("balance", "show", "424242", ok=False)
    assert unknown.returncode == 1 and "no user 424242" in unknown.stderr
    missing_sku = kameng("sku", "activate", "NOPE-1", ok=False)
    assert missing_sku.returncode == 1 and "no sku NOPE-1" in missing_sku.stderr


def test_refuses_to_start_without_a_secret_key(database_url: str, tmp_path: Path) -> None:
    env = {"KAMENG_SECRET_KEY": None, "KAMENG_DATABASE_URL": database_url}
    done = run_kameng("balance", "show", "1", env=env, cwd=tmp_path)
    assert done.returncode == 2 and "KAMENG_SECRET_KEY is not set" in done.stderr


def test_the_installed_kameng_command_runs_as_its_own_process(
    database_url: str, tmp_path: Path
) -> None:
    """The one real process: the console script pip installed, its exit code and output."""
    installed = shutil.which("kameng", path=str(Path(sys.executable).parent))
    assert installed is not None, "the kameng entry point is not installed (pip install -e .)"
    done = subprocess.run(
        [installed, "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**os.environ, "KAMENG_DATABASE_URL": database_url},
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "database at head\n"

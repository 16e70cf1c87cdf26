"""``kameng codes import`` reads files with the one parser (core/delivery/sources.py):
every line read is in exactly one count, whatever the encoding or shape of the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import main
from tests.conftest import TEST_SECRET

# name, file bytes, (lines, added, dup. in file, dup. on platform, invalid, blank, header)
SAMPLES: list[tuple[str, bytes, tuple[int, int, int, int, int, int, int]]] = [
    ("utf8 plain, a repeat, a blank", b"A1\nA2\n\nA1\n", (4, 2, 1, 0, 0, 1, 0)),
    ("utf8 with BOM keeps line 1", "\ufeffB1\nB2\n".encode(), (2, 2, 0, 0, 0, 0, 0)),
    (
        "GB18030 with a zh header, two columns",
        "卡号,卡密\n卡-001,密码1\n卡-002,密码2\n".encode("gb18030"),
        (3, 2, 0, 0, 0, 0, 1),
    ),
    (
        "UTF-16 with BOM, tab-separated, en header",
        "number\tpassword\nU1\tP1\n\nU2\tP2\n".encode("utf-16"),
        (4, 2, 0, 0, 0, 1, 1),
    ),
    ("UTF-16 LE without BOM", "N-1\r\nN-2\r\n".encode("utf-16-le"), (2, 2, 0, 0, 0, 0, 0)),
    ("quoted CSV", b'"Q-1"\n"Q-2"\n"Q ""3"""\n"Q-4\n', (4, 3, 0, 0, 1, 0, 0)),
    ("random bytes", b"R-1\n\x8f\xff\x00\xa3\n\xc3\x28\xff\nR-2\n", (4, 2, 0, 0, 2, 0, 0)),
    (
        "GB18030 with one broken line",
        "卡-1\n".encode("gb18030") + b"\xff\xfe\xfd\n" + "卡-2\n".encode("gb18030"),
        (3, 2, 0, 0, 1, 0, 0),
    ),
    (
        "control and format characters",
        b"C-1\nC\x07-2\nC\xe2\x80\x8b-3\n\x1b[31mC-4\n",
        (4, 1, 0, 0, 3, 0, 0),
    ),
    ("blank lines", b"\n\n  \nD-1\r\n\r\n", (5, 1, 0, 0, 0, 4, 0)),
    (
        "two columns without header",
        b"T-1,P-1\nT-2,P-2\nT-1,P-1\nT-1,P-9\n",
        (4, 3, 1, 0, 0, 0, 0),
    ),
    (
        "header, unknown column, header again, missing number, too many columns",
        "卡号,卡密,面值\nH-1,HP-1,100\n卡号,卡密,面值\nH-2,,100\n,HP-3,100\na,b,c,d\n".encode(),
        (6, 2, 0, 0, 3, 0, 1),
    ),
]

COUNT_NAMES = (
    "lines",
    "added",
    "duplicate in file",
    "duplicate on platform",
    "invalid",
    "blank",
    "header",
)


@pytest.fixture
def kameng(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    env = {"KAMENG_DATABASE_URL": database_url, "KAMENG_SECRET_KEY": TEST_SECRET}
    runner = CliRunner()

    def run(*args: str, stdin: bytes | None = None) -> Result:
        result = runner.invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    run("db", "upgrade")
    run("user", "grant", "900", "supplier")
    run("user", "grant", "1001", "reseller")
    run(
        *("sku", "add", "--code", "CARD", "--name", "Card", "--category", "Cards"),
        *("--supplier", "900", "--face-value", "100.00", "--supply-price", "85.00"),
        *("--price", "92.00"),
    )
    run("sku", "activate", "CARD")
    return run


def counts(output: str) -> tuple[int, ...]:
    found = dict(re.findall(r"^([a-z ]+) (\d+)$", output, re.MULTILINE))
    return tuple(int(found[name]) for name in COUNT_NAMES)


def test_every_line_of_every_sample_file_is_counted_once(kameng, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for name, data, expected in SAMPLES:
        path = tmp_path / "codes.csv"
        path.write_bytes(data)

        first = counts(kameng("codes", "import", "CARD", str(path)).output)
        again = counts(kameng("codes", "import", "CARD", "-", stdin=data).output)

        lines, added, in_file, on_platform, invalid, blank, header = first
        assert first == expected, name
        assert added + in_file + on_platform + invalid + blank + header == lines, name
        # the same file again: what was added is now on the platform, the rest unchanged
        assert again == (lines, 0, in_file, on_platform + added, invalid, blank, header), name


def test_codes_come_out_as_they_were_written(kameng) -> None:  # type: ignore[no-untyped-def]
    gb18030_two_columns = "卡号,卡密\n卡-001,密码1\n".encode("gb18030")
    kameng("codes", "import", "CARD", "-", stdin=gb18030_two_columns)
    kameng("codes", "import", "CARD", "-", stdin='\ufeff"QUOTED-1"\n'.encode())
    kameng("balance", "credit", "1001", "500", "--note", "seed")

    bought = kameng("buy", "1001", "CARD", "2")

    # no mojibake, no header, no quotes, no BOM; a card's number and password tab-separated
    assert bought.stdout.splitlines() == ["卡-001\t密码1", "QUOTED-1"]

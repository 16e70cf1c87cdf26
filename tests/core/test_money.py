from __future__ import annotations

import pytest

from core.money import (
    MalformedAmount,
    format_amount,
    parse_amount,
    parse_percent_bps,
    parse_positive_amount,
)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("100", 100_00),
        ("100.00", 100_00),
        ("100.5", 100_50),
        ("0.01", 1),
        (" 7.10 ", 7_10),
        ("-3.20", -3_20),
    ],
)
def test_parse_amount(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text", ["1.234", "1e3", "1,000", "", "abc", "1.", ".5", "NaN"])
def test_malformed_amounts_are_refused(text: str) -> None:
    with pytest.raises(MalformedAmount):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("100.00", 100_00),
        (" 0.01 ", 1),
        ("0", None),
        ("0.00", None),
        ("-5", None),
        ("1.234", None),
        ("", None),
        (None, None),
    ],
)
def test_a_positive_typed_amount_or_none(text: str | None, minor: int | None) -> None:
    assert parse_positive_amount(text) == minor


@pytest.mark.parametrize(
    ("minor", "text"), [(0, "0.00"), (1, "0.01"), (88_50, "88.50"), (-3_20, "-3.20")]
)
def test_format_amount(minor: int, text: str) -> None:
    assert format_amount(minor) == text


def test_percent_in_basis_points() -> None:
    assert parse_percent_bps("2.5%") == 250
    with pytest.raises(ValueError):
        parse_percent_bps("2.555")

"""Money is an ``int`` of minor units (fen, cents). Parsing and formatting live here only."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

MINOR_PER_MAJOR = 100
BPS = 10_000  # basis points in one whole

_AMOUNT = re.compile(r"^(-)?(\d{1,12})(?:\.(\d{1,2}))?$")


class MalformedAmount(ValueError):
    def __init__(self, text: str) -> None:
        super().__init__(f"malformed amount {text!r}: use major units like 100 or 100.00")
        self.text = text


def parse_amount(text: str) -> int:
    """``"100.5"`` → ``10050``. Rejects more than two decimals, exponents, commas, blanks."""
    match = _AMOUNT.match(text.strip())
    if not match:
        raise MalformedAmount(text)
    sign, whole, frac = match.groups()
    minor = int(whole) * MINOR_PER_MAJOR + int((frac or "0").ljust(2, "0"))
    return -minor if sign else minor


def parse_positive_amount(text: str | None) -> int | None:
    """An amount someone typed to pay or move money (a top-up, a withdrawal): above zero,
    else None (malformed, zero or negative), for the caller to ask again."""
    try:
        minor = parse_amount(text or "")
    except MalformedAmount:
        return None
    return minor if minor > 0 else None


def format_amount(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), MINOR_PER_MAJOR)
    return f"{sign}{whole}.{frac:02d}"


def apply_bps_discount(amount: int, discount_bps: int) -> int:
    """``amount`` less ``discount_bps``, rounded half-up to the fen, once."""
    exact = Decimal(amount) * (BPS - discount_bps) / BPS
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_percent_bps(text: str) -> int:
    """``"2.5"`` or ``"2.5%"`` → 250 basis points."""
    cleaned = text.strip().removesuffix("%")
    try:
        value = Decimal(cleaned)
    except ArithmeticError as exc:
        raise ValueError(f"malformed percent {text!r}") from exc
    bps = value * 100
    if bps != bps.to_integral_value() or not 0 <= bps <= BPS:
        raise ValueError(f"percent {text!r} must be 0–100 with at most two decimals")
    return int(bps)

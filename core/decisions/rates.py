"""The exchange rates admins set — the price of 1 USDT, the fen one Telegram Star credits —
decided by one rule. Pure: no database, no clock.

A rate multiplies every top-up paid in it, so a typo (200 for 20, 72.50 for 7.25) credits
ten times too much or too little until someone notices. Two guards, the same for each rate:
a rate outside its currency's sane range is refused whatever the admin says, and one moving
the rate in force by more than ``CONFIRM_ABOVE_BPS`` is set only once he confirms it (a typo
inside the range still changes what every top-up credits).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import RateRefused

#: A new rate further than this from the one in force (basis points of it) needs a yes.
CONFIRM_ABOVE_BPS = 2_000

#: A sane price of 1 USDT (a US-dollar stablecoin) in the deployment's currency, in minor
#: units: wide enough for years of market moves, narrow enough that a slipped decimal point
#: (72.50 for 7.25) falls outside.
USDT_RANGES: dict[str, tuple[int, int]] = {
    "CNY": (5_00, 10_00),
    "HKD": (6_00, 10_00),
    "USD": (80, 1_20),
    "EUR": (60, 1_40),
}

#: A sane credit for 1 Telegram Star, in minor units of the deployment's currency. Telegram
#: sells stars to users at about US$0.013 each (more through the app stores, up to ~$0.02)
#: and pays bots about the same: 1.3 US cents, ¥0.094 at 7.2 CNY to the dollar. A shop
#: pricing stars at a discount or a premium stays within a factor of three of that — ~0.4 to
#: ~4 US cents, 3 to 30 fen — while a slipped digit (200 fen for 20, 20 cents for 2) is out.
#: Minor units are whole, so a dollar or euro shop's floor is 1 cent.
STARS_RANGES: dict[str, tuple[int, int]] = {
    "CNY": (3, 30),
    "HKD": (3, 30),
    "USD": (1, 4),
    "EUR": (1, 4),
}

#: The ranges of each rate, by the name the rate goes by (``RateRefused``'s ``of``).
RANGES: dict[str, dict[str, tuple[int, int]]] = {"usdt": USDT_RANGES, "stars": STARS_RANGES}


@dataclass(frozen=True)
class RateAccepted:
    """Set it."""


@dataclass(frozen=True)
class RateToConfirm:
    """Set it only when the admin confirms: it moves the rate by ``change_bps``."""

    change_bps: int


@dataclass(frozen=True)
class RateOutOfRange:
    """Refused whatever the admin says: outside ``low``..``high``."""

    low: int
    high: int


RateDecision = RateAccepted | RateToConfirm | RateOutOfRange


def decide_rate_change(
    current: int | None,
    new: int,
    sane_range: tuple[int, int] | None,
    confirm_above_bps: int = CONFIRM_ABOVE_BPS,
) -> RateDecision:
    """Whether ``new`` may replace ``current`` (None: the first rate). ``sane_range``: the
    lowest and highest sane rate, None when none is known (the confirmation still guards)."""
    if new <= 0:
        raise ValueError("a rate must be positive")
    if sane_range is not None and not sane_range[0] <= new <= sane_range[1]:
        return RateOutOfRange(*sane_range)
    if current is None or current <= 0:
        return RateAccepted()
    change_bps = abs(new - current) * 10_000 // current
    if change_bps > confirm_above_bps:
        return RateToConfirm(change_bps)
    return RateAccepted()


def rate_refusal(
    of: str,
    new: int,
    current: int | None,
    *,
    currency: str,
    confirmed: bool = False,
    replacing: int | None = None,
) -> RateRefused | None:
    """Why rate ``of`` (``usdt`` | ``stars``) may not become ``new`` now, or None: set it.
    ``replacing`` is the rate in force the admin saw when he confirmed; another one in force
    by now (his own second press, another admin's change) refuses it with ``changed``."""
    if replacing is not None and current != replacing:
        return RateRefused(of=of, reason="changed", rate=new, expected=replacing, current=current)
    decision = decide_rate_change(current, new, RANGES[of].get(currency.upper()))
    if isinstance(decision, RateOutOfRange):
        return RateRefused(
            of=of,
            reason="range",
            rate=new,
            low=decision.low,
            high=decision.high,
            currency=currency.upper(),
        )
    if isinstance(decision, RateToConfirm) and not confirmed:
        return RateRefused(
            of=of, reason="confirm", rate=new, current=current, change_bps=decision.change_bps
        )
    return None

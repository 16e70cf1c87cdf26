"""How one unit's price is shared between supplier and platform, pure.

    spread             = price − supply price
    supplier's spread  = ⌊spread × ratio⌋                 (platform keeps the rest)
    supplier gross     = supply price + supplier's spread
    commission         = ⌈supplier gross × ladder rate⌉   (rounded toward the platform)
    supplier net       = supplier gross − commission

The three parts add up to the price exactly; every rounding remainder is the platform's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.money import BPS


@dataclass(frozen=True)
class LadderTier:
    min_units: int
    rate_bps: int


@dataclass(frozen=True)
class UnitSplit:
    supplier: int
    platform_spread: int
    platform_commission: int

    @property
    def total(self) -> int:
        return self.supplier + self.platform_spread + self.platform_commission


# The ladder counts a supplier's units over this trailing window (the sale being charged
# and the payout statement both read it from here).
LADDER_WINDOW = timedelta(days=30)


def ladder_tier(tiers: Sequence[LadderTier], units_sold_30d: int) -> LadderTier:
    """The tier with the highest threshold the supplier's trailing volume reaches."""
    reached = [t for t in tiers if t.min_units <= units_sold_30d]
    if not reached:
        return LadderTier(min_units=0, rate_bps=0)
    return max(reached, key=lambda t: t.min_units)


DEFAULT_SCHEDULE = "default"
EXCLUSIVE_SCHEDULE = "exclusive"


def category_schedule(category_id: int) -> str:
    return f"category:{category_id}"


def choose_schedule(
    exclusive: bool,
    category_id: int,
    default: Sequence[LadderTier],
    exclusive_ladder: Sequence[LadderTier],
    category_ladder: Sequence[LadderTier],
) -> tuple[str, tuple[LadderTier, ...]]:
    """Which commission schedule a sale uses: an exclusive SKU the exclusive ladder (kept
    whatever its category), else its category's own ladder, else the default one."""
    if exclusive:
        return EXCLUSIVE_SCHEDULE, tuple(exclusive_ladder)
    if category_ladder:
        return category_schedule(category_id), tuple(category_ladder)
    return DEFAULT_SCHEDULE, tuple(default)


def split_unit(
    price: int, supply_price: int, spread_supplier_bps: int, commission_bps: int
) -> UnitSplit:
    if price < supply_price:
        raise ValueError("a sale price below the supply price cannot be split")
    spread = price - supply_price
    supplier_spread = spread * spread_supplier_bps // BPS
    gross = supply_price + supplier_spread
    commission = -(-gross * commission_bps // BPS)  # ceiling division
    return UnitSplit(
        supplier=gross - commission,
        platform_spread=spread - supplier_spread,
        platform_commission=commission,
    )

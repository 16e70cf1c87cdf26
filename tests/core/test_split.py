"""How a unit's price is shared: the trade's worked example, ladder tiers, exact sums."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.models import Role
from core.platform import Platform
from core.pricing.split import LadderTier, UnitSplit, ladder_tier, split_unit

LADDER = [LadderTier(0, 300), LadderTier(1000, 200), LadderTier(10000, 100)]


def test_worked_example_from_the_trade() -> None:
    # face 100.00, supply 85.00, sold at 92.00, spread 50/50, no commission
    assert split_unit(92_00, 85_00, 5000, 0) == UnitSplit(
        supplier=88_50, platform_spread=3_50, platform_commission=0
    )


# The README's "Commission ladder" table and worked example, number by number.
DEFAULT_NORMAL = [LadderTier(0, 300), LadderTier(1000, 200), LadderTier(10000, 100)]
DEFAULT_EXCLUSIVE = [LadderTier(0, 150), LadderTier(1000, 100), LadderTier(10000, 50)]


@pytest.mark.parametrize(
    ("price", "supply", "ratio", "units_30d", "gross", "supplier", "spread", "commission"),
    [
        # face 100.00, supply 85.00, sold at 92.00, 50/50, a newcomer: 3 %
        (92_00, 85_00, 5000, 0, 88_50, 85_84, 3_50, 2_66),
    ],
)
def test_the_readme_example(
    price: int,
    supply: int,
    ratio: int,
    units_30d: int,
    gross: int,
    supplier: int,
    spread: int,
    commission: int,
) -> None:
    tier = ladder_tier(DEFAULT_NORMAL, units_30d)
    assert split_unit(price, supply, ratio, 0).supplier == gross  # before commission
    assert split_unit(price, supply, ratio, tier.rate_bps) == UnitSplit(
        supplier, spread, commission
    )


async def test_the_readme_tiers_are_the_seeded_defaults(platform: Platform) -> None:
    await platform.catalogue.grant_role(7, Role.ADMIN, actor="test")
    view = await platform.pricing_admin.ladder(7)
    assert [LadderTier(t.min_units, t.rate_bps) for t in view.normal] == DEFAULT_NORMAL
    assert [LadderTier(t.min_units, t.rate_bps) for t in view.exclusive] == DEFAULT_EXCLUSIVE
    assert view.spread_supplier_bps == 5000


@pytest.mark.parametrize(
    ("units_30d", "rate"),
    [(0, 300), (999, 300), (1000, 200), (9999, 200), (10000, 100), (250_000, 100)],
)
def test_ladder_rate_falls_as_volume_grows(units_30d: int, rate: int) -> None:
    assert ladder_tier(LADDER, units_30d).rate_bps == rate


@pytest.mark.parametrize(
    ("price", "supply", "ratio", "rate", "expected"),
    [
        # newcomer at 3 %: gross 88.50, commission ⌈2.655⌉ = 2.66
        (92_00, 85_00, 5000, 300, UnitSplit(85_84, 3_50, 2_66)),
        # 1,000+ units at 2 %: commission 1.77
        (92_00, 85_00, 5000, 200, UnitSplit(86_73, 3_50, 1_77)),
        # 10,000+ units at 1 %: ⌈0.885⌉ = 0.89
        (92_00, 85_00, 5000, 100, UnitSplit(87_61, 3_50, 89)),
        # an odd spread: 0.01 of spread rounds to the platform
        (10_01, 10_00, 5000, 0, UnitSplit(10_00, 1, 0)),
        # supplier keeps 70 % of a 4.90 spread (3.43), exclusive at 1.5 %: ⌈0.72645⌉ = 0.73
        (49_90, 45_00, 7000, 150, UnitSplit(47_70, 1_47, 73)),
        # sold at the supply price: no spread, commission only
        (85_00, 85_00, 5000, 300, UnitSplit(82_45, 0, 2_55)),
    ],
)
def test_split_examples(
    price: int, supply: int, ratio: int, rate: int, expected: UnitSplit
) -> None:
    assert split_unit(price, supply, ratio, rate) == expected


@given(
    supply=st.integers(0, 10_000_00),
    markup=st.integers(0, 1_000_00),
    ratio=st.integers(0, 10_000),
    rate=st.integers(0, 10_000),
)
def test_parts_add_up_to_the_price_and_round_toward_the_platform(
    supply: int, markup: int, ratio: int, rate: int
) -> None:
    price = supply + markup
    split = split_unit(price, supply, ratio, rate)
    assert split.total == price
    assert min(split.supplier, split.platform_spread, split.platform_commission) >= 0
    # the supplier never gets more than the exact rational share
    exact_supplier = (supply + markup * ratio / 10_000) * (1 - rate / 10_000)
    assert split.supplier <= exact_supplier + 1e-6


def test_a_price_below_supply_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="below the supply price"):
        split_unit(84_99, 85_00, 5000, 0)

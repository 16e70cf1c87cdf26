"""Commission schedules per category: which ladder a sale uses (worked examples), a change
applying to sales after it and never to past ones, and the supplier's statement naming the
schedule and tier of each sale."""

from __future__ import annotations

import pytest

from core.errors import Forbidden, InvalidInput, NotFound
from core.platform import Platform
from core.pricing.split import LadderTier, choose_schedule
from tests.conftest import FakeClock
from tests.factories import SUPPLIER_TID, make_reseller, make_sku

DEFAULT = (LadderTier(0, 300), LadderTier(1000, 200))
EXCLUSIVE = (LadderTier(0, 150),)
GAME_CARDS = (LadderTier(0, 100), LadderTier(500, 50))


@pytest.mark.parametrize(
    ("exclusive", "category_ladder", "schedule", "ladder"),
    [
        (False, (), "default", DEFAULT),  # a category without its own: the default
        (False, GAME_CARDS, "category:7", GAME_CARDS),  # its own ladder
        (True, GAME_CARDS, "exclusive", EXCLUSIVE),  # the exclusive flag's schedule is kept
        (True, (), "exclusive", EXCLUSIVE),
    ],
)
def test_which_schedule_a_sale_uses(
    exclusive: bool,
    category_ladder: tuple[LadderTier, ...],
    schedule: str,
    ladder: tuple[LadderTier, ...],
) -> None:
    assert choose_schedule(exclusive, 7, DEFAULT, EXCLUSIVE, category_ladder) == (
        schedule,
        ladder,
    )


async def test_a_change_applies_to_later_sales_only(platform: Platform, clock: FakeClock) -> None:
    await make_sku(platform, stock=10, category="Game cards")  # 92.00 from 85.00
    await make_sku(platform, "XBOX-EX", stock=5, category="Game cards", exclusive=True)
    await make_reseller(platform, 1001, balance=1000_00)
    await platform.shop.buy_now(1001, "STEAM-100", 1, idempotency_key="before")
    clock.advance(minutes=1)
    # staples pay less: 1% from the first unit, 0.5% from 500
    await platform.commission.set_tier(None, "Game cards", min_units=0, rate_bps=100)
    view = await platform.commission.set_tier(None, "Game cards", min_units=500, rate_bps=50)
    assert (view.label, view.tiers) == ("Game cards", ((0, 100), (500, 50)))
    clock.advance(minutes=1)
    await platform.shop.buy_now(1001, "STEAM-100", 1, idempotency_key="after")
    await platform.shop.buy_now(1001, "XBOX-EX", 1, idempotency_key="exclusive")

    earnings = await platform.supplier_payouts.earnings(SUPPLIER_TID)
    by_order = {sale.order_id: sale for sale in earnings.sales}
    before, after, exclusive = by_order[1], by_order[2], by_order[3]
    # before the change: the default 3% of 88.50 = 2.66 (rounded up), kept as it was
    assert (before.schedule, before.commission_bps, before.commission) == ("default", 300, 2_66)
    # after: Game cards' 1% = 0.89, tier from 0 units
    assert (after.schedule, after.commission_bps, after.commission) == (
        "category:Game cards",
        100,
        89,
    )
    assert after.tier.min_units == 0
    # exclusive: 1.5% of 88.50 = 1.33 (rounded up), whatever the category
    assert (exclusive.schedule, exclusive.commission_bps, exclusive.commission) == (
        "exclusive",
        150,
        1_33,
    )

    # removing the category's tiers: the default applies again, to later sales
    await platform.commission.remove_tier(None, "Game cards", min_units=500)
    view = await platform.commission.remove_tier(None, "Game cards", min_units=0)
    assert view.tiers == ()
    await platform.shop.buy_now(1001, "STEAM-100", 1, idempotency_key="again")
    again = (await platform.supplier_payouts.earnings(SUPPLIER_TID)).sales[0]
    assert (again.schedule, again.commission_bps) == ("default", 300)


async def test_schedule_edits_are_checked(platform: Platform) -> None:
    await make_sku(platform)
    await make_reseller(platform, 1001)
    with pytest.raises(Forbidden):
        await platform.commission.set_tier(1001, "Steam", min_units=0, rate_bps=100)
    with pytest.raises(NotFound):
        await platform.commission.set_tier(None, "No such", min_units=0, rate_bps=100)
    with pytest.raises(InvalidInput):
        await platform.commission.set_tier(None, "Steam", min_units=0, rate_bps=10_000)
    with pytest.raises(InvalidInput):
        await platform.commission.remove_tier(None, "default", min_units=0)

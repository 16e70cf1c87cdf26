"""The commission ladder reads each supplier's own units over exactly the trailing 30 days."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Order, Role, StockKind
from core.orders import Receipt
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import make_reseller, make_sku

RESELLER = 1001
SUPPLIER_A, SUPPLIER_B = 900, 901


async def buy(platform: Platform, sku: str, quantity: int) -> int:
    """Buys and returns the commission rate (bps) the order was split with."""
    quote = await platform.quotes.quote(RESELLER, sku, quantity)
    receipt = await platform.shop.buy(RESELLER, quote.id)
    assert isinstance(receipt, Receipt)
    async with platform.db.reading() as session:
        rate = await session.scalar(
            select(Order.commission_bps).where(Order.id == receipt.order_id)
        )
    assert rate is not None
    return rate


async def test_the_rate_falls_at_1000_units_and_rises_when_they_leave_the_window(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, "KEY-A", stock=1, stock_kind=StockKind.CYCLIC, supplier=SUPPLIER_A)
    await make_sku(platform, "KEY-B", stock=1, stock_kind=StockKind.CYCLIC, supplier=SUPPLIER_B)
    await make_reseller(platform, RESELLER, balance=1_100 * 92_00)

    assert await buy(platform, "KEY-A", 999) == 300  # 0 units before it
    clock.advance(days=1)
    assert await buy(platform, "KEY-A", 1) == 300  # 999 before it
    assert await buy(platform, "KEY-A", 1) == 200  # 1,000 before it
    assert await buy(platform, "KEY-B", 1) == 300  # another supplier's volume is its own

    # 29 days 23 hours after the big order it still counts; a second after 30 days it does not
    clock.advance(days=28, hours=23)
    assert await buy(platform, "KEY-A", 1) == 200
    clock.advance(hours=1, seconds=1)
    assert await buy(platform, "KEY-A", 1) == 300  # 3 units left in the window


async def test_a_sale_is_charged_by_its_skus_ladder_as_the_admin_left_it(
    platform: Platform,
) -> None:
    await make_sku(platform, "KEY-N", stock=1, stock_kind=StockKind.CYCLIC, supplier=SUPPLIER_A)
    await make_sku(
        platform,
        "KEY-X",
        stock=1,
        stock_kind=StockKind.CYCLIC,
        exclusive=True,
        supplier=SUPPLIER_A,
    )
    await make_reseller(platform, RESELLER, balance=10 * 92_00)
    assert await buy(platform, "KEY-N", 1) == 300  # the normal ladder's base tier
    assert await buy(platform, "KEY-X", 1) == 150  # the exclusive ladder's
    admin = 7
    await platform.catalogue.grant_role(admin, Role.ADMIN, actor="test")
    await platform.pricing_admin.set_tier(admin, exclusive=False, min_units=2, rate_bps=250)
    assert await buy(platform, "KEY-N", 1) == 250  # 2 units sold before it: the new tier
    assert await buy(platform, "KEY-X", 1) == 150  # the exclusive ladder did not change

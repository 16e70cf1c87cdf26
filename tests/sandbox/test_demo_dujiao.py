"""The demo with a Dujiao-Next shop's order: the gold reseller's shop bought one card over
the Dujiao-Next upstream protocol; it is in their history under the shop's order number,
and the books still check out."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.checks import check_ledger
from core.db import Database
from core.models import DujiaoOrder
from core.platform import build_platform
from core.settings import Settings
from sandbox.demo import build_demo
from sandbox.demo_dujiao import ORDER_NO
from sandbox.personas import RESELLER_GOLD

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def test_the_demo_has_a_dujiao_shops_order(settings: Settings, db: Database) -> None:
    await build_demo(settings, now=NOW)
    platform = build_platform(settings, db=db)
    async with db.reading() as session:
        row = await session.scalar(select(DujiaoOrder).where(DujiaoOrder.order_no == ORDER_NO))
    assert row is not None
    receipt = await platform.shop.order(RESELLER_GOLD.telegram_id, row.order_id)
    assert receipt.quantity == 1 and len(receipt.codes) == 1
    assert (await check_ledger(db)).ok
    await platform.close()

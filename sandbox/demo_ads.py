"""The demo's other revenue: a featured slot sold at the second price, another taking bids,
a brand zone, and paid services bought — made through the core's use cases, with the
job runner closing the auction as the scheduler does."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from core.jobs import JobRunner
from core.models import AdPlacement, ServiceBilling, ServiceKind
from core.platform import Platform
from sandbox.personas import ADMIN, RESELLER_GOLD, SECOND_SUPPLIER, SUPPLIER

HOME_SLOT = "首页推荐 First screen"
GAMES_SLOT = "游戏点卡置顶 Game cards top"
ZONE = "Leo Keys 正版软件专区"
BEGINS = timedelta(minutes=24)  # before now: after the history, before today's promotions


class SettableClock(Protocol):
    def now(self) -> datetime: ...

    def set(self, moment: datetime) -> None: ...


async def show_revenue_levers(
    platform: Platform, clock: SettableClock, now: datetime, games: str
) -> None:
    admin = ADMIN.telegram_id
    clock.set(now - BEGINS)
    home = await platform.ads.define_slot(
        admin,
        HOME_SLOT,
        AdPlacement.HOME,
        period_days=7,
        reserve=30_00,
        first_close=now - BEGINS + timedelta(minutes=2),
    )
    assert home.open_round is not None
    await platform.ads.bid(SUPPLIER.telegram_id, home.open_round, "STEAM-100", 80_00)
    await platform.ads.bid(SECOND_SUPPLIER.telegram_id, home.open_round, "WIN11-PRO", 60_00)
    clock.set(now - BEGINS + timedelta(minutes=2))
    runner = JobRunner(
        platform.jobs,
        platform.ads.job_handlers(),
        clock,
        grace=timedelta(hours=1),
        lease=timedelta(minutes=5),
    )
    await runner.tick()  # STEAM-100 is featured for a week; it pays 60.00, the second bid
    await platform.ads.define_slot(
        admin,
        GAMES_SLOT,
        AdPlacement.CATEGORY,
        category=games,
        period_days=7,
        reserve=20_00,
        first_close=now + timedelta(days=2),
    )
    await platform.ads.grant_zone(
        admin, SECOND_SUPPLIER.telegram_id, ZONE, days=30, fee=50_00, share_bps=300,
        idempotency_key="demo-zone",
    )  # fmt: skip
    services = platform.paid_services
    await services.price(
        admin, "boost-7d", ServiceKind.SEARCH_BOOST, ServiceBilling.ONCE, price=30_00, days=7
    )
    await services.price(
        admin, "report-monthly", ServiceKind.ANALYTICS_REPORT, ServiceBilling.MONTHLY,
        price=19_90, days=30,
    )  # fmt: skip
    await services.price(
        admin, "reach-200", ServiceKind.BROADCAST_CREDITS, ServiceBilling.ONCE, price=49_00,
        days=30, credits=200,
    )  # fmt: skip
    await services.price(
        admin, "demand", ServiceKind.DEMAND_REPORT, ServiceBilling.ONCE, price=40_00, days=1
    )  # a supplier buys a category's demand report in /services
    await services.buy(
        SECOND_SUPPLIER.telegram_id, "boost-7d", sku_code="PUBG-660UC", idempotency_key="demo"
    )
    await services.buy(RESELLER_GOLD.telegram_id, "report-monthly", idempotency_key="demo")

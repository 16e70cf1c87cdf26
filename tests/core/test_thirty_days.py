"""Every lever of the platform's other revenue at once, for 30 simulated days, run by the
job runner the bot's scheduler builds (``bot.scheduler.build_runner``, every handler of
production registered), ticked every hour as the scheduler does:

- a credit line's interest posted once per local day (a second tick changes nothing), the
  due date refusing further drawing;
- weekly sealed auctions of a first-screen slot settled at the second price, the featured
  SKU shown for its week only;
- a monthly analytics report renewed on day 30, a search boost and broadcast credits
  expiring, a brand zone ending after its 10 days;
- a demand report bought;
- revenue by source equal, source by source, to the platform accounts in the ledger to
  the fen, and ``kameng ledger check`` clean.

tests/core/test_credit_lines.py and tests/core/test_ads_and_services.py hold each lever's
own details (catch-up after a gap, ties, stops); this one proves they run together."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.app import create_bot
from bot.i18n import make_i18n
from bot.scheduler import build_runner
from bot.sender import Sender
from core.checks import check_ledger
from core.credit import INTEREST_KIND
from core.errors import CreditBlocked
from core.models import (
    AccountKind,
    AdPlacement,
    LedgerTransaction,
    ServiceBilling,
    ServiceKind,
    SubscriptionStatus,
)
from core.platform import Platform
from core.revenue import REVENUE_SOURCES
from tests.conftest import FakeClock
from tests.core.test_ads_and_services import (
    ADMIN_TID,
    ALICE,
    BOB,
    CAROL,
    RESELLER,
    platform_account,
    rounds_of,
    services,
    shop,
)
from tests.factories import make_reseller

BORROWER = 1001  # 100.00 of his own, a 500.00 line at 5 bps a day for 10 days


async def interest_days(platform: Platform) -> list[str]:
    async with platform.db.reading() as session:
        memos = await session.scalars(
            select(LedgerTransaction.memo)
            .where(LedgerTransaction.kind == INTEREST_KIND)
            .order_by(LedgerTransaction.id)
        )
        return [memo.split(":")[0] for memo in memos]


async def test_thirty_days_of_every_lever_with_the_production_scheduler(
    platform: Platform, clock: FakeClock
) -> None:
    await shop(platform)
    await services(platform)
    await platform.paid_services.price(
        ADMIN_TID, "demand", ServiceKind.DEMAND_REPORT, ServiceBilling.ONCE, price=20_00, days=1
    )
    start = clock.now()
    tz = ZoneInfo(platform.settings.timezone)

    # the credit line: drawn 360.00 (100.00 own, 460.00 bought) → 0.18 interest a day
    await make_reseller(platform, BORROWER, balance=100_00)
    await platform.credit.grant(ADMIN_TID, BORROWER, limit=500_00, rate_bps=5, term_days=10)
    await platform.credit.schedule_daily()  # as the bot does at start-up
    await platform.shop.buy_now(BORROWER, "STEAM-100", 5, idempotency_key="draw")
    # ads, zones, services, data
    slot = await platform.ads.define_slot(
        ADMIN_TID, "First screen", AdPlacement.HOME, period_days=7, reserve=20_00,
        first_close=start + timedelta(days=1),
    )  # fmt: skip
    zone = await platform.ads.grant_zone(
        ADMIN_TID, CAROL, "PSN", days=10, fee=100_00, idempotency_key="z"
    )
    await platform.paid_services.buy(ALICE, "report-month", idempotency_key="rep")
    await platform.paid_services.buy(BOB, "boost-7", sku_code="STEAM-200", idempotency_key="b")
    await platform.paid_services.buy(CAROL, "reach-500", idempotency_key="reach")
    steam = next(c.id for c in await platform.storefront.categories() if c.name == "Steam")
    await platform.demand.buy(ALICE, "demand", steam, idempotency_key="d1")

    bot = create_bot(platform.settings.model_copy(update={"bot_token": "1:never-called"}))
    runner = build_runner(platform, Sender.for_settings(bot, platform.settings), make_i18n())
    weekly = [(80_00, 60_00, 30_00), (40_00, 70_00, 70_00), (90_00, 0, 25_00), (0, 0, 0)]
    skus = {ALICE: "STEAM-100", BOB: "STEAM-200", CAROL: "PSN-100"}
    week, seen = 0, set[int]()
    blocked_after_due = False
    try:
        for hour in range(30 * 24):
            view = await platform.ads.slot(slot.id)
            if view.open_round is not None and week < len(weekly) and hour % 24 == 2:
                for supplier, amount in zip((ALICE, BOB, CAROL), weekly[week], strict=True):
                    if amount:
                        await platform.ads.bid(supplier, view.open_round, skus[supplier], amount)
            clock.advance(hours=1)
            result = await runner.tick()
            assert not result.failed and not result.missed, result
            if hour % 24 == 5:
                await runner.tick()  # a second tick (or process) the same hour: nothing new
            view = await platform.ads.slot(slot.id)
            if view.open_round is not None and view.open_round not in seen:
                seen.add(view.open_round)
                if hour > 0:
                    week += 1
            screen = await platform.storefront.first_screen(RESELLER)
            featured = [line.code for line in screen.featured]
            assert featured == ([view.featured_sku] if view.featured_sku else [])
            assert (screen.zones == []) == (clock.now() >= zone.ends_at)
            if hour == 12 * 24:  # past the due date: drawing further is refused
                with pytest.raises(CreditBlocked):
                    await platform.shop.buy_now(BORROWER, "STEAM-100", 1, idempotency_key="late")
                blocked_after_due = True
    finally:
        await bot.session.close()
    assert blocked_after_due

    # interest: each local day once, consecutive from the grant's day, 0.18 each
    days = await interest_days(platform)
    assert len(days) == len(set(days)) >= 29
    first = date.fromisoformat(days[0])
    assert first == start.astimezone(tz).date()
    assert days == [(first + timedelta(days=n)).isoformat() for n in range(len(days))]
    statement = await platform.credit.statement(BORROWER)
    assert statement.overdue and statement.interest_total == 18 * len(days)

    # auctions at the second price (week 2: a tie at 70.00, the earlier bid wins)
    sold = [(r["status"], r["price"]) for r in await rounds_of(platform, slot.id)]
    assert [s for s in sold if s[0] == "sold"] == [
        ("sold", 60_00),
        ("sold", 70_00),
        ("sold", 25_00),
    ]
    # services: the report renewed once, the boost and the credits ran out
    [report] = await platform.paid_services.subscriptions(ALICE)
    assert (report.status, report.period) == (SubscriptionStatus.ACTIVE, 2)
    [boost] = await platform.paid_services.subscriptions(BOB)
    [reach] = await platform.paid_services.subscriptions(CAROL)
    assert boost.status is reach.status is SubscriptionStatus.EXPIRED

    expected = {
        "interest": 18 * len(days),
        "ads": 100_00 + 60_00 + 70_00 + 25_00,
        "services": 2 * 99_00 + 30_00 + 50_00,
        "data": 20_00,
    }
    revenue = await platform.revenue.report(
        start.astimezone(tz).date(), clock.now().astimezone(tz).date()
    )
    by_source = {line.source: line.amount for line in revenue.lines}
    for source, amount in expected.items():
        assert by_source[source] == amount, source
    # every source, spread and commission too, is its platform account to the fen
    for source, kind in REVENUE_SOURCES.items():
        assert by_source[source] == await platform_account(platform, AccountKind(kind)), source
    assert revenue.total == revenue.ledger_total
    assert (await check_ledger(platform.db)).ok

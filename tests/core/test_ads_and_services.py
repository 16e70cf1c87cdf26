"""Featured placement auctions, brand zones and paid services on a real database: what a
supplier pays, what is featured when, what the scheduler renews and stops, and a 30-day run
of the job runner as production runs it (clock advanced hour by hour)."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.checks import check_ledger
from core.errors import Forbidden, InsufficientBalance, InvalidAmount, InvalidState
from core.jobs import JobRunner
from core.ledger import balance_of
from core.models import (
    PLATFORM_OWNER,
    AccountKind,
    AdPlacement,
    OutboxMessage,
    Role,
    ServiceBilling,
    ServiceKind,
    SubscriptionStatus,
)
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

ADMIN_TID = 42
ALICE = 900  # supplier of STEAM-100 and STEAM-50
BOB = 901  # supplier of STEAM-200
CAROL = 902  # supplier of PSN-100
RESELLER = 500


async def payable(platform: Platform, telegram_id: int) -> int:
    return (await platform.balances.supplier(telegram_id)).payable


async def platform_account(platform: Platform, kind: AccountKind) -> int:
    async with platform.db.reading() as session:
        return await balance_of(session, kind, PLATFORM_OWNER)


async def shop(platform: Platform) -> None:
    """Three suppliers with SKUs in Steam and PSN, each with about 850.00 to 1700.00 earned."""
    await platform.catalogue.ensure_user(ADMIN_TID)
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_sku(platform, "STEAM-100", stock=30, supplier=ALICE)
    await make_sku(
        platform,
        "STEAM-50",
        stock=5,
        supplier=ALICE,
        supply_price=42_00,
        price=46_00,
        face_value=50_00,
    )
    await make_sku(
        platform,
        "STEAM-200",
        stock=30,
        supplier=BOB,
        supply_price=170_00,
        price=184_00,
        face_value=200_00,
    )
    await make_sku(platform, "PSN-100", stock=30, supplier=CAROL, category="PSN")
    await make_reseller(platform, RESELLER, balance=10_000_00)
    for sku, quantity in (("STEAM-100", 10), ("STEAM-200", 5), ("PSN-100", 10)):
        await platform.shop.buy_now(RESELLER, sku, quantity, idempotency_key=f"seed-{sku}")


async def close_due(platform: Platform, clock: FakeClock) -> None:
    runner = job_runner(platform, clock)
    await runner.tick()


def job_runner(platform: Platform, clock: FakeClock) -> JobRunner:
    """The runner with the handlers the bot's scheduler registers for these jobs."""
    return JobRunner(
        platform.jobs,
        {**platform.ads.job_handlers(), **platform.paid_services.job_handlers()},
        clock,
        grace=timedelta(hours=1),
        lease=timedelta(minutes=5),
    )


async def notices(platform: Platform, kind: str) -> list[dict[str, object]]:
    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        return [json.loads(p) for p in rows]


async def test_the_highest_bid_wins_and_pays_the_second_price(
    platform: Platform, clock: FakeClock
) -> None:
    await shop(platform)
    slot = await platform.ads.define_slot(
        ADMIN_TID, "Steam top", AdPlacement.CATEGORY, period_days=7, reserve=50_00, category="Steam"
    )
    assert slot.open_round is not None
    alice_before, bob_before = await payable(platform, ALICE), await payable(platform, BOB)

    await platform.ads.bid(ALICE, slot.open_round, "STEAM-100", 120_00)
    clock.advance(minutes=5)
    await platform.ads.bid(BOB, slot.open_round, "STEAM-200", 90_00)
    clock.advance(minutes=5)
    await platform.ads.bid(ALICE, slot.open_round, "STEAM-100", 150_00)  # raises her bid
    # sealed: each sees his own bid only
    [mine] = await platform.ads.open_rounds(BOB)
    assert (mine.my_bid, mine.my_sku) == (90_00, "STEAM-200")

    clock.advance(days=1)
    await close_due(platform, clock)

    # Alice pays Bob's 90.00, not her own 150.00; Bob pays nothing
    assert await payable(platform, ALICE) == alice_before - 90_00
    assert await payable(platform, BOB) == bob_before
    assert await platform_account(platform, AccountKind.PLATFORM_ADS) == 90_00
    [view] = await platform.ads.slots()
    assert view.featured_sku == "STEAM-100"
    assert view.featured_until == slot.closes_at + timedelta(days=7)  # type: ignore[operator]
    results = {n["sku"]: n for n in await notices(platform, "ads.result")}
    assert results["STEAM-100"]["outcome"] == "won" and results["STEAM-100"]["price"] == 90_00
    assert results["STEAM-200"]["outcome"] == "lost" and results["STEAM-200"]["price"] is None

    # featured first in its category, marked; not in another place
    page = await platform.storefront.skus(RESELLER, category_id=await steam_id(platform))
    first = page.lines[0]
    assert (first.code, first.featured) == ("STEAM-100", True)
    searched = await platform.storefront.skus(RESELLER, search="steam")
    assert not any(line.featured for line in searched.lines)

    # a week later the slot frees itself: nothing featured (no bids on the next round)
    clock.advance(days=7)
    await close_due(platform, clock)
    [view] = await platform.ads.slots()
    assert view.featured_sku is None
    page = await platform.storefront.skus(RESELLER, category_id=await steam_id(platform))
    assert not any(line.featured for line in page.lines)
    assert (await check_ledger(platform.db)).ok


async def steam_id(platform: Platform) -> int:
    return next(c.id for c in await platform.storefront.categories() if c.name == "Steam")


async def test_bids_are_refused_when_they_break_the_rules(
    platform: Platform, clock: FakeClock
) -> None:
    await shop(platform)
    slot = await platform.ads.define_slot(
        ADMIN_TID, "Steam top", AdPlacement.CATEGORY, period_days=7, reserve=50_00, category="Steam"
    )
    assert slot.open_round is not None
    with pytest.raises(InvalidAmount):
        await platform.ads.bid(ALICE, slot.open_round, "STEAM-100", 49_99)  # below the reserve
    with pytest.raises(Forbidden):
        await platform.ads.bid(ALICE, slot.open_round, "STEAM-200", 60_00)  # Bob's SKU
    with pytest.raises(Forbidden):
        await platform.ads.bid(RESELLER, slot.open_round, "STEAM-100", 60_00)  # not a supplier
    with pytest.raises(Forbidden):
        await platform.ads.define_slot(ALICE, "Mine", AdPlacement.HOME, period_days=7, reserve=0)
    clock.advance(days=1)
    with pytest.raises(InvalidState):
        await platform.ads.bid(ALICE, slot.open_round, "STEAM-100", 60_00)  # closed


async def test_a_brand_zone_puts_its_skus_first_and_ends_with_its_period(
    platform: Platform, clock: FakeClock
) -> None:
    await shop(platform)
    before = await payable(platform, BOB)
    zone = await platform.ads.grant_zone(
        ADMIN_TID, BOB, "Bob's Steam store", days=30, fee=200_00, idempotency_key="z1"
    )
    again = await platform.ads.grant_zone(
        ADMIN_TID, BOB, "Bob's Steam store", days=30, fee=200_00, idempotency_key="z1"
    )
    assert again.id == zone.id
    assert await payable(platform, BOB) == before - 200_00  # once
    page = await platform.storefront.skus(RESELLER, category_id=await steam_id(platform))
    assert page.lines[0].code == "STEAM-200"
    screen = await platform.storefront.first_screen(RESELLER)
    assert [z.name for z in screen.zones] == ["Bob's Steam store"]
    page_of_zone = await platform.storefront.zone(RESELLER, zone.id)
    assert page_of_zone is not None and [line.code for line in page_of_zone[1]] == ["STEAM-200"]
    clock.advance(days=30)
    assert await platform.storefront.zone(RESELLER, zone.id) is None
    assert (await platform.storefront.first_screen(RESELLER)).zones == []
    page = await platform.storefront.skus(RESELLER, category_id=await steam_id(platform))
    assert page.lines[0].code == "STEAM-100"


async def test_a_brand_zone_on_revenue_share_is_charged_at_its_end(
    platform: Platform, clock: FakeClock
) -> None:
    await shop(platform)
    clock.advance(minutes=1)  # the seed sales were before the zone
    await platform.ads.grant_zone(
        ADMIN_TID, CAROL, "PSN corner", days=7, share_bps=500, idempotency_key="z2"
    )
    clock.advance(days=1)
    before_sale = await payable(platform, CAROL)
    await platform.shop.buy_now(RESELLER, "PSN-100", 4, idempotency_key="in-zone")
    before = await payable(platform, CAROL)
    earned = before - before_sale
    assert earned == 4 * 85_84  # 88.50 (supply + half the spread) less the ladder's 3%
    clock.advance(days=6)
    await close_due(platform, clock)
    # 5% of 343.36 is 17.168: 17.16, rounded down once
    assert await payable(platform, CAROL) == before - 17_16
    assert await platform_account(platform, AccountKind.PLATFORM_ADS) == 17_16


async def services(platform: Platform) -> None:
    await platform.paid_services.price(
        ADMIN_TID, "boost-7", ServiceKind.SEARCH_BOOST, ServiceBilling.ONCE, price=30_00, days=7
    )
    await platform.paid_services.price(
        ADMIN_TID,
        "report-month",
        ServiceKind.ANALYTICS_REPORT,
        ServiceBilling.MONTHLY,
        price=99_00,
        days=30,
    )
    await platform.paid_services.price(
        ADMIN_TID,
        "reach-500",
        ServiceKind.BROADCAST_CREDITS,
        ServiceBilling.ONCE,
        price=50_00,
        days=30,
        credits=500,
    )


async def test_two_presses_of_one_buy_at_once_charge_once(platform: Platform) -> None:
    """A double tap: both purchases in flight with one key; the one that loses the race
    returns the winner's purchase, replayed (on PostgreSQL it meets the UNIQUE key)."""
    import asyncio

    await shop(platform)
    await services(platform)
    before = await payable(platform, BOB)
    both = await asyncio.gather(
        *(
            platform.paid_services.buy(BOB, "boost-7", sku_code="STEAM-200", idempotency_key="k")
            for _ in range(2)
        )
    )
    assert both[0].id == both[1].id and sorted(b.replayed for b in both) == [False, True]
    assert await payable(platform, BOB) == before - 30_00
    assert (await check_ledger(platform.db)).ok


async def test_buying_a_running_boost_again_extends_it_from_its_end(
    platform: Platform, clock: FakeClock
) -> None:
    """A new Buy button for the same SKU while its boost runs: charged once more, the same
    boost now ends a period later (no second, overlapping one); the confirmation said so
    before; pressing that new button again charges nothing; a boost of another SKU is its
    own; once the boost has ended, buying again starts afresh."""
    await shop(platform)
    await services(platform)
    before = await payable(platform, BOB)
    first = await platform.paid_services.buy(
        BOB, "boost-7", sku_code="STEAM-200", idempotency_key="b1"
    )
    clock.advance(days=2)
    quote = await platform.paid_services.quote(BOB, "boost-7", "STEAM-200")
    assert (quote.current_end, quote.ends_at) == (first.ends_at, first.ends_at + timedelta(days=7))
    again = await platform.paid_services.buy(
        BOB, "boost-7", sku_code="STEAM-200", idempotency_key="b2"
    )
    assert again.id == first.id and not again.replayed
    assert again.extended_from == first.ends_at
    assert (again.starts_at, again.ends_at) == (first.starts_at, quote.ends_at)
    assert again.period == 2
    pressed = await platform.paid_services.buy(
        BOB, "boost-7", sku_code="STEAM-200", idempotency_key="b2"
    )
    assert pressed.replayed and pressed.ends_at == again.ends_at
    assert await payable(platform, BOB) == before - 2 * 30_00
    assert len(await platform.paid_services.subscriptions(BOB)) == 1
    # the first period's job runs and changes nothing: still boosted
    clock.advance(days=5)  # the first period's end, as the scheduler ticks
    await close_due(platform, clock)
    assert (await platform.storefront.skus(RESELLER, search="steam")).lines[0].code == "STEAM-200"
    [sub] = await platform.paid_services.subscriptions(BOB)
    assert (sub.status, sub.ends_at) == (SubscriptionStatus.ACTIVE, again.ends_at)
    clock.advance(days=7)
    await close_due(platform, clock)
    [sub] = await platform.paid_services.subscriptions(BOB)
    assert sub.status is SubscriptionStatus.EXPIRED
    fresh = await platform.paid_services.buy(
        BOB, "boost-7", sku_code="STEAM-200", idempotency_key="b3"
    )
    assert fresh.id != first.id and fresh.starts_at == clock.now()
    assert (await platform.paid_services.quote(BOB, "boost-7", "STEAM-200")).current_end == (
        fresh.ends_at
    )
    assert await platform_account(platform, AccountKind.PLATFORM_SERVICES) == 3 * 30_00
    assert (await check_ledger(platform.db)).ok


async def test_a_monthly_report_bought_again_adds_a_month_and_renews_after_it(
    platform: Platform, clock: FakeClock
) -> None:
    """The second month bought by hand, the third renewed by the scheduler at the end of
    the second: each paid period charged once, and the revenue report counts three."""
    await shop(platform)
    await services(platform)
    await make_reseller(platform, 501, balance=400_00)
    start = clock.now()
    await platform.paid_services.buy(501, "report-month", idempotency_key="r1")
    clock.advance(days=10)
    again = await platform.paid_services.buy(501, "report-month", idempotency_key="r2")
    assert again.ends_at == start + timedelta(days=60) and again.period == 2
    assert (await platform.balances.balance(501)).balance == 400_00 - 2 * 99_00
    clock.advance(days=20)  # the first month's end: nothing to renew, it was paid
    await close_due(platform, clock)
    assert (await platform.balances.balance(501)).balance == 400_00 - 2 * 99_00
    clock.advance(days=30)  # the second month's end: renewed for a third
    await close_due(platform, clock)
    [sub] = await platform.paid_services.subscriptions(501)
    assert (sub.status, sub.period, sub.ends_at) == (
        SubscriptionStatus.ACTIVE,
        3,
        start + timedelta(days=90),
    )
    assert (await platform.balances.balance(501)).balance == 400_00 - 3 * 99_00
    assert await platform_account(platform, AccountKind.PLATFORM_SERVICES) == 3 * 99_00
    revenue = await platform.revenue.report(start.date(), clock.now().date())
    [services_line] = [line for line in revenue.lines if line.source == "services"]
    assert (services_line.amount, services_line.transactions) == (3 * 99_00, 3)
    assert (await check_ledger(platform.db)).ok


async def test_broadcast_credits_bought_twice_are_two_packs(platform: Platform) -> None:
    await shop(platform)
    await services(platform)
    a = await platform.paid_services.buy(ALICE, "reach-500", idempotency_key="c1")
    b = await platform.paid_services.buy(ALICE, "reach-500", idempotency_key="c2")
    assert a.id != b.id and b.extended_from is None
    assert len(await platform.paid_services.subscriptions(ALICE)) == 2


async def test_two_buy_buttons_pressed_at_once_never_start_two_boosts(
    platform: Platform,
) -> None:
    """Two different Buy keys for one SKU at once, with nothing running (both would start
    one) and again with one running (both would extend from the same end): one boost,
    extended one period after the other, each period charged once."""
    import asyncio

    await shop(platform)
    await services(platform)
    before = await payable(platform, BOB)
    first, second = await asyncio.gather(
        *(
            platform.paid_services.buy(BOB, "boost-7", sku_code="STEAM-200", idempotency_key=k)
            for k in ("x1", "x2")
        )
    )
    assert first.id == second.id
    [sub] = await platform.paid_services.subscriptions(BOB)
    assert sub.period == 2 and sub.ends_at == sub.starts_at + timedelta(days=14)
    await asyncio.gather(
        *(
            platform.paid_services.buy(BOB, "boost-7", sku_code="STEAM-200", idempotency_key=k)
            for k in ("x3", "x4")
        )
    )
    [sub] = await platform.paid_services.subscriptions(BOB)
    assert sub.period == 4 and sub.ends_at == sub.starts_at + timedelta(days=28)
    assert await payable(platform, BOB) == before - 4 * 30_00
    assert (await check_ledger(platform.db)).ok


async def test_a_search_boost_ranks_the_sku_first_for_its_days(
    platform: Platform, clock: FakeClock
) -> None:
    await shop(platform)
    await services(platform)
    assert (await platform.storefront.skus(RESELLER, search="steam")).lines[0].code == "STEAM-100"
    before = await payable(platform, BOB)
    bought = await platform.paid_services.buy(
        BOB, "boost-7", sku_code="STEAM-200", idempotency_key="b1"
    )
    replay = await platform.paid_services.buy(
        BOB, "boost-7", sku_code="STEAM-200", idempotency_key="b1"
    )
    assert replay.replayed and replay.id == bought.id
    assert await payable(platform, BOB) == before - 30_00
    assert (await platform.storefront.skus(RESELLER, search="steam")).lines[0].code == "STEAM-200"
    # not in the category listing: a boost is for search
    page = await platform.storefront.skus(RESELLER, category_id=await steam_id(platform))
    assert page.lines[0].code == "STEAM-100"
    with pytest.raises(Forbidden):
        await platform.paid_services.buy(BOB, "boost-7", sku_code="STEAM-100", idempotency_key="b2")
    with pytest.raises(Forbidden):  # resellers buy no boost
        await platform.paid_services.buy(
            RESELLER, "boost-7", sku_code="STEAM-100", idempotency_key="b3"
        )
    clock.advance(days=7)
    await close_due(platform, clock)
    assert (await platform.storefront.skus(RESELLER, search="steam")).lines[0].code == "STEAM-100"
    [sub] = await platform.paid_services.subscriptions(BOB)
    assert sub.status is SubscriptionStatus.EXPIRED


async def test_a_monthly_service_renews_and_stops_when_it_cannot_be_paid(
    platform: Platform, clock: FakeClock
) -> None:
    await shop(platform)
    await services(platform)
    await make_reseller(platform, 501, balance=200_00)
    sub = await platform.paid_services.buy(501, "report-month", idempotency_key="r1")
    assert (await platform.balances.balance(501)).balance == 101_00
    clock.advance(days=30)
    await close_due(platform, clock)
    [sub] = await platform.paid_services.subscriptions(501)
    assert (sub.status, sub.period) == (SubscriptionStatus.ACTIVE, 2)
    assert (await platform.balances.balance(501)).balance == 2_00
    clock.advance(days=30)
    await close_due(platform, clock)
    [sub] = await platform.paid_services.subscriptions(501)
    assert (sub.status, sub.period) == (SubscriptionStatus.STOPPED, 2)
    assert (await platform.balances.balance(501)).balance == 2_00
    [stopped] = await notices(platform, "services.stopped")
    assert stopped["shortfall"] == 97_00
    assert await platform_account(platform, AccountKind.PLATFORM_SERVICES) == 2 * 99_00
    with pytest.raises(InsufficientBalance):
        await platform.paid_services.buy(501, "report-month", idempotency_key="r2")
    assert (await check_ledger(platform.db)).ok


async def test_thirty_days_with_the_scheduler(platform: Platform, clock: FakeClock) -> None:
    """Weekly home-screen auctions, a monthly report renewed, a boost expiring, a zone ending:
    the runner ticks every hour as the bot's scheduler would, for 30 days."""
    await shop(platform)
    await services(platform)
    start = clock.now()
    slot = await platform.ads.define_slot(
        ADMIN_TID,
        "First screen",
        AdPlacement.HOME,
        period_days=7,
        reserve=20_00,
        first_close=start + timedelta(days=1),
    )
    await platform.paid_services.buy(ALICE, "report-month", idempotency_key="rep")
    await platform.paid_services.buy(BOB, "boost-7", sku_code="STEAM-200", idempotency_key="bst")
    zone = await platform.ads.grant_zone(
        ADMIN_TID, CAROL, "PSN", days=10, fee=100_00, idempotency_key="z"
    )
    # each week's bids: (Alice, Bob, Carol); Alice's bid is the highest in weeks 1 and 3
    weekly = [(80_00, 60_00, 30_00), (40_00, 70_00, 70_00), (90_00, 0, 25_00), (0, 0, 0)]
    skus = {ALICE: "STEAM-100", BOB: "STEAM-200", CAROL: "PSN-100"}
    expected_ads = 100_00  # the zone's fee
    expected_prices: list[int | None] = []
    runner = job_runner(platform, clock)
    week = 0
    featured_seen: dict[int, str | None] = {}
    for hour in range(30 * 24):
        view = await platform.ads.slot(slot.id)
        if view.open_round is not None and week < len(weekly) and hour % 24 == 2:
            for supplier, amount in zip((ALICE, BOB, CAROL), weekly[week], strict=True):
                if amount:
                    await platform.ads.bid(supplier, view.open_round, skus[supplier], amount)
        clock.advance(hours=1)
        result = await runner.tick()
        assert not result.failed and not result.missed
        view = await platform.ads.slot(slot.id)
        if view.open_round is not None and view.open_round not in featured_seen:
            featured_seen[view.open_round] = view.featured_sku
            if hour > 0:
                week += 1
        screen = await platform.storefront.first_screen(RESELLER)
        assert [line.code for line in screen.featured] == (
            [view.featured_sku] if view.featured_sku else []
        )
        if clock.now() >= zone.ends_at:
            assert screen.zones == []

    bids = [sorted((a for a in w if a), reverse=True) for w in weekly]
    for amounts in bids:
        if amounts:
            price = max(20_00, amounts[1]) if len(amounts) > 1 else 20_00
            expected_prices.append(price)
    # week 2: Bob and Carol tie at 70.00; Bob bid first (placed in order Alice, Bob, Carol)
    assert expected_prices == [60_00, 70_00, 25_00]
    rounds = await rounds_of(platform, slot.id)
    sold = [(r["status"], r["price"]) for r in rounds if r["status"] != "open"]
    assert sold[:3] == [("sold", 60_00), ("sold", 70_00), ("sold", 25_00)]
    assert all(status == "unsold" for status, _ in sold[3:])
    assert len(sold) == 5  # closes on days 1, 8, 15, 22 and 29
    expected_ads += sum(expected_prices)
    assert await platform_account(platform, AccountKind.PLATFORM_ADS) == expected_ads
    # the monthly report paid on day 0 and renewed on day 30; the boost ran 7 days
    assert await platform_account(platform, AccountKind.PLATFORM_SERVICES) == 2 * 99_00 + 30_00
    [report] = await platform.paid_services.subscriptions(ALICE)
    assert (report.status, report.period) == (SubscriptionStatus.ACTIVE, 2)
    # her analytics report came every week, days 7, 14, 21 and 28: the first week holds
    # the 10 STEAM-100 sold at the start (85.84 each to her), the others nothing
    weekly = await notices(platform, "services.report")
    assert [(n["week"], n["supplier"], n["units"], n["amount"]) for n in weekly] == [
        (1, True, 10, 858_40),
        (2, True, 0, 0),
        (3, True, 0, 0),
        (4, True, 0, 0),
    ]
    assert weekly[0]["top"] == [["STEAM-100", 10]]
    [boost] = await platform.paid_services.subscriptions(BOB)
    assert boost.status is SubscriptionStatus.EXPIRED
    assert (await check_ledger(platform.db)).ok
    # the revenue report by source reads the same entries, to the fen
    tz = ZoneInfo(platform.settings.timezone)
    revenue = await platform.revenue.report(
        start.astimezone(tz).date(), clock.now().astimezone(tz).date()
    )
    by_source = {line.source: line.amount for line in revenue.lines}
    assert (by_source["ads"], by_source["services"]) == (expected_ads, 2 * 99_00 + 30_00)
    assert revenue.total == revenue.ledger_total


async def rounds_of(platform: Platform, slot_id: int) -> list[dict[str, object]]:
    from core.models import AdRound

    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(AdRound).where(AdRound.slot_id == slot_id).order_by(AdRound.closes_at)
        )
        return [{"status": r.status.value, "price": r.price} for r in rows]


async def test_ledger_check_names_a_sold_round_or_a_service_period_without_its_money(
    platform: Platform, clock: FakeClock
) -> None:
    from sqlalchemy import update

    from core.models import AdRound, ServiceSubscription

    await shop(platform)
    await services(platform)
    slot = await platform.ads.define_slot(
        ADMIN_TID, "Home", AdPlacement.HOME, period_days=7, reserve=10_00
    )
    await platform.paid_services.buy(ALICE, "report-month", idempotency_key="r")
    assert (await check_ledger(platform.db)).ok
    async with platform.db.transaction() as session:  # written around the use cases
        await session.execute(
            update(AdRound).where(AdRound.id == slot.open_round).values(status="sold", price=1)
        )
        await session.execute(update(ServiceSubscription).values(period=2))
    report = await check_ledger(platform.db)
    assert report.problems == {
        "featured-slot rounds sold without their ledger transaction (or unsold with one)": [
            f"ad round #{slot.open_round}: no ledger transaction"
        ],
        "paid services whose paid periods differ from their ledger transactions": [
            "service #1: 2 periods, 1 ledger transactions"
        ],
    }


async def test_migration_0043_marks_the_latest_of_duplicates_bought_before_it(
    platform: Platform,
) -> None:
    """Two monthly reports running side by side (bought before buying again extended):
    after the upgrade the later one is the one a new purchase extends; the older one runs
    out its period unmarked."""
    from sqlalchemy import text

    from core import schema

    await shop(platform)
    await services(platform)
    await make_reseller(platform, 501, balance=400_00)
    first = await platform.paid_services.buy(501, "report-month", idempotency_key="r1")
    async with platform.db.transaction() as session:  # the duplicate the old code made
        await session.execute(
            text(
                "INSERT INTO service_subscriptions (offer_id, user_id, payer_kind, payer_owner,"
                " status, starts_at, ends_at, period, credits, idempotency_key, created_at)"
                " SELECT offer_id, user_id, payer_kind, payer_owner, status, starts_at,"
                " ends_at, period, credits, 'services:501:old', created_at"
                " FROM service_subscriptions WHERE id = :id"
            ),
            {"id": first.id},
        )
    await schema.downgrade(platform.db, "0039")
    await schema.upgrade(platform.db)
    async with platform.db.reading() as session:
        rows = await session.execute(text("SELECT id, active_target FROM service_subscriptions"))
        marked = {int(i): t for i, t in rows}
    assert marked == {first.id: None, first.id + 1: "analytics_report:0"}
    again = await platform.paid_services.buy(501, "report-month", idempotency_key="r2")
    assert again.id == first.id + 1 and again.period == 2


async def test_five_buy_buttons_pressed_at_once_extend_one_boost_five_times(
    platform: Platform,
) -> None:
    """Five different Buy keys for one SKU at once (on PostgreSQL each loser may meet
    another's insert more than once): every press is a period, one after the other with
    no overlap, each charged once, and the books balance."""
    import asyncio

    await shop(platform)
    await services(platform)
    before = await payable(platform, BOB)
    bought = await asyncio.gather(
        *(
            platform.paid_services.buy(BOB, "boost-7", sku_code="STEAM-200", idempotency_key=k)
            for k in ("p1", "p2", "p3", "p4", "p5")
        )
    )
    assert len({b.id for b in bought}) == 1 and not any(b.replayed for b in bought)
    # each purchase ended where the one before it left off: contiguous, no overlap
    ends = sorted(b.ends_at for b in bought)
    starts = bought[0].starts_at
    assert ends == [starts + timedelta(days=7 * n) for n in range(1, 6)]
    [sub] = await platform.paid_services.subscriptions(BOB)
    assert sub.period == 5 and sub.ends_at == starts + timedelta(days=35)
    assert await payable(platform, BOB) == before - 5 * 30_00
    assert await platform_account(platform, AccountKind.PLATFORM_SERVICES) == 5 * 30_00
    assert (await check_ledger(platform.db)).ok


async def test_a_report_bought_again_as_another_offer_renews_as_that_offer(
    platform: Platform, clock: FakeClock
) -> None:
    """A monthly report, then a quarterly one bought while it runs: the extension costs
    and adds the quarter, and the renewal after it is the quarter again (the offer bought
    last), not the month the buyer started with."""
    await shop(platform)
    await services(platform)
    await platform.paid_services.price(
        ADMIN_TID,
        "report-quarter",
        ServiceKind.ANALYTICS_REPORT,
        ServiceBilling.MONTHLY,
        price=250_00,
        days=90,
    )
    await make_reseller(platform, 501, balance=1_000_00)
    start = clock.now()
    await platform.paid_services.buy(501, "report-month", idempotency_key="m1")
    clock.advance(days=10)
    again = await platform.paid_services.buy(501, "report-quarter", idempotency_key="q1")
    assert again.ends_at == start + timedelta(days=30 + 90)
    assert (await platform.balances.balance(501)).balance == 1_000_00 - 99_00 - 250_00
    clock.advance(days=110)  # the quarter's end: renewed as a quarter
    await close_due(platform, clock)
    [sub] = await platform.paid_services.subscriptions(501)
    assert (sub.status, sub.period, sub.ends_at) == (
        SubscriptionStatus.ACTIVE,
        3,
        start + timedelta(days=30 + 90 + 90),
    )
    assert (await platform.balances.balance(501)).balance == 1_000_00 - 99_00 - 2 * 250_00
    assert (await check_ledger(platform.db)).ok

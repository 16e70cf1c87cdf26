"""The sandbox's demo platform as a visitor finds it: every reseller persona buys at their
level's price, the shelves are stocked, the admin has requests waiting and four weeks of
sales to report on, the books and the audit chain check out, and the gold reseller's API key
opens the HTTP API. Built once per module (a few seconds) and copied for each test,
as ``tests/conftest.py`` copies the migrated schema."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import make_url

from bot.app import create_bot, run_polling
from core.catalogue import language_for
from core.errors import NotFound
from core.ledger import balance_of
from core.models import PLATFORM_OWNER, AccountKind, JobStatus, Role, SubscriptionStatus
from core.orders import Receipt
from core.platform import Platform, build_platform
from core.promotions import ANNOUNCE
from core.reports import Period
from core.settings import Settings
from core.topups import TOPUPS
from sandbox.demo import (
    BAD_CODE,
    CATALOGUE,
    HISTORY_DAYS,
    PENDING_TOP_UP,
    DemoExists,
    SandboxDemo,
    build_demo,
    reissue_api_key,
)
from sandbox.demo_ads import GAMES_SLOT, HOME_SLOT, ZONE
from sandbox.demo_direct import DEADLINE_MINUTES, DIRECT_SKU
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.personas import (
    ADMIN,
    NEWCOMER,
    PERSONAS,
    RESELLER_BRONZE,
    RESELLER_GOLD,
    RESELLER_SILVER,
    SECOND_SUPPLIER,
    SUPPLIER,
)
from tests.cli_runner import run_kameng
from tests.conftest import POSTGRES_URL, TEST_SECRET, FakeClock, drop_postgres, recreate_postgres
from web.app import ApiServer, RateLimit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # the demo's "now"; the tests look a minute on
LEVEL_OF = {RESELLER_BRONZE: 0, RESELLER_SILVER: 1, RESELLER_GOLD: 2}
SKUS = {sku.code: sku for sku in CATALOGUE}


@dataclass(frozen=True)
class Built:
    demo: SandboxDemo
    copy_from: str  # a SQLite file, or the PostgreSQL database to create each test's from


@pytest.fixture(scope="module")
def built(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The demo built once (seed 0) on a copy of the migrated schema."""
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL)
        template = url.set(database=f"{url.database}_demo").render_as_string(hide_password=False)
        asyncio.run(recreate_postgres(template, migrated_template))
        demo = asyncio.run(build_demo(_settings(template), now=NOW))
        yield Built(demo, str(make_url(template).database))
        asyncio.run(drop_postgres(template))
        return
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(migrated_template, path)
    demo = asyncio.run(build_demo(_settings(f"sqlite+aiosqlite:///{path}"), now=NOW))
    with closing(sqlite3.connect(path)) as connection:  # all of it in the one file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    yield Built(demo, str(path))


@pytest.fixture
async def demo(built: Built, settings: Settings) -> SandboxDemo:
    """This test's database holds a copy of the built demo."""
    if POSTGRES_URL:
        await recreate_postgres(settings.database_url, built.copy_from)
    else:
        path = make_url(settings.database_url).database
        assert path is not None
        shutil.copyfile(built.copy_from, path)
    return built.demo


@pytest.fixture
async def visited(demo: SandboxDemo, settings: Settings) -> AsyncIterator[Platform]:
    """The demo platform a minute after it was built."""
    platform = build_platform(settings, clock=FakeClock(NOW + timedelta(minutes=1)))
    yield platform
    await platform.close()


def _settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key=TEST_SECRET, _env_file=None)


async def test_each_reseller_persona_buys_at_their_levels_price(
    demo: SandboxDemo, visited: Platform
) -> None:
    for reseller, level in LEVEL_OF.items():
        steam = SKUS["STEAM-100"]
        before = await visited.catalogue.stock_count(steam.code)
        assert before is not None

        quote = await visited.quotes.quote(reseller.telegram_id, steam.code, 2)
        assert quote.unit_price == steam.level_prices[level]
        assert quote.can_confirm, f"{reseller.key} cannot pay for two Steam cards"
        receipt = await visited.shop.buy(reseller.telegram_id, quote.id)

        assert isinstance(receipt, Receipt)
        assert receipt.total == 2 * steam.level_prices[level]
        assert len(set(receipt.codes)) == 2
        assert await visited.catalogue.stock_count(steam.code) == before - 2


async def test_the_running_promotion_prices_video_cards_which_come_with_number_and_password(
    visited: Platform,
) -> None:
    card = SKUS["IQIYI-VIP-M"]
    gold_price = card.level_prices[2]

    quote = await visited.quotes.quote(RESELLER_GOLD.telegram_id, card.code, 1)
    assert quote.unit_price == gold_price * 9 // 10  # 10 % off all video memberships
    receipt = await visited.shop.buy(RESELLER_GOLD.telegram_id, quote.id)

    assert isinstance(receipt, Receipt)
    (bought,) = receipt.cards
    assert [name for name, _ in bought.fields] == ["number", "password"]


async def test_the_flash_sale_starts_in_five_minutes_for_silver_and_gold(
    visited: Platform,
) -> None:
    running, flash = await visited.promotions.upcoming()
    assert running.starts_at < NOW < flash.starts_at == NOW + timedelta(minutes=5)
    assert flash.levels == ("silver", "gold")
    steam = SKUS["STEAM-50"]
    quote = await visited.quotes.quote(RESELLER_GOLD.telegram_id, steam.code, 1)
    assert quote.unit_price == steam.level_prices[2]  # not yet
    announcements = [job for job in await visited.jobs.jobs() if job.kind == ANNOUNCE]
    assert sorted((job.run_at, job.status) for job in announcements) == [
        (running.starts_at, JobStatus.PENDING),  # due: the sandbox's scheduler sends it
        (flash.starts_at, JobStatus.PENDING),
    ]


async def test_shelves_are_stocked_and_the_cyclic_sku_never_runs_out(
    demo: SandboxDemo, visited: Platform
) -> None:
    uploaded = {sku.code: sku.stock for sku in CATALOGUE}
    left = {code: await visited.catalogue.stock_count(code) for code in uploaded}

    assert left.pop("VPN-M") is None
    assert all(0 < count < uploaded[code] for code, count in left.items() if count is not None)
    assert demo.codes == sum(uploaded.values()) > 3_000
    # the summary counts what a reseller finds in the catalogue: the twelve SKUs with codes
    # and the mobile top-up (no codes: direct), not the one waiting for review
    on_shelves = sum(line.skus for line in await visited.storefront.categories())
    assert demo.skus == on_shelves == len(CATALOGUE) + 1
    assert f"demo platform: {on_shelves} SKUs, {demo.codes} codes" in demo.summary()


async def test_the_admin_finds_a_top_up_a_review_a_withdrawal_and_a_bad_code_waiting(
    demo: SandboxDemo, visited: Platform
) -> None:
    queue = await visited.approvals.queue(ADMIN.telegram_id)
    waiting = {kind: count for kind, count in queue.counts.items() if count}
    assert waiting == {"topups": 1, "product_reviews": 1, "withdrawals": 1, "code_reports": 1}

    (review,) = await visited.approvals.waiting(
        visited.reviews.kind, admin_telegram_id=ADMIN.telegram_id
    )
    assert review.review.sku_code == demo.pending_review_sku
    assert review.review.supplier_telegram_id == SECOND_SUPPLIER.telegram_id
    (top_up,) = await visited.approvals.waiting(TOPUPS, admin_telegram_id=ADMIN.telegram_id)
    assert (top_up.request.telegram_id, top_up.request.amount) == (
        RESELLER_BRONZE.telegram_id,
        PENDING_TOP_UP,
    )
    (bad_code,) = await visited.approvals.waiting(
        visited.aftersales.kind, admin_telegram_id=ADMIN.telegram_id
    )
    assert bad_code.report.reason == BAD_CODE
    replaced = await visited.aftersales.replace(ADMIN.telegram_id, bad_code.report.id)
    assert replaced.new_code  # from the SKU's stock

    before = await visited.balances.balance(RESELLER_BRONZE.telegram_id)
    await visited.topups.decide(
        top_up.request.id, admin_telegram_id=ADMIN.telegram_id, approve=True
    )
    after = await visited.balances.balance(RESELLER_BRONZE.telegram_id)
    assert after.balance == before.balance + PENDING_TOP_UP


async def test_reports_show_four_weeks_of_orders_from_every_reseller(
    demo: SandboxDemo, visited: Platform
) -> None:
    report = await visited.reports.summary(ADMIN.telegram_id, Period.MONTH)

    days_with_orders = [bucket for bucket in report.buckets if bucket.orders]
    assert len(days_with_orders) >= HISTORY_DAYS - 1  # the first day may fall before noon
    assert report.orders == demo.orders >= 200
    assert report.refunds > 0 and demo.refunds == 2
    assert report.spread > 0 and report.commission > 0
    names = {ranked.key for ranked in report.top_resellers}
    assert {str(r.telegram_id) for r in LEVEL_OF} <= names


async def test_the_ledger_and_the_audit_chain_check_out(
    demo: SandboxDemo, settings: Settings, tmp_path: Path
) -> None:
    env = {"KAMENG_DATABASE_URL": settings.database_url, "KAMENG_SECRET_KEY": TEST_SECRET}

    ledger = await asyncio.to_thread(run_kameng, "ledger", "check", env=env, cwd=tmp_path)
    audit = await asyncio.to_thread(run_kameng, "audit", "verify", env=env, cwd=tmp_path)

    assert ledger.returncode == 0, ledger.stdout + ledger.stderr
    assert "OK: the ledger balances" in ledger.stdout
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "chain intact" in audit.stdout


async def test_past_notices_were_delivered_and_only_todays_withdrawal_notice_waits(
    visited: Platform,
) -> None:
    stats = await visited.outbox.stats()
    # the supplier's withdrawal notice to the admin, the cards of today's top-up request and
    # product review to the admin, today's top-up task to the supplier, the featured
    # auction's result to its two bidders, and the sale notice of today's Dujiao-Next shop
    # order (sandbox/demo_dujiao.py)
    assert (stats.pending, stats.failing) == (7, 0)


async def test_a_mobile_top_up_waits_for_the_supplier_and_one_was_delivered(
    visited: Platform,
) -> None:
    [task] = await visited.fulfilments.tasks(SUPPLIER.telegram_id)
    assert task.sku_code == DIRECT_SKU and task.account == {"phone": "13912345678"}
    assert task.deadline_at == NOW + timedelta(minutes=DEADLINE_MINUTES)
    [done] = [
        t
        for t in await visited.fulfilments.tasks(SUPPLIER.telegram_id, open_only=False)
        if not t.open
    ]
    assert done.status.value == "delivered" and done.proof == "CM2026120400017"
    saved = await visited.fulfilments.saved_accounts(RESELLER_SILVER.telegram_id, DIRECT_SKU)
    assert [s.values for s in saved] == [{"phone": "13800138000"}]


async def test_the_gold_resellers_api_key_opens_the_http_api(
    demo: SandboxDemo, visited: Platform
) -> None:
    assert demo.api_key_owner == RESELLER_GOLD.telegram_id
    caller = await visited.api_keys.authenticate(demo.api_key)
    assert caller is not None and caller.telegram_id == RESELLER_GOLD.telegram_id
    async with (
        ApiServer(visited, "127.0.0.1", 0, RateLimit(per_second=100.0, burst=100)) as server,
        aiohttp.ClientSession() as http,
        http.get(
            f"{server.base_url}/api/v1/me", headers={"Authorization": f"Bearer {demo.api_key}"}
        ) as response,
    ):
        body = await response.json()
    assert response.status == 200
    assert (body["telegram_id"], body["level"]) == (RESELLER_GOLD.telegram_id, "gold")
    assert demo.api_key not in repr(demo)


async def test_a_kept_demo_gets_a_new_api_key_and_the_old_one_stops_working(
    demo: SandboxDemo, settings: Settings, visited: Platform
) -> None:
    key = await reissue_api_key(settings)

    caller = await visited.api_keys.authenticate(key)
    assert caller is not None and caller.telegram_id == RESELLER_GOLD.telegram_id
    assert await visited.api_keys.authenticate(demo.api_key) is None


async def test_personas_who_wrote_to_the_bot_exist_with_their_language_and_role(
    visited: Platform,
) -> None:
    for persona in PERSONAS:
        if persona is NEWCOMER:
            with pytest.raises(NotFound):
                await visited.catalogue.user(persona.telegram_id)
            continue
        user = await visited.catalogue.user(persona.telegram_id)
        assert user.started and user.language == language_for(persona.language_code)
    assert Role.ADMIN in (await visited.catalogue.user(ADMIN.telegram_id)).roles
    for supplier in (SUPPLIER, SECOND_SUPPLIER):
        assert Role.SUPPLIER in (await visited.catalogue.user(supplier.telegram_id)).roles
    for reseller, level in LEVEL_OF.items():
        user = await visited.catalogue.user(reseller.telegram_id)
        assert user.level_name == ("bronze", "silver", "gold")[level]
        # may spend (bronze has drawn on his credit line: below zero, within it)
        assert (await visited.balances.balance(reseller.telegram_id)).spendable > 0


async def test_the_same_seed_builds_the_same_shop(
    visited: Platform, migrated_template: str, tmp_path: Path
) -> None:
    again = await _fresh_database(migrated_template, tmp_path)
    await build_demo(_settings(again), seed=0, now=NOW)
    other = build_platform(_settings(again), clock=FakeClock(NOW + timedelta(minutes=1)))
    try:
        assert await _snapshot(other) == await _snapshot(visited)
    finally:
        await other.close()
        if POSTGRES_URL:
            await drop_postgres(again)


async def test_a_database_that_has_a_shop_already_is_left_alone(
    demo: SandboxDemo, settings: Settings
) -> None:
    with pytest.raises(DemoExists, match="not empty"):
        await build_demo(settings, now=NOW + timedelta(days=1))


async def _fresh_database(migrated_template: str, tmp_path: Path) -> str:
    """Another empty, migrated database (PostgreSQL: named after this engineer's test one)."""
    if POSTGRES_URL:
        url = make_url(POSTGRES_URL)
        again = url.set(database=f"{url.database}_again").render_as_string(hide_password=False)
        await recreate_postgres(again, migrated_template)
        return again
    shutil.copyfile(migrated_template, tmp_path / "again.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'again.db'}"


async def _snapshot(platform: Platform) -> object:
    """What a visitor could compare: prices, stock, four weeks of sales, the next codes sold."""
    admin = ADMIN.telegram_id
    pricing = [await platform.pricing_admin.sku_pricing(admin, sku.code) for sku in CATALOGUE]
    report = await platform.reports.summary(admin, Period.MONTH)
    receipt = await platform.shop.buy_now(
        RESELLER_GOLD.telegram_id, "WZRY-60", 2, idempotency_key="snapshot"
    )
    assert isinstance(receipt, Receipt)
    return pricing, report.orders, report.gmv, report.buckets, report.top_skus, receipt.codes


async def test_the_bot_on_the_demo_greets_the_visitor_with_todays_news_and_sells(
    demo: SandboxDemo, settings: Settings, server: FakeTelegramServer
) -> None:
    """The sandbox's first minute, through the real bot and the fake Telegram: the running
    promotion reaches every reseller, the admin hears of the withdrawal, the silver reseller
    buys at her price, and five minutes on the flash sale reaches silver and gold only."""
    clock = FakeClock(NOW + timedelta(minutes=1))
    bot_settings = settings.model_copy(
        update={
            "bot_token": server.token,
            "telegram_api_base": server.base_url,
            "scheduler_interval_seconds": 0.05,
            "outbox_poll_seconds": 0.05,
        }
    )
    live = build_platform(bot_settings, clock=clock)
    chats = {
        persona: server.user(
            persona.telegram_id,
            persona.first_name,
            username=persona.username,
            language_code=persona.language_code,
            started=True,
        )
        for persona in PERSONAS
        if persona is not NEWCOMER
    }
    polling = asyncio.create_task(run_polling(live, create_bot(bot_settings), handle_signals=False))
    try:
        for reseller in LEVEL_OF:
            await chats[reseller].wait_for_message(lambda m: "StreamFlix" in m.content, after=0)
        await chats[ADMIN].wait_for_message(lambda m: "晨星卡务" in m.content, after=0)

        maya = chats[RESELLER_SILVER]
        await maya.send_text("/buy STEAM-100 1")
        quote = await maya.wait_for_message(lambda m: "Total: ¥94.00" in m.content)
        await maya.press("✅ Confirm", message=quote)
        receipt = await maya.wait_for_message(lambda m: "Order #" in m.content)
        assert len(receipt.codes) == 1

        clock.advance(minutes=5)
        await maya.wait_for_message(lambda m: "Steam 闪购" in m.content)
        await chats[RESELLER_GOLD].wait_for_message(lambda m: "Steam 闪购" in m.content, after=0)
        assert not [m for m in chats[RESELLER_BRONZE].messages if "Steam 闪购" in m.content]
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await live.close()


async def test_a_reseller_tops_up_with_usdt_paid_on_the_sandboxs_tron_node(
    demo: SandboxDemo, settings: Settings
) -> None:
    from core.checks import check_ledger
    from sandbox.demo_usdt import DEPOSIT_ADDRESS, usdt_settings
    from sandbox.fake_tron import FakeTronServer

    async with FakeTronServer() as node:
        with_usdt = settings.model_copy(update=usdt_settings(node.base_url))
        platform = build_platform(with_usdt, clock=FakeClock(NOW + timedelta(minutes=1)))
        try:
            gold = RESELLER_GOLD.telegram_id
            before = (await platform.balances.balance(gold)).balance
            created = await platform.payments.create(gold, "usdt", 100_00)
            assert created.step.provider_amount == 13_801_000  # the demo's rate: 7.25
            assert created.step.address == DEPOSIT_ADDRESS
            node.chain.pay(  # what POST /sandbox/pay does, at the visitor's moment
                DEPOSIT_ADDRESS, 13_801_000, at=NOW + timedelta(minutes=2)
            )
            node.chain.mine(20)
            assert (await platform.usdt.watch()).credited == 1
            assert (await platform.balances.balance(gold)).balance == before + 100_00
            assert (await check_ledger(platform.db)).ok
        finally:
            await platform.close()


async def test_a_reseller_can_top_up_with_stars_at_the_admins_opening_rate(
    demo: SandboxDemo, settings: Settings
) -> None:
    platform = build_platform(
        settings.model_copy(update={"stars_enabled": True}),
        clock=FakeClock(NOW + timedelta(minutes=1)),
    )
    try:
        assert await platform.stars.rate() == 10
        created = await platform.payments.create(RESELLER_SILVER.telegram_id, "stars", 100_00)
        assert created.step.telegram_invoice and created.payment.provider_amount == 1_000
    finally:
        await platform.close()


async def test_the_demo_features_a_sku_has_a_zone_and_sold_services(visited: Platform) -> None:
    slots = {slot.name: slot for slot in await visited.ads.slots()}
    assert slots[HOME_SLOT].featured_sku == "STEAM-100"
    assert slots[GAMES_SLOT].featured_sku is None and slots[GAMES_SLOT].open_round is not None
    screen = await visited.storefront.first_screen(RESELLER_SILVER.telegram_id)
    assert [line.code for line in screen.featured] == ["STEAM-100"]
    assert [zone.name for zone in screen.zones] == [ZONE]
    [open_round] = [
        r for r in await visited.ads.open_rounds(SUPPLIER.telegram_id) if r.slot == GAMES_SLOT
    ]
    assert open_round.my_bid is None
    async with visited.db.reading() as session:
        ads = await balance_of(session, AccountKind.PLATFORM_ADS, PLATFORM_OWNER)
        services = await balance_of(session, AccountKind.PLATFORM_SERVICES, PLATFORM_OWNER)
    assert ads == 60_00 + 50_00  # the second-highest bid, and the zone's fee
    assert services == 30_00 + 19_90
    [boost] = await visited.paid_services.subscriptions(SECOND_SUPPLIER.telegram_id)
    assert (boost.sku, boost.status) == ("PUBG-660UC", SubscriptionStatus.ACTIVE)
    [report] = await visited.paid_services.subscriptions(RESELLER_GOLD.telegram_id)
    assert report.offer.code == "report-monthly"
    found = await visited.storefront.skus(RESELLER_SILVER.telegram_id, search="pubg")
    assert found.lines[0].code == "PUBG-660UC"


async def test_the_bronze_reseller_has_drawn_on_a_credit_line_and_game_cards_pay_less(
    visited: Platform,
) -> None:
    line = await visited.credit.statement(RESELLER_BRONZE.telegram_id)
    assert line.limit == 1_000_00 and 0 < line.drawn <= line.limit
    schedules = {view.label: view.tiers for view in await visited.commission.schedules()}
    assert schedules["游戏点卡 Game cards"] == ((0, 200), (500, 100))


async def test_the_demo_builds_in_dollars_at_rates_a_dollar_shop_would_set(
    migrated_template: str, tmp_path: Path
) -> None:
    """KAMENG_CURRENCY=USD: the demo sets $1.00 for 1 USDT and 1 cent a star (its CNY ¥7.25
    and ¥0.10 would be refused as typos there), and skips nothing."""
    again = await _fresh_database(migrated_template, tmp_path)
    dollars = _settings(again).model_copy(update={"currency": "USD"})
    demo = await build_demo(dollars, now=NOW)
    assert demo.skipped == () and "skipped" not in demo.summary()
    platform = build_platform(dollars, clock=FakeClock(NOW + timedelta(minutes=1)))
    try:
        usdt = await platform.usdt.rate()
        assert usdt is not None and usdt.fen_per_usdt == 1_00
        assert await platform.stars.rate() == 1
    finally:
        await platform.close()
        if POSTGRES_URL:
            await drop_postgres(again)


async def test_a_currency_the_demo_knows_no_rate_in_opens_neither_and_says_so(
    platform: Platform,
) -> None:
    from sandbox.demo_stars import open_stars
    from sandbox.demo_usdt import set_up_usdt

    yen = build_platform(platform.settings.model_copy(update={"currency": "JPY"}), db=platform.db)
    assert await set_up_usdt(yen) == (
        "no USDT rate: the demo knows none in JPY (set one with: kameng usdt rate set PRICE)"
    )
    assert await open_stars(yen) == (
        "no Stars rate: the demo knows none in JPY (set one with: kameng stars rate FEN_PER_STAR)"
    )
    assert await yen.usdt.rate() is None and await yen.stars.rate() is None
    lines = ("no USDT rate: …",)
    summary = SandboxDemo("k", 1, 0, 0, 0, 0, "X", NOW, 1.0, skipped=lines).summary()
    assert summary.endswith("\n  skipped: no USDT rate: …")


def test_the_demos_rates_are_inside_their_currencys_sane_range() -> None:
    """Every currency with a sane range has a demo rate inside it: a range narrowed later
    cannot leave the demo setting a rate it refuses."""
    from core.decisions.rates import STARS_RANGES, USDT_RANGES
    from sandbox import demo_stars, demo_usdt

    for rates, ranges in ((demo_usdt.RATES, USDT_RANGES), (demo_stars.RATES, STARS_RANGES)):
        assert rates.keys() == ranges.keys()
        assert all(ranges[c][0] <= rate <= ranges[c][1] for c, rate in rates.items())

"""An admin schedules a promotion in the chat; the scheduler inside the running bot
announces it at the start to the target resellers only, reminds them before the end and
reports the results to the admin; prices follow the window. Two runners (two bot
processes) on one database announce once per reseller, politely under flood control."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest

from core.models import JobStatus, Role
from core.platform import Platform
from core.promotions import ANNOUNCE
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import fill_promo_form
from tests.bot.scheduler_helpers import (
    assert_refused,
    bot_process,
    schedule_percent_off,
    wait_job,
)
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku


async def promotion_jobs(platform: Platform) -> list[str]:
    return [job.kind for job in await platform.jobs.jobs() if job.kind.startswith("promotion.")]


BRONZE, GOLD = 1001, 1002


@pytest.fixture
def settings(quick_scheduler_settings: Settings) -> Settings:
    """The bot's scheduler ticks every 50 ms so that jobs follow the fake clock quickly."""
    return quick_scheduler_settings


async def test_a_scheduled_promotion_is_announced_reminded_and_reported(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=20)  # 92.00
    await make_reseller(shop, BRONZE, balance=1000_00)
    await make_reseller(shop, GOLD, balance=1000_00)
    await shop.catalogue.set_level(GOLD, "gold", actor=ADMIN)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    bronze = server.user(BRONZE, language_code="en", started=True)
    gold = server.user(GOLD, language_code="en", started=True)

    # clock: 2026-11-26 12:00 UTC = 20:00 in Shanghai
    summary = await fill_promo_form(
        admin,
        [
            ("/promo", "What does it cover?"),
            ("🏷 SKU codes", "Send the SKU codes"),
            ("NOPE-1", "There is no SKU NOPE-1"),
            ("steam-100", "Send the discount"),
            ("88.00", "When does it start?"),
            ("tomorrow", "I can't read that time"),
            ("2026-11-26 20:01", "When does it end?"),
            ("2026-11-26 22:01", "Which reseller levels?"),
            ("platinum", "Unknown level"),
            ("gold", "Send the announcement"),
            ("Gold rush\nSteam cards at 88 for gold members", "Remind the resellers"),
            ("5", "whole number of hours"),
            ("1", "Check the promotion"),
        ],
    )
    assert "From 2026-11-26 20:01 (UTC+8) to 2026-11-26 22:01 (UTC+8)" in summary.content
    assert "Levels: gold" in summary.content and "1 h before the end" in summary.content
    await admin.press("✅ Schedule", message=summary)
    await admin.wait_for_message(lambda m: "is scheduled" in m.content)
    await server.wait_callbacks_answered()

    await gold.send_text("/buy STEAM-100 1")
    await gold.wait_for_message(lambda m: "Total: ¥92.00" in m.content)

    clock.advance(minutes=1)  # the promotion starts
    announcement = await gold.wait_for_message(lambda m: "Gold rush" in m.content)
    assert "Steam cards at 88 for gold members" in announcement.content
    assert "¥88.00 each" in announcement.content
    await wait_job(shop, ANNOUNCE, JobStatus.DONE)
    assert not any("Prices are already live" in m.content for m in bronze.messages)

    await gold.send_text("/buy STEAM-100 2")
    quote = await gold.wait_for_message(lambda m: "Total: ¥176.00" in m.content)
    await gold.press("✅ Confirm", message=quote)
    await gold.wait_for_message(lambda m: "Order #" in m.content)
    await bronze.send_text("/buy STEAM-100 1")
    await bronze.wait_for_message(lambda m: "Total: ¥92.00" in m.content)  # not his level

    clock.advance(hours=1)
    await gold.wait_for_message(lambda m: "ends in 1 h" in m.content)
    clock.advance(hours=1)
    report = await admin.wait_for_message(lambda m: "has ended" in m.content, timeout=10)
    assert "Units sold: 2" in report.content and "GMV: ¥176.00" in report.content
    assert "Resellers who bought: 1" in report.content

    await gold.send_text("/buy STEAM-100 1")
    await gold.wait_for_message(lambda m: "Total: ¥92.00" in m.content)
    assert sum("Prices are already live" in m.content for m in gold.messages) == 1
    assert not any("ends in" in m.content for m in bronze.messages)


async def test_cancel_leaves_nothing_scheduled(server: FakeTelegramServer, shop: Platform) -> None:
    await make_sku(shop, stock=1)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    await admin.send_text("/promo")
    await admin.wait_for_message(lambda m: "What does it cover?" in m.content)
    await admin.press("📂 A category")
    await admin.wait_for_message(lambda m: "Choose the category" in m.content)
    await admin.press("Steam")
    await admin.wait_for_message(lambda m: "Send the discount" in m.content)
    await admin.send_text("/cancel")
    await admin.wait_for_message(lambda m: "Nothing was scheduled" in m.content)
    await admin.send_text("15%")  # no longer in the wizard: a product search
    await admin.wait_for_message()
    assert await promotion_jobs(shop) == []  # other parts schedule their own (credit.daily)


async def test_a_reseller_cannot_use_the_promotion_wizard(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, BRONZE)
    mallory = server.user(BRONZE, language_code="en", started=True)
    await assert_refused(
        mallory, ["/promo", "/promos"], ["prm:ok::abc", "prm:skus::", "prm:cat:1:"]
    )
    assert await promotion_jobs(shop) == []  # other parts schedule their own (credit.daily)


async def test_two_bot_processes_announce_once_per_reseller_under_flood_control(
    server: FakeTelegramServer, platform: Platform, clock: FakeClock, settings: Settings
) -> None:
    await make_sku(platform, stock=1)
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor=ADMIN)
    resellers = list(range(2000, 2024))
    for tid in resellers:
        await make_reseller(platform, tid)
        server.user(tid, started=True)
    await platform.catalogue.set_language(resellers[0], "zh-CN")
    await schedule_percent_off(
        platform, clock, "Flash sale", timedelta(seconds=5), timedelta(hours=2), 1500
    )
    server.flood_limit_per_second = 10  # beyond it Telegram answers 429 retry_after=1
    impolite = {"telegram_sends_per_second": 1000.0}  # on purpose: 429s must be honoured
    async with (
        bot_process(platform, server, settings, "process-1", **impolite) as first,
        bot_process(platform, server, settings, "process-2", **impolite) as second,
    ):
        clock.advance(seconds=5)
        results = await asyncio.gather(first.tick(), second.tick())
    assert sorted(len(result.ran) for result in results) == [0, 1]

    received = Counter(
        tid
        for tid in resellers
        for m in server.user(tid, started=True).messages
        if "Flash sale" in m.content and ("−15%" in m.content or "立减 15%" in m.content)
    )
    assert received == Counter(resellers)
    assert "优惠价已生效" in server.user(resellers[0], started=True).messages[0].content
    assert any(error.error_code == 429 for error in server.errors)


@pytest.fixture
def admin_chat(server: FakeTelegramServer) -> None:
    """The admin has written to the bot before it starts (so a per-chat menu can be set)."""
    server.user(ADMIN_ID, language_code="en", started=True)


async def test_admins_see_the_admin_commands_in_their_menu(
    server: FakeTelegramServer, admin_chat: None, shop: Platform
) -> None:
    scoped = [
        call for call in server.calls("setMyCommands") if call.get("scope", {}).get("chat_id")
    ]
    assert [call["scope"]["chat_id"] for call in scoped] == [ADMIN_ID]
    commands = [c["command"] for c in scoped[0]["commands"]]
    assert {"promo", "promos", "reports", "export", "start"} <= set(commands)
    everyone = [call for call in server.calls("setMyCommands") if "scope" not in call]
    assert all("reports" not in str(call["commands"]) for call in everyone)


async def test_after_a_restart_a_late_announcement_goes_once_and_a_too_late_one_is_missed(
    server: FakeTelegramServer, platform: Platform, clock: FakeClock, settings: Settings
) -> None:
    """The bot was down for two hours (grace: one hour); a new process starts."""
    await make_sku(platform, stock=1)
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor=ADMIN)
    await make_reseller(platform, BRONZE)
    bronze = server.user(BRONZE, language_code="en", started=True)
    for name, starts in (
        ("Early bird", timedelta(minutes=1)),
        ("Lunch deal", timedelta(hours=1.5)),
    ):
        await schedule_percent_off(platform, clock, name, starts, timedelta(hours=6), 1000)
    clock.advance(hours=2)
    for process in ("restarted", "restarted-again"):
        async with bot_process(platform, server, settings, process) as runner:
            await runner.tick()

    announced = [m.content.split("\n")[0] for m in bronze.messages]
    assert announced == ["🔥 Lunch deal"]
    statuses = {
        (job.payload["promotion_id"], job.kind): job.status for job in await platform.jobs.jobs()
    }
    assert statuses[(1, ANNOUNCE)] is JobStatus.MISSED
    assert statuses[(2, ANNOUNCE)] is JobStatus.DONE


async def test_a_blocked_reseller_is_skipped_and_telegram_errors_are_retried(
    server: FakeTelegramServer, platform: Platform, clock: FakeClock, settings: Settings
) -> None:
    await make_sku(platform, stock=1)
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor=ADMIN)
    for tid in (3001, 3002, 3003):
        await make_reseller(platform, tid)
        server.user(tid, started=True)
    server.block_user(3002)
    await schedule_percent_off(platform, clock, "Weekend", timedelta(0), timedelta(hours=2), 500)
    server.fail("sendMessage", times=2, error_code=502)
    async with bot_process(platform, server, settings, "solo") as runner:
        assert len((await runner.tick()).ran) == 1
    got = {
        tid: [m.content for m in server.user(tid, started=True).messages]
        for tid in (3001, 3002, 3003)
    }
    assert [len(got[3001]), len(got[3002]), len(got[3003])] == [1, 0, 1]
    (job,) = [job for job in await platform.jobs.jobs() if job.kind == ANNOUNCE]
    assert job.status is JobStatus.DONE and job.cursor == 3003

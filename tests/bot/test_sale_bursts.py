"""A supplier selling faster than his chat takes messages (about one a second) reads one
summary of the burst instead of every notice a second apart; a single sale is still its own
notice. Acted out with the real aiogram Bot on the fake Telegram server, at the production
pace, with the sales made before the sender runs (a burst waiting in the outbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.app import create_bot
from bot.i18n import make_i18n
from bot.outbox_sender import OutboxSender
from bot.sender import Rates, Sender
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import TOKEN
from tests.bot.helpers import eventually, outbox_rows, outbox_settled
from tests.conftest import FakeClock
from tests.factories import SUPPLIER_TID, make_reseller, make_sku

BUYER = 1001
BURST = 12
EARNING = 85_84  # the supplier's earning per STEAM-100 code (tests/bot/test_supplier_sales.py)


@pytest.fixture
async def bot(server: FakeTelegramServer, settings: Settings) -> AsyncIterator[Bot]:
    bot = create_bot(
        settings.model_copy(update={"bot_token": TOKEN, "telegram_api_base": server.base_url})
    )
    yield bot
    await bot.session.close()


async def _sales(platform: Platform, server: FakeTelegramServer, language: str, count: int):  # type: ignore[no-untyped-def]
    """``count`` quick one-code sales of the supplier's SKU (stock 20), nothing sent yet."""
    await make_sku(platform, stock=20)
    await platform.catalogue.set_language(SUPPLIER_TID, language)
    sam = server.user(SUPPLIER_TID, first_name="Sam", language_code=language, started=True)
    await make_reseller(platform, BUYER, balance=92_00 * count)
    for n in range(count):
        await platform.shop.buy_now(BUYER, "STEAM-100", 1, idempotency_key=f"burst{n}")
    return sam


async def _drain(platform: Platform, bot: Bot) -> None:
    """The production pace: one message a second into a private chat."""
    outbox = OutboxSender(platform, Sender(bot, Rates()), make_i18n(), poll_seconds=0.01)
    outbox.start()
    try:
        await outbox_settled(platform)
    finally:
        await outbox.stop()


async def test_twelve_quick_sales_reach_the_supplier_as_one_summary_of_their_units_and_money(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    sam = await _sales(platform, server, "en", BURST)

    await _drain(platform, bot)

    assert len(sam.messages) <= 2  # not twelve, a second apart
    summary = sam.messages[0].content
    assert "Sales since your last notice" in summary
    assert f"Orders: {BURST} · units: {BURST} · earnings: ¥1,030.08" in summary
    assert BURST * EARNING == 1_030_08
    assert f"STEAM-100 STEAM-100 card: {BURST} orders, {BURST} units, ¥1,030.08" in summary
    assert "stock left: 8" in summary
    assert "(UTC+8)" in summary  # the reader's zone
    rows = await outbox_rows(platform, "sale")
    assert len(rows) == BURST
    assert {(row.outcome, row.attempts) for row in rows} == {("sent", 1)}


async def test_a_chinese_supplier_reads_the_summary_in_chinese(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    sam = await _sales(platform, server, "zh-CN", BURST)

    await _drain(platform, bot)

    assert len(sam.messages) <= 2
    summary = sam.messages[0].content
    assert "自上次通知以来的销售" in summary
    assert "¥1,030.08" in summary and f"{BURST} 个订单" in summary
    assert "剩余库存：8" in summary
    assert "（UTC+8）" in summary
    assert {row.outcome for row in await outbox_rows(platform, "sale")} == {"sent"}


async def test_a_single_sale_is_still_its_own_notice(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    sam = await _sales(platform, server, "en", 1)

    await _drain(platform, bot)

    [notice] = sam.messages
    assert "Sold: 1 × STEAM-100 card" in notice.content
    assert "Your earning: ¥85.84" in notice.content and "Stock left: 19" in notice.content
    assert [row.outcome for row in await outbox_rows(platform, "sale")] == ["sent"]


async def test_a_few_sales_go_one_by_one_as_before(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    sam = await _sales(platform, server, "en", 3)  # FOLD_OVER: not yet a burst

    await _drain(platform, bot)

    assert [m.content.split(":")[0] for m in sam.messages] == ["💰 Sold"] * 3
    assert [m.content.split("Stock left: ")[1] for m in sam.messages] == ["17"] * 3
    assert {row.outcome for row in await outbox_rows(platform, "sale")} == {"sent"}


async def test_a_summary_telegram_failed_is_retried_for_every_sale_and_told_once(
    server: FakeTelegramServer, platform: Platform, bot: Bot, clock: FakeClock
) -> None:
    """The summary stands for all its rows: a 5xx hands every one back with its backoff,
    and the next try tells them all, once."""
    sam = await _sales(platform, server, "en", BURST)
    server.fail("sendMessage", times=1, error_code=500, chat_id=SUPPLIER_TID)
    outbox = OutboxSender(platform, Sender(bot, Rates()), make_i18n(), poll_seconds=0.01)
    outbox.start()
    try:

        async def failed() -> bool:  # every row's failed attempt written
            return all(row.attempts == 1 for row in await outbox_rows(platform, "sale"))

        await eventually(failed, "the failed summary's retries")
        assert not sam.messages
        clock.advance(seconds=10)  # past the first backoff (5 s), on the database's clock
        await outbox_settled(platform)
    finally:
        await outbox.stop()

    [summary] = sam.messages
    assert f"Orders: {BURST} · units: {BURST} · earnings: ¥1,030.08" in summary.content
    rows = await outbox_rows(platform, "sale")
    assert {(row.outcome, row.attempts) for row in rows} == {("sent", 2)}
    assert all(row.last_error for row in rows)  # each row keeps why it waited

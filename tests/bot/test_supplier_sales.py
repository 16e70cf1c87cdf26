"""A supplier hears about sales: instantly or in digests, through a Telegram outage, and
once per low-stock crossing — acted out on the fake Telegram server."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from bot.app import create_bot, run_polling
from bot.i18n import make_i18n
from bot.outbox_sender import OutboxSender
from bot.sender import Sender
from core.models import SalesNotify
from core.platform import Platform
from core.settings import Settings
from core.supplier_sales import period_bounds
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.state import ChatMessage
from tests.bot.conftest import TOKEN
from tests.bot.helpers import eventually, outbox_rows, outbox_settled
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001


@pytest.fixture
def settings(database_url: str) -> Settings:
    """In production a supplier's chat gets at most one message a second (the sender's
    per-chat pace, tested in ``test_sender.py``); here bursts of 30 sales must reach the
    supplier within the usual waits, so the per-chat pace is lifted."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        telegram_private_chat_per_second=1000.0,
        _env_file=None,
    )


def sold(message: ChatMessage) -> bool:
    return "Sold" in message.content


def sales_told(messages: list[ChatMessage]) -> int:
    """Sales the supplier was told of: one per notice, a summary's orders for a burst."""
    told = 0
    for message in messages:
        if sold(message):
            told += 1
        elif "Sales since your last notice" in message.content:
            told += int(message.content.split("Orders: ")[1].split(" ")[0])
    return told


async def _supplier(server: FakeTelegramServer, shop: Platform, language: str = "en"):  # type: ignore[no-untyped-def]
    await shop.catalogue.set_language(SUPPLIER_TID, language)
    return server.user(SUPPLIER_TID, first_name="Sam", language_code=language, started=True)


async def test_a_reseller_buys_and_the_supplier_hears_sku_quantity_and_earning_only(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=10)
    sam = await _supplier(server, shop)
    await make_reseller(shop, RESELLER, balance=500_00)
    ann = server.user(
        RESELLER, first_name="Ann", username="ann_reseller", language_code="en", started=True
    )

    await ann.send_text("/buy STEAM-100 2")
    quote = await ann.wait_for_message(lambda m: "Total: ¥184.00" in m.content)
    await ann.press("✅ Confirm", message=quote)
    await ann.wait_for_message(lambda m: "Order #" in m.content)

    notice = await sam.wait_for_message(sold, after=0)
    # 92.00 − 85.00 = 7.00 spread, half to the supplier: 88.50 gross; 3% commission rounded
    # up to 2.66 → 85.84 per code, 171.68 for two.
    assert "2 × STEAM-100 card" in notice.content
    assert "Your earning: ¥171.68" in notice.content
    assert "Stock left: 8" in notice.content
    for secret in codes:
        assert secret not in notice.content
    for identity in (str(RESELLER), "Ann", "ann_reseller"):
        assert identity not in notice.content
    await outbox_settled(shop)
    assert len([m for m in sam.messages if sold(m)]) == 1


async def test_a_chinese_supplier_is_told_in_chinese(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)
    sam = await _supplier(server, shop, language="zh-CN")
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="zh")
    notice = await sam.wait_for_message(lambda m: "已售出" in m.content, after=0)
    assert "您的收入：¥85.84" in notice.content


async def test_hourly_digest_sends_nothing_per_sale_then_one_summary_with_exact_totals(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=10)
    await make_sku(shop, "XBOX-50", stock=10, supply_price=40_00, price=45_00, face_value=50_00)
    sam = await _supplier(server, shop)
    await make_reseller(shop, RESELLER, balance=1000_00)

    await sam.send_text("/supplier_settings")
    await sam.wait_for_message(lambda m: "Now: Every sale, instantly" in m.content)
    await sam.press("Hourly digest")
    await sam.wait_for_message(lambda m: "Now: Hourly digest" in m.content)
    assert await shop.supplier_sales.notify_mode(SUPPLIER_TID) is SalesNotify.HOURLY

    clock.advance(minutes=10)  # 12:10
    for n, (sku, quantity) in enumerate([("STEAM-100", 1), ("STEAM-100", 2), ("XBOX-50", 3)]):
        await shop.shop.buy_now(RESELLER, sku, quantity, idempotency_key=f"d{n}")
        clock.advance(minutes=5)
    await outbox_settled(shop)
    assert {row.outcome for row in await outbox_rows(shop, "sale")} == {"absorbed"}
    assert not [m for m in sam.messages if sold(m) or "sales" in m.content]

    clock.advance(hours=1)  # 13:25: the 12:00–13:00 hour is over
    digest = await sam.wait_for_message(lambda m: "Hourly sales" in m.content, after=0)
    # STEAM-100: 85.84 a unit × 3 = 257.52. XBOX-50: 45 − 40 = 5 spread, 2.50 to the supplier,
    # 42.50 gross, 3% = 1.275 → 1.28 → 41.22 a unit × 3 = 123.66. Total 381.18.
    assert "Hourly sales 2026-11-26 20:00 (UTC+8) – 2026-11-26 21:00 (UTC+8)" in digest.content
    assert "Orders: 3 · units: 6 · earnings: ¥381.18" in digest.content
    assert "STEAM-100 STEAM-100 card: 2 orders, 3 units, ¥257.52" in digest.content
    assert "XBOX-50 XBOX-50 card: 1 orders, 3 units, ¥123.66" in digest.content
    await outbox_settled(shop)
    clock.advance(hours=2)
    await shop.shop.buy_now(RESELLER, "XBOX-50", 1, idempotency_key="later")  # next digest
    await outbox_settled(shop)
    assert len([m for m in sam.messages if "Hourly sales" in m.content]) == 1
    assert not [m for m in sam.messages if sold(m)]


async def test_a_telegram_outage_delays_the_notice_and_it_arrives_exactly_once(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=5)
    sam = await _supplier(server, shop)
    await make_reseller(shop, RESELLER, balance=500_00)

    with server.failing("sendMessage", 502):
        receipt = await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="outage")
        assert receipt.codes and (await shop.balances.balance(RESELLER)).balance == 408_00

        async def tried() -> bool:
            return any(r.attempts >= 1 for r in await outbox_rows(shop, "sale"))

        await eventually(tried, "a failed delivery attempt")
        (row,) = await outbox_rows(shop, "sale")
        assert row.outcome is None and "Bad Gateway" in (row.last_error or "")
        assert not sam.messages

    clock.advance(minutes=1)  # past the backoff
    notice = await sam.wait_for_message(sold, after=0)
    assert "Your earning: ¥85.84" in notice.content
    await outbox_settled(shop)
    (row,) = await outbox_rows(shop, "sale")
    assert row.outcome == "sent" and row.attempts == 2
    clock.advance(hours=1)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="after")
    await sam.wait_for_message(lambda m: sold(m) and "Stock left: 3" in m.content, after=0)
    assert [m.content.count("Sold") for m in sam.messages] == [1, 1]


async def test_a_supplier_who_blocked_the_bot_is_not_retried(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=5)
    await _supplier(server, shop)
    server.block_user(SUPPLIER_TID)
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="blocked")
    await outbox_settled(shop)
    clock.advance(days=1)
    (row,) = await outbox_rows(shop, "sale")
    assert row.outcome == "undeliverable" and row.attempts == 1
    assert "blocked" in (row.last_error or "")


async def test_low_stock_alert_fires_once_per_crossing_and_rearms_after_restock(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=8)
    sam = await _supplier(server, shop)
    await make_reseller(shop, RESELLER, balance=5000_00)

    await sam.send_text("/myproducts")
    listing = await sam.wait_for_message(lambda m: "My products" in m.content)
    assert "Stock: 8 · no alert" in listing.content
    await sam.press("🔔 STEAM-100", message=listing)
    await sam.wait_for_message(lambda m: "falls below how many" in m.content)
    await sam.send_text("five")
    await sam.wait_for_message(lambda m: "whole number" in m.content)
    await sam.send_text("5")
    await sam.wait_for_message(lambda m: "told once when" in m.content)
    await sam.wait_for_message(lambda m: "Stock: 8 · alert below 5" in m.content)

    def low(message: ChatMessage) -> bool:
        return "Low stock" in message.content

    async def buy(quantity: int, key: str, stock_left: int) -> None:
        await shop.shop.buy_now(RESELLER, "STEAM-100", quantity, idempotency_key=key)
        await sam.wait_for_message(
            lambda m: sold(m) and f"Stock left: {stock_left}" in m.content, after=0
        )

    await buy(2, "a", 6)
    await buy(2, "b", 4)  # crosses below 5
    await buy(1, "c", 3)  # still below: no second alert
    await outbox_settled(shop)
    alerts = [m for m in sam.messages if low(m)]
    assert len(alerts) == 1 and "has 4 left, below your alert level of 5" in alerts[0].content

    await shop.stock.import_codes("STEAM-100", [f"NEW-{n}" for n in range(10)], actor=ADMIN)
    await buy(1, "d", 12)  # back above: re-armed
    await buy(8, "e", 4)  # crosses again
    await outbox_settled(shop)
    alerts = [m for m in sam.messages if low(m)]
    assert len(alerts) == 2 and "has 4 left" in alerts[1].content

    await sam.send_text("/myproducts")
    listing = await sam.wait_for_message(lambda m: "My products" in m.content)
    assert "Stock: 4 · alert below 5" in listing.content
    assert "Sold: today 14 · 7 days 14 · 30 days 14" in listing.content


async def test_supplier_commands_are_refused_to_a_reseller(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    ann = server.user(RESELLER, language_code="en", started=True)
    for command in ("/myproducts", "/earnings", "/supplier_settings"):
        await ann.send_text(command)
        await ann.wait_for_message(lambda m: "not allowed" in m.content)


async def test_two_bot_processes_send_each_notice_exactly_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    """A second sender (another process's) competes for the same rows; the lease decides."""
    await make_sku(shop, stock=40)
    sam = await _supplier(server, shop)
    await make_reseller(shop, RESELLER, balance=5000_00)
    other_bot = create_bot(shop.settings)
    other_sender = Sender.for_settings(other_bot, shop.settings)
    other = OutboxSender(shop, other_sender, make_i18n(), poll_seconds=0.01, batch=3)
    other.start()
    try:
        for n in range(30):
            await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key=f"p{n}")
        await outbox_settled(shop)
    finally:
        await other.stop()
        await other_bot.session.close()
    # a burst may arrive folded into summaries: every sale is told once, one way or the other
    assert sales_told(sam.messages) == 30
    rows = await outbox_rows(shop, "sale")
    assert {(row.outcome, row.attempts) for row in rows} == {("sent", 1)}


def test_digest_periods_are_utc_hours_and_days() -> None:
    moment = datetime(2026, 11, 26, 12, 34, 56, tzinfo=UTC)
    assert period_bounds(moment, SalesNotify.HOURLY) == (
        datetime(2026, 11, 26, 12, tzinfo=UTC),
        datetime(2026, 11, 26, 13, tzinfo=UTC),
    )
    assert period_bounds(moment, SalesNotify.DAILY) == (
        datetime(2026, 11, 26, tzinfo=UTC),
        datetime(2026, 11, 27, tzinfo=UTC),
    )


async def test_flood_control_is_obeyed_then_the_notice_goes_out(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=5)
    sam = await _supplier(server, shop)
    await make_reseller(shop, RESELLER, balance=500_00)
    server.fail("sendMessage", times=1, error_code=429, retry_after=1)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="flood")

    async def limited() -> bool:
        return any("429" in (r.last_error or "") for r in await outbox_rows(shop, "sale"))

    await eventually(limited, "the 429 to be recorded")
    assert not sam.messages
    clock.advance(seconds=1)  # Telegram's retry_after
    await sam.wait_for_message(sold, after=0)
    await outbox_settled(shop)
    (row,) = await outbox_rows(shop, "sale")
    assert (row.outcome, row.attempts) == ("sent", 2)


async def test_the_sender_starts_and_stops_with_polling(
    server: FakeTelegramServer, platform: Platform, settings: Settings
) -> None:
    bot_settings = settings.model_copy(
        update={"bot_token": TOKEN, "telegram_api_base": server.base_url}
    )
    polling = asyncio.create_task(
        run_polling(platform, create_bot(bot_settings), handle_signals=False)
    )

    def sender_tasks() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "kameng-outbox-sender"]

    async def running() -> bool:
        return bool(sender_tasks()) and bool(server.calls("getUpdates"))

    await eventually(running, "polling and the sender to start")
    polling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await polling
    assert not sender_tasks()

"""What a reseller and an admin read: times in the reader's zone with the zone shown (the
same moment as the announcement says), amounts with the currency sign, quotes that say
what stops a purchase, and promotions whose discount the supply-price floor cuts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import JobStatus, PromotionKind
from core.platform import Platform
from core.promotions import ANNOUNCE, NewPromotion
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.state import ChatMessage
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import fill_promo_form
from tests.bot.scheduler_helpers import wait_job
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

RESELLER = 1001


async def open_card(user: FakeUser, category: str, sku_button: str) -> ChatMessage:
    """Opens a SKU card from the categories the bot just sent, as the user would."""
    await user.wait_for_message(lambda m: category in m.buttons)
    await user.press(category)
    await user.wait_for_message(lambda m: sku_button in m.buttons)
    await user.press(sku_button)
    return await user.wait_for_message(lambda m: "Face value" in m.content)


@pytest.fixture
def settings(quick_scheduler_settings: Settings) -> Settings:
    """The default zone (Asia/Shanghai) and currency (CNY); the scheduler ticks quickly."""
    return quick_scheduler_settings


async def test_a_reseller_reads_every_time_in_shanghai_with_the_zone_as_announced(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    # clock: 2026-11-26 12:00 UTC = 20:00 in Shanghai; the promotion ends 10:25 UTC next day
    await make_sku(shop, stock=10)  # 92.00
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.promotions.schedule(
        ADMIN_ID,
        NewPromotion(
            kind=PromotionKind.FIXED_PRICE,
            fixed_price=88_00,
            sku_codes=("STEAM-100",),
            starts_at=clock.now(),
            ends_at=clock.now() + timedelta(hours=22, minutes=25),
            announcement="Steam week",
        ),
        idempotency_key="steam-week",
    )
    ann = server.user(RESELLER, language_code="en", started=True)
    await wait_job(shop, ANNOUNCE, JobStatus.DONE)
    announcement = await ann.wait_for_message(lambda m: "Steam week" in m.content)
    assert "Until 2026-11-27 18:25 (UTC+8)" in announcement.content

    await ann.send_text("/start")
    await ann.wait_for_message(lambda m: "Welcome" in m.content)
    await ann.press_reply("🛒 Catalogue")
    card = await open_card(ann, "Steam (1)", "STEAM-100 card · ¥88.00 · 10 left")
    assert "until 2026-11-27 18:25 (UTC+8)" in card.content
    # the old price struck through, the real one in bold
    assert "Your price: <s>¥92.00</s> <b>¥88.00</b>" in card.html

    await ann.press("1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥88.00" in m.content)
    assert "This price holds until 2026-11-26 20:05 (UTC+8)." in quote.content
    assert "<s>¥92.00</s> <b>¥88.00</b>" in quote.html
    await ann.press("✅ Confirm", message=quote)
    await ann.wait_for_message(lambda m: "Order #" in m.content)

    await ann.send_text("/orders")
    await ann.wait_for_message(lambda m: "Your orders" in m.content)
    await ann.press("#1 · 1 × STEAM-100 card · ¥88.00")
    detail = await ann.wait_for_message(lambda m: "Status:" in m.content)
    assert "Date: 2026-11-26 20:00 (UTC+8)" in detail.content

    await ann.press_reply("💰 Balance")
    await ann.wait_for_message(lambda m: "📜 Statement" in m.buttons)
    await ann.press("📜 Statement")
    statement = await ann.wait_for_message(lambda m: "Last movements" in m.content)
    assert "2026-11-26 20:00 (UTC+8) · purchase · -¥88.00" in statement.content
    assert "UTC " not in statement.content and "UTC\n" not in statement.content


async def test_a_chinese_reader_sees_the_yuan_sign_and_the_zone(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=10)
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.catalogue.set_language(RESELLER, "zh-CN")
    ann = server.user(RESELLER, language_code="zh-hans", started=True)

    await ann.send_text("/buy STEAM-100 2")
    quote = await ann.wait_for_message(lambda m: "¥184.00" in m.content)
    assert "单价：¥92.00" in quote.content and "¥316.00" in quote.content
    assert "2026-11-26 20:05（UTC+8）" in quote.content


async def test_more_than_is_left_offers_what_is_left_and_no_confirm(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=1000_00)
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/buy STEAM-100 5")
    refused = await ann.wait_for_message(lambda m: "Only 3 left" in m.content)
    assert "5 cannot be bought now" in refused.content
    assert refused.buttons == ["🛒 Quote 3", "✖ Cancel"]  # no Confirm, no price to pay
    assert "Total" not in refused.content

    await ann.press("🛒 Quote 3", message=refused)
    quote = await ann.wait_for_message(lambda m: "Total: ¥276.00" in m.content)
    assert "✅ Confirm" in quote.buttons
    await ann.press("✅ Confirm", message=quote)
    await ann.wait_for_message(lambda m: "Order #" in m.content)
    assert await shop.catalogue.stock_count("STEAM-100") == 0

    await ann.send_text("/buy STEAM-100 1")
    gone = await ann.wait_for_message(lambda m: "Out of stock" in m.content)
    assert gone.buttons == ["✖ Cancel"]


async def test_a_short_balance_shows_the_shortfall_never_a_negative_balance(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=50_00)
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥92.00" in m.content)
    assert "Your balance: ¥50.00" in quote.content
    assert "Short by ¥42.00: top up to buy." in quote.content
    assert "Balance after" not in quote.content and "-¥" not in quote.content
    assert quote.buttons == ["💰 Top up", "✖ Cancel"]


async def test_a_reseller_on_credit_sees_the_credit_in_use_not_a_negative_balance(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=50_00)
    await shop.catalogue.set_credit_limit(RESELLER, 100_00, actor=ADMIN)
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥92.00" in m.content)
    assert "After this, ¥42.00 of your ¥100.00 credit line is in use." in quote.content
    assert "-¥" not in quote.content and "✅ Confirm" in quote.buttons


async def test_a_quantity_break_is_shown_only_where_it_saves_money(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=20)  # 92.00, supply 85.00
    await make_sku(shop, "XBOX-50", stock=20, category="Xbox")  # 92.00, supply 85.00
    for code in ("STEAM-100", "XBOX-50"):  # from 10 units −5%: 87.40
        await shop.catalogue.add_quantity_break(
            min_quantity=10, discount_bps=500, sku_code=code, actor=ADMIN
        )
    await make_reseller(shop, RESELLER, balance=1000_00)
    await shop.promotions.schedule(  # Steam at 86.00: the break's 87.40 saves nothing
        ADMIN_ID,
        NewPromotion(
            kind=PromotionKind.FIXED_PRICE,
            fixed_price=86_00,
            sku_codes=("STEAM-100",),
            starts_at=clock.now(),
            ends_at=clock.now() + timedelta(days=1),
            announcement="Steam",
        ),
        idempotency_key="steam",
    )
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/catalogue")
    xbox = await open_card(ann, "Xbox (1)", "XBOX-50 card · ¥92.00 · 20 left")
    assert "From 10 units: ¥87.40 each (−5%)" in xbox.content

    await ann.send_text("/catalogue")
    steam = await open_card(ann, "Steam (1)", "STEAM-100 card · ¥86.00 · 20 left")
    assert "From 10 units" not in steam.content
    await ann.send_text("/buy STEAM-100 10")
    quote = await ann.wait_for_message(lambda m: "Total: ¥860.00" in m.content)
    assert "Quantity discount" not in quote.content


async def test_the_admin_sees_the_price_the_supply_floor_leaves_before_scheduling(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5, level_prices={"gold": 90_00})  # 92.00, supply 85.00
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    summary = await fill_promo_form(
        admin,
        [
            ("/promo", "What does it cover?"),
            ("🏷 SKU codes", "Send the SKU codes"),
            ("STEAM-100", "Send the discount"),
            ("20%", "When does it start?"),
            ("2026-11-26 21:00", "When does it end?"),
            ("2026-11-27 21:00", "Which reseller levels?"),
            ("bronze gold", "Send the announcement"),
            ("Big sale", "Remind the resellers"),
            ("1", "Check the promotion"),
        ],
    )
    assert "From 2026-11-26 21:00 (UTC+8) to 2026-11-27 21:00 (UTC+8)" in summary.content
    # 20% off 92.00 is 73.60 and off 90.00 is 72.00: both below the supply price, 85.00
    assert "supply-price floor cuts this discount" in summary.content
    assert "<code>STEAM-100</code> bronze: <s>¥92.00</s> <b>¥85.00</b> (not ¥73.60)" in (
        summary.html
    )
    assert "<code>STEAM-100</code> gold: <s>¥90.00</s> <b>¥85.00</b> (not ¥72.00)" in (summary.html)
    assert "✅ Schedule" in summary.buttons

"""An admin's day in the bot: the panel's counters, users, catalogue and prices, a product
moved to another category, the ladder.
Acted out against the fake Telegram server on a real database."""

from __future__ import annotations

import json

from sqlalchemy import select

from core.checks import check_ledger
from core.models import AuditRecord, SkuStatus, UserStatus
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer, FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001


async def _audit(platform: Platform, action: str) -> list[AuditRecord]:
    async with platform.db.reading() as session:
        return list(await session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


async def _panel(admin: FakeUser) -> None:
    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "Admin panel" in m.content)


async def test_panel_counts_what_waits_and_is_for_admins_only(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)
    await make_sku(shop, "XBOX-50", stock=0)
    await shop.catalogue.set_sku_status("XBOX-50", SkuStatus.PENDING_REVIEW, actor=ADMIN)
    await make_reseller(shop, RESELLER, balance=100_00)
    await shop.topups.request(RESELLER, 50_00, note="bank 1")
    await shop.topups.request(RESELLER, 70_00, note="bank 2")
    receipt = await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    await shop.aftersales.report(RESELLER, receipt.order_id, 1, reason="used")  # type: ignore[union-attr]
    admin = server.user(ADMIN_ID, started=True)
    ann = server.user(RESELLER, started=True)

    await admin.send_text("/admin")
    panel = await admin.wait_for_message(lambda m: "Admin panel" in m.content)

    assert "Products awaiting review: 1" in panel.content
    assert "Top-up requests pending: 2" in panel.content
    assert "Open bad-code reports: 1" in panel.content
    assert "🛠 Bad-code reports (1)" in panel.buttons
    await admin.press("💳 Top-ups (2)")
    await admin.wait_for_messages(2, lambda m: "✅ Approve" in m.buttons)
    await ann.send_text("/admin")
    await ann.wait_for_message(lambda m: "I don't know that command" in m.content)
    assert not any("Admin panel" in m.content for m in ann.messages)


async def test_admin_finds_a_user_and_sets_level_credit_ban_and_balance(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER, balance=100_00)
    admin = server.user(ADMIN_ID, started=True)
    ann = server.user(RESELLER, started=True)
    await _panel(admin)

    await admin.press("👤 Users")
    await admin.wait_for_message(lambda m: "Telegram id or @username" in m.content)
    await admin.send_text(str(RESELLER))
    card = await admin.wait_for_message(lambda m: f"User {RESELLER}" in m.content)
    assert "Level: bronze" in card.content and "Balance: ¥100.00" in card.content
    await admin.press("gold", message=card)
    await admin.wait_for_message(lambda m: "Level: gold" in m.content)

    await admin.press("💳 Credit limit")
    await admin.wait_for_message(lambda m: "new credit limit" in m.content)
    await admin.send_text("300")
    await admin.wait_for_message(lambda m: "credit limit ¥300.00" in m.content)

    await admin.press("± Adjust balance")
    await admin.wait_for_message(lambda m: "signed amount and a note" in m.content)
    await admin.send_text("-25.50")
    await admin.wait_for_message(lambda m: "A note is required" in m.content)
    assert (await shop.balances.balance(RESELLER)).balance == 100_00
    await admin.send_text("-25.50 duplicate top-up #7")
    adjusted = await admin.wait_for_message(lambda m: "Balance adjusted" in m.content)
    assert "Balance adjusted by -¥25.50. New balance: ¥74.50." in adjusted.content

    (movement, *_) = await shop.balances.statement(RESELLER)
    assert (movement.kind, movement.amount, movement.memo) == (
        "adjustment",
        -25_50,
        "duplicate top-up #7",
    )
    (record,) = await _audit(shop, "adjustment")
    assert record.actor == f"admin:{ADMIN_ID}"
    assert json.loads(record.payload) == {"amount": -25_50, "note": "duplicate top-up #7"}
    assert (await check_ledger(shop.db)).ok

    await _panel(admin)
    await admin.press("👤 Users")
    await admin.wait_for_message(lambda m: "Telegram id or @username" in m.content)
    await admin.send_text(f"@r{RESELLER}")
    await admin.wait_for_message(lambda m: f"User {RESELLER} @r{RESELLER}" in m.content)
    await admin.press("🚫 Ban")
    await admin.wait_for_message(lambda m: "Status: banned" in m.content)
    assert [json.loads(r.payload) for r in await _audit(shop, "user.status")] == [
        {"status": "banned"}
    ]

    await ann.send_text("/catalogue")
    assert "suspended" in (await ann.wait_for_message()).content
    user = await shop.catalogue.user(RESELLER)
    assert (user.status, user.level_name, user.credit_limit) == (UserStatus.BANNED, "gold", 300_00)


async def test_level_price_and_quantity_break_change_the_resellers_quote(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=20)
    await make_reseller(shop, RESELLER, balance=2000_00)
    admin = server.user(ADMIN_ID, started=True)
    ann = server.user(RESELLER, started=True)
    await ann.send_text("/buy STEAM-100 10")
    await ann.wait_for_message(lambda m: "Total: ¥920.00" in m.content)

    await _panel(admin)
    await admin.press("🏷 Product prices")
    await admin.wait_for_message(lambda m: "product code" in m.content)
    await admin.send_text("steam-100")
    card = await admin.wait_for_message(lambda m: "Level prices:" in m.content)
    assert "bronze —" in card.content and "No quantity breaks." in card.content
    await admin.press("bronze price", message=card)
    await admin.wait_for_message(lambda m: "bronze price of STEAM-100" in m.content)
    await admin.send_text("80")  # below the supply price of 85.00
    await admin.wait_for_message(lambda m: "could not be done" in m.content)
    await admin.send_text("90")
    await admin.wait_for_message(lambda m: "bronze ¥90.00" in m.content)
    await admin.press("➕ Quantity break")
    await admin.wait_for_message(lambda m: "quantity and the discount" in m.content)
    await admin.send_text("10 5")
    card = await admin.wait_for_message(lambda m: "Quantity breaks: from 10: −5%" in m.content)

    await ann.send_text("/buy STEAM-100 10")
    quote = await ann.wait_for_message(lambda m: "Total: ¥855.00" in m.content)
    assert "Unit price: ¥85.50" in quote.content and "from 10 units: −5%" in quote.content

    await admin.press("✖ from 10: −5%", message=card)
    await admin.wait_for_message(lambda m: "No quantity breaks." in m.content)
    await admin.press("⏸ Suspend")
    await admin.wait_for_message(lambda m: "Status: suspended" in m.content)
    await ann.send_text("/buy STEAM-100 1")
    await ann.wait_for_message(lambda m: "not for sale" in m.content)
    assert len(await _audit(shop, "price.level")) == 1
    assert len(await _audit(shop, "price.break")) == 1
    assert len(await _audit(shop, "price.break.remove")) == 1


async def test_a_level_price_above_face_value_is_refused_with_both_amounts(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=1)  # face value 100.00
    admin = server.user(ADMIN_ID)
    await _panel(admin)
    await admin.press("🏷 Product prices")
    await admin.wait_for_message(lambda m: "product code" in m.content)
    await admin.send_text("STEAM-100")
    card = await admin.wait_for_message(lambda m: "Level prices:" in m.content)
    await admin.press("gold price", message=card)
    await admin.wait_for_message(lambda m: "gold price of STEAM-100" in m.content)

    await admin.send_text("1000")  # meant 10.00
    await admin.wait_for_message(
        lambda m: "¥1,000.00 is above the face value ¥100.00; type a lower price." in m.content
    )
    await admin.send_text("95")
    await admin.wait_for_message(lambda m: "gold ¥95.00" in m.content)
    assert len(await _audit(shop, "price.level")) == 1


async def test_categories_ladder_and_spread_are_changed_and_used_by_the_next_sale(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)  # 92.00, supply 85.00
    await make_reseller(shop, RESELLER, balance=500_00)
    admin = server.user(ADMIN_ID, started=True)
    await _panel(admin)

    await admin.press("🗂 Categories")
    await admin.wait_for_message(lambda m: "Steam (1 products)" in m.content)
    await admin.press("✏️ Steam")
    await admin.wait_for_message(lambda m: "category's name" in m.content)
    await admin.send_text("Steam CN")
    await admin.wait_for_message(lambda m: "Steam CN (1 products)" in m.content)
    await admin.press("➕ Add category")
    await admin.wait_for_message(lambda m: "category's name" in m.content)
    await admin.send_text("Xbox")
    await admin.wait_for_message(lambda m: "Xbox (0 products)" in m.content)

    await _panel(admin)
    await admin.press("📈 Commission & spread")
    ladder = await admin.wait_for_message(lambda m: "Commission ladder" in m.content)
    assert "Normal: from 0: 3%, from 1000: 2%, from 10000: 1%" in ladder.content
    assert "Supplier's share of the spread: 50%" in ladder.content
    await admin.press("✏️ Normal tier")
    await admin.wait_for_message(lambda m: "normal tier" in m.content)
    await admin.send_text("0 2.5")
    await admin.wait_for_message(lambda m: "Normal: from 0: 2.5%, from 1000: 2%" in m.content)
    await admin.press("✏️ Spread share")
    await admin.wait_for_message(lambda m: "share of the spread in %" in m.content)
    await admin.send_text("60")
    await admin.wait_for_message(lambda m: "Supplier's share of the spread: 60%" in m.content)
    await admin.press("✖ normal from 1000: 2%")
    after = await admin.wait_for_message(lambda m: "Commission ladder" in m.content)
    assert "Normal: from 0: 2.5%, from 10000: 1%" in after.content

    before = (await shop.balances.supplier(SUPPLIER_TID)).payable
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="after-change")
    # spread 7.00 → 60 % = 4.20 to the supplier; gross 89.20; 2.5 % commission = 2.23 (ceil)
    assert (await shop.balances.supplier(SUPPLIER_TID)).payable - before == 89_20 - 2_23
    assert len(await _audit(shop, "ladder.set")) == 1
    assert len(await _audit(shop, "ladder.remove")) == 1
    assert len(await _audit(shop, "policy.spread")) == 1
    assert len(await _audit(shop, "category.rename")) == 1
    assert (await check_ledger(shop.db)).ok


async def test_the_panel_speaks_chinese_to_a_chinese_admin(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await shop.catalogue.set_language(ADMIN_ID, "zh-CN")
    admin = server.user(ADMIN_ID, language_code="zh-hans", started=True)
    await admin.send_text("/admin")
    panel = await admin.wait_for_message(lambda m: "管理面板" in m.content)
    assert "待审核商品：0" in panel.content and "🛠 卡密问题（0）" in panel.buttons
    await admin.press("📈 佣金与差价")
    ladder = await admin.wait_for_message(lambda m: "阶梯佣金" in m.content)
    assert "普通：满 0 件：3%" in ladder.content


CARDS = "游戏点卡 Game cards"


async def test_an_admin_moves_a_product_to_another_category_once_however_often_pressed(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)  # in "Steam"
    await make_sku(shop, "PSN-50", stock=3, category=CARDS)
    await make_reseller(shop, RESELLER)
    admin = server.user(ADMIN_ID, started=True)
    await _panel(admin)
    await admin.press("🏷 Product prices")
    await admin.wait_for_message(lambda m: "product code" in m.content)
    await admin.send_text("STEAM-100")
    card = await admin.wait_for_message(lambda m: "Level prices:" in m.content)
    assert "Category: Steam" in card.content

    await admin.press("🗂 Move", message=card)
    shelves = await admin.wait_for_message(lambda m: "to which category?" in m.content)
    assert "✅ Steam" in shelves.buttons and CARDS in shelves.buttons  # ✅: where it is now
    await admin.press(CARDS, message=shelves)
    await admin.wait_for_message(lambda m: f"Category: {CARDS}" in m.content)
    # pressed again on the same (now old) list: the product is there already, nothing moves
    await admin.press(CARDS, message=shelves)
    await admin.wait_for_message(lambda m: f"Category: {CARDS}" in m.content)
    moves = await _audit(shop, "sku.move")
    assert len(moves) == 1 and moves[0].subject == "sku:STEAM-100"
    # resellers find it with the game cards; the emptied "Steam" is not shown to them
    assert [line.name for line in await shop.storefront.categories()] == [CARDS]
    page = await shop.storefront.skus(
        RESELLER, category_id=(await shop.storefront.categories())[0].id
    )
    assert {line.code for line in page.lines} == {"STEAM-100", "PSN-50"}
    # the card's back button returns to the product's card
    await admin.press("🗂 Move")
    await admin.wait_for_message(lambda m: "to which category?" in m.content)
    await admin.press("◀ Back to the product")
    await admin.wait_for_message(lambda m: f"Category: {CARDS}" in m.content)


async def test_a_chinese_admin_moves_a_product(server: FakeTelegramServer, shop: Platform) -> None:
    await make_sku(shop, stock=1)
    await make_sku(shop, "PSN-50", stock=1, category=CARDS)
    await shop.catalogue.set_language(ADMIN_ID, "zh-CN")
    admin = server.user(ADMIN_ID, language_code="zh-hans", started=True)
    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "管理面板" in m.content)
    await admin.press("🏷 商品价格")
    await admin.wait_for_message(lambda m: "STEAM-100" in m.content)
    await admin.send_text("STEAM-100")
    card = await admin.wait_for_message(lambda m: "分类：Steam" in m.content)
    await admin.press("🗂 移动分类", message=card)
    await admin.wait_for_message(lambda m: "移到哪个分类？当前：Steam" in m.content)
    await admin.press(CARDS)
    await admin.wait_for_message(lambda m: f"分类：{CARDS}" in m.content)
    assert len(await _audit(shop, "sku.move")) == 1

"""A reseller's day in the bot, acted out as a user against the fake Telegram server."""

from __future__ import annotations

from sqlalchemy import select

from bot.keyboards.callbacks import CatalogueCb
from core.checks import check_ledger
from core.models import Quote, Role, SkuStatus, UserStatus
from core.orders import Receipt
from core.platform import Platform
from sandbox.fake_telegram import ChatMessage, FakeTelegramServer
from sandbox.fake_telegram.limits import MESSAGE_TO_EDIT_NOT_FOUND
from tests.bot.conftest import ADMIN_ID
from tests.factories import ADMIN, make_reseller, make_sku

OTHER_ADMIN = 43
RESELLER = 1001


async def test_new_reseller_registers_browses_and_buys_one_code(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=100, level_prices={"gold": 90_00})
    ann = server.user(RESELLER, first_name="Ann", language_code="en", started=True)

    await ann.send_text("/start")
    welcome = await ann.wait_for_message(lambda m: "Welcome" in m.content)
    assert "🛒 Catalogue" in await ann.reply_keyboard_labels()
    assert welcome.text is not None
    await shop.balances.top_up(RESELLER, 100_00, idempotency_key="t1", note="x", actor=ADMIN)

    await ann.press_reply("🛒 Catalogue")
    await ann.wait_for_message(lambda m: "Choose a category" in m.content)
    await ann.press("Steam (1)")
    await ann.wait_for_message(lambda m: "page 1/1" in m.content)
    await ann.press("STEAM-100 card · ¥92.00 · 100 left")
    card = await ann.wait_for_message(lambda m: "Face value: ¥100.00" in m.content)
    assert "Your price: ¥92.00" in card.content
    await ann.press("1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥92.00" in m.content)
    assert "Balance after: ¥8.00" in quote.content
    await ann.press("✅ Confirm", message=quote)

    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)
    assert receipt.codes == [codes[0]]  # monospace, copyable
    assert "balance ¥8.00" in receipt.content
    # the quote became the receipt: Confirm cannot be pressed on it again
    assert receipt.message_id == quote.message_id and receipt.buttons == []
    assert (await shop.balances.balance(RESELLER)).balance == 8_00
    assert await shop.catalogue.stock_count("STEAM-100") == 99


async def test_a_quote_that_can_no_longer_be_edited_gets_the_receipt_as_a_new_message(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=10)
    await make_reseller(shop, RESELLER, balance=100_00)
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥92.00" in m.content)
    server.fail("editMessageText", error_code=400, description=MESSAGE_TO_EDIT_NOT_FOUND)

    await ann.press("✅ Confirm", message=quote)

    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)
    assert receipt.message_id != quote.message_id and receipt.codes == [codes[0]]
    assert (await shop.balances.balance(RESELLER)).balance == 8_00


async def test_sixty_codes_arrive_as_a_file_and_a_double_tap_buys_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=100, price=10_00, supply_price=9_00)
    await make_reseller(shop, RESELLER, balance=1000_00)
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/buy STEAM-100 60")
    quote = await ann.wait_for_message(lambda m: "Total: ¥600.00" in m.content)
    await ann.press("✅ Confirm", message=quote)
    await ann.press("✅ Confirm", message=quote)

    document = await ann.wait_for_message(lambda m: m.document is not None)
    assert (await ann.download(document)).decode().split() == codes[:60]
    await server.wait_callbacks_answered()
    assert (await shop.balances.balance(RESELLER)).balance == 400_00
    orders, total = await shop.shop.orders(RESELLER)
    assert total == 1 and orders[0].quantity == 60
    assert (await check_ledger(shop.db)).ok


async def test_confirming_a_quote_the_shop_already_bought_over_the_api_charges_nothing(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5, price=10_00, supply_price=9_00)
    await make_reseller(shop, RESELLER, balance=100_00)
    ann = server.user(RESELLER, language_code="en")
    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥10.00" in m.content)
    [(quote_id, _)] = await _quotes_of(shop)
    bought = await shop.shop.buy(RESELLER, quote_id, idempotency_key="api:shop-order-1")

    pressed = await ann.press("✅ Confirm", message=quote)

    answer = await ann.wait_for_callback_answer(pressed)
    assert isinstance(bought, Receipt)
    expected = f"Already bought: order #{bought.order_id}. Find its codes under Orders."
    assert answer.answer_text == expected
    assert (await shop.balances.balance(RESELLER)).balance == 90_00
    assert (await shop.shop.orders(RESELLER))[1] == 1


async def _quotes_of(shop: Platform) -> list[tuple[str, int]]:
    async with shop.db.reading() as session:
        return [(q.id, q.quantity) for q in await session.scalars(select(Quote))]


async def test_refusals_are_clear_and_charge_nothing(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=100_00)
    ann = server.user(RESELLER, language_code="en", started=True)

    for text, expected in [
        ("/buy STEAM-100 0", "whole number from 1 to 10000"),
        ("/buy STEAM-100 lots", "whole number from 1 to 10000"),
        ("/buy STEAM-100 99999999", "whole number from 1 to 10000"),
        ("/buy NOPE-1 1", "Not found"),
        ("/frobnicate", "I don't know that command"),
        ("/buy STEAM-100 5", "Only 3 left: 5 cannot be bought now"),
        ("/buy STEAM-100 3", "Short by"),
    ]:
        await ann.send_text(text)
        await ann.wait_for_message(lambda m, e=expected: e in m.content)

    await ann.send_text("/buy STEAM-100 2")
    await ann.wait_for_message(lambda m: "Total: ¥184.00" in m.content)
    assert "✅ Confirm" not in ann.last_message.buttons  # type: ignore[union-attr]
    assert "💰 Top up" in ann.last_message.buttons  # type: ignore[union-attr]
    assert (await shop.balances.balance(RESELLER)).balance == 100_00


async def test_top_up_through_admin_approval_credits_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    await shop.catalogue.grant_role(OTHER_ADMIN, Role.ADMIN, actor=ADMIN)
    await shop.catalogue.set_language(OTHER_ADMIN, "zh-CN")
    other_admin = server.user(OTHER_ADMIN, language_code="zh-hans", started=True)
    ann = server.user(RESELLER, language_code="en", username="ann", started=True)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    await admin.send_text("/start")
    await admin.wait_for_message(lambda m: "Welcome" in m.content)
    await ann.send_text("/start")
    await ann.wait_for_message(lambda m: "Welcome" in m.content)

    await ann.press_reply("💰 Balance")
    await ann.wait_for_message(lambda m: "Balance: ¥0.00" in m.content)
    await ann.press("💳 Top up")
    await ann.wait_for_message(lambda m: "How much" in m.content)
    await ann.send_text("12.345")
    await ann.wait_for_message(lambda m: "not an amount" in m.content)
    await ann.send_text("150")
    await ann.wait_for_message(lambda m: "receipt" in m.content)
    await ann.send_text("bank ref 778")
    await ann.wait_for_message(lambda m: "is with the admins" in m.content)

    request = await admin.wait_for_message(lambda m: "paid ¥150.00" in m.content)
    assert "@ann" in request.content and "bank ref 778" in request.content
    other_card = await other_admin.wait_for_message(lambda m: "150.00" in m.content, after=0)
    await admin.press("✅ Approve", message=request)
    await admin.press_data(request.callback_data("✅ Approve") or "", message=request)

    await ann.wait_for_message(lambda m: "approved" in m.content)
    await server.wait_callbacks_answered()
    assert (await shop.balances.balance(RESELLER)).balance == 150_00
    # the card keeps its text and says who decided, when; its buttons are gone
    card = admin.current(request)
    assert card.buttons == [] and card.content.startswith(request.content)
    assert card.content.endswith("✅ Approved by User at 2026-11-26 20:00 (UTC+8)")

    # a second admin pressing his own (old) card sees who decided, in his language
    await other_admin.press("✅ 通过", message=other_card)
    await other_admin.wait_for_message(lambda m: "已由 User" in m.content and not m.buttons)
    assert admin_card_line(other_admin.current(other_card)) == (
        "✅ 已由 User 于 2026-11-26 20:00（UTC+8）批准"
    )
    assert (await shop.balances.balance(RESELLER)).balance == 150_00


async def test_orders_can_be_downloaded_again(server: FakeTelegramServer, shop: Platform) -> None:
    codes = await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="k")
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/orders")
    await ann.wait_for_message(lambda m: "Your orders" in m.content)
    await ann.press("#1 · 2 × STEAM-100 card · ¥184.00")
    await ann.wait_for_message(lambda m: "Status: paid" in m.content)
    await ann.press("📄 Codes as file")
    document = await ann.wait_for_message(lambda m: m.document is not None)
    assert (await ann.download(document)).decode().split() == codes[:2]


async def test_switching_language_to_chinese(server: FakeTelegramServer, shop: Platform) -> None:
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/language")
    await ann.wait_for_message(lambda m: "Choose your language" in m.content)
    await ann.press("中文")
    await ann.wait_for_message(lambda m: "语言已切换为中文" in m.content)
    assert "🛒 商品" in await ann.reply_keyboard_labels()
    await ann.send_text("/balance")
    await ann.wait_for_message(lambda m: "余额" in m.content)
    assert (await shop.catalogue.user(RESELLER)).language == "zh-CN"


async def test_a_chinese_client_is_greeted_in_chinese(
    server: FakeTelegramServer, shop: Platform
) -> None:
    li = server.user(2002, language_code="zh-hans", started=True)
    await li.send_text("/start")
    await li.wait_for_message(lambda m: "欢迎来到 Kameng" in m.content)


async def test_forged_buttons_are_refused_politely(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=500_00)
    await make_reseller(shop, 2002, balance=500_00)
    other = await shop.shop.buy_now(2002, "STEAM-100", 1, idempotency_key="other")
    mallory = server.user(RESELLER, language_code="en", started=True)
    await mallory.send_text("/start")
    anchor = await mallory.wait_for_message(lambda m: "Welcome" in m.content)

    for forged in ("tud:1:1", f"ord:file:{other.order_id}:0", "garbage", "buy:ok:::nope"):  # type: ignore[union-attr]
        query_id = await mallory.press_data(forged, message=anchor)
        answer = await mallory.wait_for_callback_answer(query_id)
        assert answer.answer_text and "Traceback" not in answer.answer_text
    assert not any(m.document for m in mallory.messages)
    assert (await shop.balances.balance(RESELLER)).balance == 500_00


async def test_a_banned_user_gets_one_short_message(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    await shop.catalogue.set_status(RESELLER, UserStatus.BANNED, actor=ADMIN)
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/catalogue")
    reply = await ann.wait_for_message()
    assert "suspended" in reply.content
    assert len(ann.messages) == 1


def admin_card_line(message: ChatMessage) -> str:
    return message.content.rsplit("\n", 1)[-1]


async def test_a_category_that_no_longer_exists_says_so_with_a_way_back(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER)
    ann = server.user(RESELLER, language_code="en")
    await ann.send_text("/catalogue")
    categories = await ann.wait_for_message(lambda m: "Choose a category" in m.content)

    # the only product is suspended while Ann still has the old list on screen
    await shop.catalogue.set_sku_status("STEAM-100", SkuStatus.SUSPENDED, actor=ADMIN)
    await ann.press("Steam (1)", message=categories)
    gone = await ann.wait_for_message(lambda m: "no longer exists" in m.content)
    assert gone.buttons == ["Categories"]
    await ann.press("Categories", message=gone)
    await ann.wait_for_message(lambda m: "Nothing is on sale yet" in m.content)

    # a forged button for a category that never existed
    await ann.press_data(CatalogueCb(action="list", category=9999).pack())
    await ann.wait_for_message(lambda m: "no longer exists" in m.content)
    await server.wait_callbacks_answered()

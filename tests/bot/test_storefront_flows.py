"""Two more storefront stories: short of balance → top-up → buy; and button spam."""

from __future__ import annotations

from core.checks import check_ledger
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.factories import make_reseller, make_sku

RESELLER = 1001
PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


async def test_short_of_balance_top_up_approved_then_the_purchase_goes_through(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=5)  # 92.00 each
    await make_reseller(shop, RESELLER, balance=50_00)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", username="ann", started=True)

    await ann.send_text("/buy STEAM-100 1")
    short = await ann.wait_for_message(lambda m: "Short by ¥42.00" in m.content)
    assert "✅ Confirm" not in short.buttons and "💰 Top up" in short.buttons
    await ann.press("💰 Top up", message=short)
    await ann.wait_for_message(lambda m: "How much" in m.content)
    await ann.send_text("42")
    await ann.wait_for_message(lambda m: "receipt" in m.content)
    await ann.send_photo(PNG_1x1, caption="bank ref 9")
    await ann.wait_for_message(lambda m: "is with the admins" in m.content)

    request = await admin.wait_for_message(lambda m: "paid ¥42.00" in m.content)
    assert request.photo is not None and "bank ref 9" in request.content
    await admin.press("✅ Approve", message=request)
    await ann.wait_for_message(lambda m: "approved. Balance: ¥92.00" in m.content)

    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "Balance after: ¥0.00" in m.content)
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)
    assert receipt.codes == [codes[0]]
    assert (await shop.balances.balance(RESELLER)).balance == 0
    assert (await check_ledger(shop.db)).ok


async def test_button_spam_is_throttled_but_a_confirm_is_never_dropped(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=500_00)
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥92.00" in m.content)
    await ann.send_text("/balance")
    balance = await ann.wait_for_message(lambda m: "Balance: ¥500.00" in m.content)
    mark = ann.mark()

    presses = 60
    spam = [await ann.press("📜 Statement", message=balance) for _ in range(presses)]
    confirms = [await ann.press("✅ Confirm", message=quote) for _ in range(5)]

    answers = [await ann.wait_for_callback_answer(query) for query in spam]
    throttled = [a for a in answers if a.answer_text and "Too fast" in a.answer_text]
    handled = presses - len(throttled)
    assert throttled and handled >= 1
    statements = await ann.wait_for_messages(
        handled, lambda m: "Last movements" in m.content, after=mark
    )
    assert len(statements) == handled < presses

    confirm_answers = [await ann.wait_for_callback_answer(query) for query in confirms]
    assert not any("Too fast" in (a.answer_text or "") for a in confirm_answers)
    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content, after=mark)
    assert len(receipt.codes) == 1
    _orders, total = await shop.shop.orders(RESELLER)
    assert total == 1
    assert (await shop.balances.balance(RESELLER)).balance == 408_00

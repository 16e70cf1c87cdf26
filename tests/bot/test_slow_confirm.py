"""A Confirm that takes longer than Telegram's window to answer the press still delivers."""

from __future__ import annotations

from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.factories import make_reseller, make_sku

RESELLER = 4101


async def test_codes_arrive_even_when_the_press_can_no_longer_be_answered(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=3, price=10_00, supply_price=8_00)
    await make_reseller(shop, RESELLER, balance=50_00)
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "Total: ¥10.00" in m.content)

    server.callback_answer_timeout = 0.0  # every answer is now "query is too old"
    query = await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)

    assert receipt.codes == codes[:1]
    assert not ann.callback_answer(query).answered
    assert (await shop.balances.balance(RESELLER)).balance == 40_00
    server.callback_answer_timeout = 15.0
    server.state.callback_queries.pop(query)  # the one press Telegram gave up on

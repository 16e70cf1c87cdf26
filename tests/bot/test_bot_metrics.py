"""The bot's side of ``/metrics``: a purchase through the real bot (aiogram over HTTP against
the fake Telegram server) shows in the same process's scrape, as ``kameng serve`` serves it:
the order by source, the Bot API calls by method and status (a blocked user's 403
included), the handlers' latency."""

from __future__ import annotations

import aiohttp

from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.helpers import outbox_settled
from tests.factories import SUPPLIER_TID, make_reseller, make_sku
from tests.web.conftest import GENEROUS, Api
from tests.web.test_health import scrape, value
from web.app import ApiServer

RESELLER = 3302


async def test_a_bot_purchase_shows_in_metrics(server: FakeTelegramServer, shop: Platform) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=500_00)
    ann = server.user(RESELLER, language_code="en", started=True)
    server.user(SUPPLIER_TID, language_code="en", started=True)
    server.block_user(SUPPLIER_TID, notify_bot=False)  # the sale notice to them: 403
    async with aiohttp.ClientSession() as http, ApiServer(shop, "127.0.0.1", 0, GENEROUS) as api:
        client = Api(http, api.base_url)
        before = await scrape(client)
        await ann.send_text("/buy STEAM-100 2")
        quote = await ann.wait_for_message(lambda m: "Total: ¥184.00" in m.content)
        await ann.press("✅ Confirm", message=quote)
        receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)
        assert len(receipt.codes) == 2
        await outbox_settled(shop)
        after = await scrape(client)

    def grew(family: str, sample: str, **labels: str) -> float:
        return value(after, family, sample, **labels) - value(before, family, sample, **labels)

    assert grew("kameng_orders", "kameng_orders_total", source="bot") == 1
    revenue = "kameng_revenue_minor_units"
    assert grew(revenue, f"{revenue}_total", source="bot") == 184_00
    calls = ("kameng_telegram_calls", "kameng_telegram_calls_total")
    assert grew(*calls, method="sendMessage", status="200") >= 1  # the quote
    assert grew(*calls, method="editMessageText", status="200") >= 1  # the receipt
    assert grew(*calls, method="answerCallbackQuery", status="200") >= 1
    assert grew(*calls, method="getUpdates", status="200") >= 1
    assert grew(*calls, method="sendMessage", status="403") == 1  # the blocked supplier
    updates = ("kameng_bot_update_seconds", "kameng_bot_update_seconds_count")
    assert grew(*updates, update="message") >= 1
    assert grew(*updates, update="callback_query") >= 1

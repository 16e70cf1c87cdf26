"""A top-up nobody fulfils: at its deadline the bot's scheduler fails it, the reseller is
told and refunded, and the supplier's late press changes nothing."""

from __future__ import annotations

import pytest

from core.checks import check_ledger
from core.models import OrderStatus
from core.orders import Receipt
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.helpers import eventually
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import SUPPLIER_TID, make_direct_sku, make_reseller

RESELLER = 1001


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        scheduler_interval_seconds=0.05,
        telegram_private_chat_per_second=1000.0,
        _env_file=None,
    )


async def test_the_deadline_fails_the_top_up_and_refunds_the_reseller(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_direct_sku(shop, deadline_minutes=30)
    await make_reseller(shop, RESELLER, balance=100_00)
    await shop.catalogue.set_language(RESELLER, "en")
    await shop.catalogue.set_language(SUPPLIER_TID, "en")
    sam = server.user(SUPPLIER_TID, first_name="Sam", language_code="en", started=True)
    ann = server.user(RESELLER, first_name="Ann", language_code="en", started=True)
    quote = await shop.fulfilments.quote(RESELLER, "MOBILE-50", 1, {"phone": "13800138000"})
    bought = await shop.shop.buy(RESELLER, quote.id)
    assert isinstance(bought, Receipt)
    task = await sam.wait_for_message(lambda m: "Top-up task" in m.content, after=0)

    clock.advance(minutes=31)

    told = await ann.wait_for_message(lambda m: "❌ failed" in m.content, after=0)
    assert "not done before the deadline" in told.content and "¥49.50 was refunded" in told.content

    async def failed() -> bool:
        return (await shop.shop.order(RESELLER, bought.order_id)).status is OrderStatus.FAILED

    await eventually(failed, "the order to fail")
    late = await sam.press("✅ Done", message=task)
    answer = await sam.wait_for_callback_answer(late)
    assert "finished already" in (answer.answer_text or "")
    assert (await shop.balances.balance(RESELLER)).balance == 100_00
    assert (await check_ledger(shop.db)).ok

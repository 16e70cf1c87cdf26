"""Top up with 易支付 through the bot, acted out on the fake Telegram server: the real bot,
the fake epay gateway, the API application serving its notification, a real database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.checks import check_ledger
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_epay import FakeEpayGateway
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.conftest import TEST_SECRET
from tests.factories import make_reseller
from tests.web.conftest import GENEROUS
from tests.web.servers import free_port
from web.app import ApiServer

ANN = 1001
PORT = free_port()


@pytest.fixture
async def gateway() -> AsyncIterator[FakeEpayGateway]:
    async with FakeEpayGateway(pid="2002", key="bot-test-epay-key") as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, gateway: FakeEpayGateway) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        payments_public_url=f"http://127.0.0.1:{PORT}",
        epay_gateway=gateway.base_url,
        epay_pid="2002",
        epay_key="bot-test-epay-key",
        _env_file=None,
    )


@pytest.fixture
async def notified(shop: Platform) -> AsyncIterator[str]:
    """The API application (``/pay/epay/notify``) of the bot's platform, listening."""
    async with ApiServer(shop, "127.0.0.1", PORT, GENEROUS) as api:
        yield api.base_url


async def test_a_reseller_tops_up_with_epay_and_sees_it_credited(
    server: FakeTelegramServer, shop: Platform, gateway: FakeEpayGateway, notified: str
) -> None:
    await make_reseller(shop, ANN)
    ann = server.user(ANN, language_code="en", started=True)

    await ann.send_text("/balance")
    await ann.wait_for_message(lambda m: "Balance: ¥0.00" in m.content)
    await ann.press("💳 Top up")
    await ann.wait_for_message(lambda m: "How would you like to top up?" in m.content)
    await ann.press("💳 Alipay / WeChat Pay")
    await ann.wait_for_message(lambda m: "how much?" in m.content)
    await ann.send_text("99999999")  # an amount, but more than one top-up may be
    await ann.wait_for_message(lambda m: "more than ¥10,000,000.00 in one go" in m.content)
    await ann.send_text("88.50")
    pay = await ann.wait_for_message(lambda m: "Open the payment page" in m.content)
    qr = await ann.wait_for_message(lambda m: "Scan to pay ¥88.50" in m.content)
    assert (await ann.download(qr)).startswith(b"\x89PNG")
    (payment_id,) = [c for c in pay.codes if c in gateway.orders or len(c) == 22]
    assert "¥88.50" in pay.content
    url = pay.reply_markup["inline_keyboard"][0][0]["url"]  # type: ignore[index]
    assert url.startswith(gateway.base_url + "submit.php?")

    await ann.press("🔄 Check payment", message=pay)
    await ann.wait_for_message(lambda m: "Still waiting for payment" in m.content)

    async with aiohttp.ClientSession() as browser, browser.get(url) as page:
        assert "¥88.50" in await page.text()  # the gateway's cashier page
    gateway.pay(payment_id)
    await ann.wait_for_message(
        lambda m: "Top-up credited ✅ +¥88.50. Balance: ¥88.50" in m.content, timeout=10
    )
    assert gateway.orders[payment_id].notify_answers == ["success"]

    await ann.press("🔄 Check payment", message=pay)  # again, on the old message
    await ann.wait_for_message(lambda m: "was credited ✅" in m.content)
    assert (await shop.balances.balance(ANN)).balance == 88_50

    # the bank transfer stays: a receipt an admin approves
    await ann.press("💳 Top up")
    await ann.press("🏦 Bank transfer (receipt)")
    await ann.wait_for_message(lambda m: "How much did you pay?" in m.content)
    await ann.send_text("10")
    await ann.wait_for_message(lambda m: "send a photo of the receipt" in m.content)

    report = await check_ledger(shop.db)
    assert report.ok, report.render()


async def test_admins_see_a_mismatched_payment_and_credit_it_once(
    server: FakeTelegramServer,
    shop: Platform,
    gateway: FakeEpayGateway,
    notified: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await make_reseller(shop, ANN)
    ann = server.user(ANN, language_code="en", started=True)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    created = await shop.payments.create(ANN, "epay", 50_00)
    async with aiohttp.ClientSession() as browser, browser.get(created.step.pay_url or "") as page:
        assert page.status == 200
    gateway.orders[created.payment.id].money = "5.00"  # paid a tenth
    gateway.pay(created.payment.id)
    await gateway.settled()

    await ann.wait_for_message(lambda m: "was paid, but not as asked" in m.content)
    await admin.send_text("/payments")
    listed = await admin.wait_for_message(lambda m: "Payments to look at (1)" in m.content)
    assert created.payment.id in listed.content and "mismatched short" in listed.content

    # a Telegram id no account can have (typed wrong): not found, not a server error
    await admin.send_text(f"/paycredit {created.payment.id} 99999999999999999999999 paid")
    await admin.wait_for_message(lambda m: "Not found" in m.content)
    await admin.send_text(f"/paycredit {created.payment.id} {ANN} paid 5.00 only")
    await admin.wait_for_message(lambda m: "credited to 1001: +¥5.00 ✅" in m.content)
    await admin.send_text(f"/paycredit {created.payment.id} {ANN} again")
    await admin.wait_for_message(lambda m: "was credited already; nothing was" in m.content)
    assert (await shop.balances.balance(ANN)).balance == 5_00  # what arrived
    await admin.send_text("/payments")
    await admin.wait_for_message(lambda m: "No stuck or mismatched payments." in m.content)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    report = await check_ledger(shop.db)
    assert report.ok, report.render()

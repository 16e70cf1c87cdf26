"""Top up with 易支付 in api mode (``KAMENG_EPAY_MODE=api``: the order opened over
``mapi.php``) through the bot, acted out on the fake Telegram server: the real bot, the fake
epay gateway, the API application serving its notification, a real database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bot.payment_steps import qr_png
from core.checks import check_ledger
from core.models import OutboxMessage, Payment
from core.payments import CREDITED_NOTICE
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_epay import FakeEpayGateway
from sandbox.fake_telegram import FakeTelegramServer
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
        epay_mode="api",
        _env_file=None,
    )


@pytest.fixture
async def notified(shop: Platform) -> AsyncIterator[str]:
    """The API application (``/pay/epay/notify``) of the bot's platform, listening."""
    async with ApiServer(shop, "127.0.0.1", PORT, GENEROUS) as api:
        yield api.base_url


async def _count(shop: Platform, what: object) -> int:
    async with shop.db.reading() as session:
        return int(await session.scalar(what) or 0)  # type: ignore[call-overload]


async def test_a_reseller_scans_the_gateways_qr_code_and_is_credited_once(
    server: FakeTelegramServer, shop: Platform, gateway: FakeEpayGateway, notified: str
) -> None:
    await make_reseller(shop, ANN)
    ann = server.user(ANN, language_code="en", started=True)
    gateway.faults.mapi = "qrcode"

    await ann.send_text("/balance")
    await ann.wait_for_message(lambda m: "Balance: ¥0.00" in m.content)
    await ann.press("💳 Top up")
    await ann.wait_for_message(lambda m: "How would you like to top up?" in m.content)
    await ann.press("💳 Alipay / WeChat Pay")
    await ann.wait_for_message(lambda m: "how much?" in m.content)
    await ann.send_text("88.50")
    pay = await ann.wait_for_message(lambda m: "Scan the QR code below" in m.content)
    qr = await ann.wait_for_message(lambda m: "Scan to pay ¥88.50" in m.content)

    (order,) = gateway.orders.values()
    assert order.out_trade_no in pay.content and order.money == "88.50"
    # the photo is the QR code of what the gateway said to scan, and nothing to open
    assert await ann.download(qr) == qr_png(f"{gateway.base_url}cashier/{order.trade_no}")
    assert [b["text"] for row in pay.reply_markup["inline_keyboard"] for b in row] == [  # type: ignore[index]
        "🔄 Check payment"
    ]
    await ann.press("🔄 Check payment", message=pay)
    await ann.wait_for_message(lambda m: "Still waiting for payment" in m.content)

    gateway.faults.repeat = 3  # the gateway tells us three times at once
    gateway.pay(order.out_trade_no)
    await ann.wait_for_message(
        lambda m: "Top-up credited ✅ +¥88.50. Balance: ¥88.50" in m.content, timeout=10
    )
    await gateway.settled()
    assert order.notify_answers == ["success"] * 3
    view = await shop.payments.get(order.out_trade_no)
    assert view.provider_reference == order.trade_no
    assert (await shop.balances.balance(ANN)).balance == 88_50
    notices = select(func.count()).where(OutboxMessage.kind == CREDITED_NOTICE)
    assert await _count(shop, notices) == 1
    report = await check_ledger(shop.db)
    assert report.ok, report.render()


async def test_a_payurl_is_a_button_and_a_urlscheme_only_its_qr_code(
    server: FakeTelegramServer, shop: Platform, gateway: FakeEpayGateway, notified: str
) -> None:
    await make_reseller(shop, ANN)
    ann = server.user(ANN, language_code="en", started=True)
    gateway.faults.mapi = "payurl"
    await ann.send_text("/balance")
    await ann.wait_for_message(lambda m: "Balance: ¥0.00" in m.content)
    await ann.press("💳 Top up")
    methods = await ann.wait_for_message(lambda m: "How would you like" in m.content)
    await ann.press("💳 Alipay / WeChat Pay", message=methods)
    await ann.wait_for_message(lambda m: "how much?" in m.content)
    await ann.send_text("12")
    pay = await ann.wait_for_message(lambda m: "Open the payment page" in m.content)
    (order,) = gateway.orders.values()
    button = pay.reply_markup["inline_keyboard"][0][0]  # type: ignore[index]
    assert button["url"] == f"{gateway.base_url}cashier/{order.trade_no}"

    # a link that opens the wallet app: Telegram takes no button of it, so its QR code
    gateway.faults.mapi = "urlscheme"
    await ann.press("💳 Alipay / WeChat Pay", message=methods)
    await ann.wait_for_message(lambda m: "how much?" in m.content)
    await ann.send_text("13")
    pay = await ann.wait_for_message(lambda m: "Scan the QR code below" in m.content)
    qr = await ann.wait_for_message(lambda m: "Scan to pay ¥13.00" in m.content)
    (scheme,) = [o for o in gateway.orders.values() if o.money == "13.00"]
    assert [b["text"] for row in pay.reply_markup["inline_keyboard"] for b in row] == [  # type: ignore[index]
        "🔄 Check payment"
    ]
    view = await shop.payments.get(scheme.out_trade_no)
    assert view.qr_text is not None and view.qr_text.startswith("alipays://")
    assert await ann.download(qr) == qr_png(view.qr_text)


async def test_a_gateway_error_is_told_in_the_resellers_language_and_leaves_nothing(
    server: FakeTelegramServer,
    shop: Platform,
    gateway: FakeEpayGateway,
    notified: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await make_reseller(shop, ANN)
    await shop.catalogue.set_language(ANN, "zh-CN")
    ann = server.user(ANN, language_code="zh-hans", started=True)
    gateway.faults.mapi = "error"
    gateway.faults.mapi_msg = "支付通道维护中"

    with caplog.at_level(logging.INFO):
        await ann.send_text("/balance")
        balance = await ann.wait_for_message(lambda m: len(m.buttons) > 0)
        await ann.press(balance.buttons[0], message=balance)
        methods = await ann.wait_for_message(lambda m: len(m.buttons) > 1)
        await ann.press(methods.buttons[0], message=methods)
        await ann.wait_for_message(lambda m: "100" in m.content)
        await ann.send_text("100")
        await ann.wait_for_message(
            lambda m: "支付渠道未能创建这笔付款（支付通道维护中）" in m.content
        )

        gateway.faults.mapi = "down"  # no answer at all: told to try again
        await ann.send_text("100")
        await ann.wait_for_message(lambda m: "支付渠道未响应" in m.content)

    assert await _count(shop, select(func.count()).select_from(Payment)) == 0
    assert gateway.orders == {}
    warned = [r for r in caplog.records if "not opened" in r.getMessage()]
    assert [r.levelno for r in warned] == [logging.WARNING, logging.WARNING]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

"""易支付's API create (``KAMENG_EPAY_MODE=api``): the order is opened over ``mapi.php``
against the fake gateway over HTTP, its notification comes to the API app's
``/pay/epay/notify``, on a real database.

The protocol as the epay gateways publish it, "API接口支付" (e.g. 番茄云's copy of the
彩虹易支付 document, http://pay.fqy.ink/doc/api.html, mirrored at
https://apifox.com/apidoc/shared/9ed1bc40-911e-47f2-9af7-f028144eee88/api-289268588):
``POST {gateway}mapi.php`` with ``pid, type, out_trade_no, notify_url, return_url, name,
money, clientip, device, sign, sign_type=MD5`` (signed as ``submit.php``); the answer is
JSON, ``code`` 1 with ``trade_no`` and one of ``payurl`` (支付跳转url), ``qrcode``
(二维码链接) or ``urlscheme`` (小程序跳转url), any other ``code`` a failure with ``msg``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from sqlalchemy import func, select

from core.db import Database
from core.errors import ProviderRefused, ProviderUnavailable
from core.models import Payment, PaymentStatus
from core.payments import epay
from core.payments.epay import pay_step, signature_ok
from core.payments.provider import PayStep
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_epay import FakeEpayGateway
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import make_reseller
from tests.payments.conftest import RESELLER
from tests.web.conftest import GENEROUS
from tests.web.servers import free_port
from web.app import ApiServer

KEY = "test-epay-key"
Build = Callable[..., Awaitable[Platform]]


@pytest.fixture
async def api_mode(
    database_url: str, db: Database, clock: FakeClock, gateway: FakeEpayGateway
) -> AsyncIterator[Build]:
    """Builds the platform in api mode (with the merchant key given, ``KEY`` by default)
    and serves its API app, where the gateway's notifications arrive."""
    port = free_port()
    servers: list[ApiServer] = []

    async def build(key: str = KEY) -> Platform:
        settings = Settings(
            database_url=database_url,
            secret_key=TEST_SECRET,
            payments_public_url=f"http://127.0.0.1:{port}",
            epay_gateway=gateway.base_url,
            epay_pid="1001",
            epay_key=key,
            epay_type="alipay",
            epay_mode="api",
            _env_file=None,
        )
        platform = build_platform(settings, clock=clock, db=db)
        await make_reseller(platform, RESELLER)
        server = ApiServer(platform, "127.0.0.1", port, GENEROUS)
        await server.__aenter__()
        servers.append(server)
        return platform

    yield build
    for server in servers:
        await server.__aexit__(None, None, None)


async def _payments(platform: Platform) -> int:
    async with platform.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(Payment)) or 0)


async def test_the_order_is_opened_over_mapi_signed_and_paid_once(
    api_mode: Build, gateway: FakeEpayGateway
) -> None:
    platform = await api_mode()
    gateway.faults.mapi = "qrcode"

    created = await platform.payments.create(RESELLER, "epay", 66_60)

    (sent,) = gateway.mapi_requests
    assert signature_ok(sent, KEY) and sent["sign_type"] == "MD5"  # the fake checked it too
    assert {k: sent[k] for k in ("pid", "type", "out_trade_no", "money", "device")} == {
        "pid": "1001",
        "type": "alipay",
        "out_trade_no": created.payment.id,
        "money": "66.60",
        "device": "pc",
    }
    assert sent["notify_url"].endswith("/pay/epay/notify") and sent["clientip"]
    order = gateway.orders[created.payment.id]
    assert created.step == PayStep(
        qr_text=f"{gateway.base_url}cashier/{order.trade_no}",
        provider_reference=order.trade_no,
    )
    assert created.payment.provider_reference == order.trade_no  # stored with the payment

    gateway.pay(created.payment.id)
    await gateway.settled()
    gateway.faults.repeat = 3
    gateway.orders[created.payment.id].paid = False
    gateway.pay(created.payment.id)  # told again, three times at once
    await gateway.settled()

    view = await platform.payments.get(created.payment.id)
    assert view.status is PaymentStatus.CREDITED and view.provider_reference == order.trade_no
    assert (await platform.balances.balance(RESELLER)).balance == 66_60
    assert order.notify_answers == ["success"] * 4


async def test_a_request_signed_with_another_key_is_refused_by_the_gateway(
    api_mode: Build, gateway: FakeEpayGateway, caplog: pytest.LogCaptureFixture
) -> None:
    platform = await api_mode(key="not-the-merchant-key")

    with caplog.at_level(logging.INFO), pytest.raises(ProviderRefused) as refused:
        await platform.payments.create(RESELLER, "epay", 10_00)

    assert refused.value.params["reason"] == "签名校验失败"
    assert len(gateway.mapi_requests) == 1 and gateway.orders == {}
    assert await _payments(platform) == 0
    lines = [r for r in caplog.records if "not opened" in r.getMessage()]
    assert [r.levelno for r in lines] == [logging.WARNING]
    assert "签名校验失败" in lines[0].getMessage()


@pytest.mark.parametrize(
    ("kind", "delay", "error"),
    [
        ("error", 0.0, ProviderRefused),  # code -1 and its msg
        ("down", 0.0, ProviderUnavailable),  # an HTML 502 page: not JSON
        ("payurl", 1.0, ProviderUnavailable),  # slower than we wait
    ],
)
async def test_a_gateway_that_fails_leaves_no_payment_and_one_warning(
    api_mode: Build,
    gateway: FakeEpayGateway,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    delay: float,
    error: type[Exception],
) -> None:
    platform = await api_mode()
    gateway.faults.mapi, gateway.faults.mapi_delay = kind, delay
    monkeypatch.setattr(epay, "CREATE_TIMEOUT", 0.3)

    with caplog.at_level(logging.INFO), pytest.raises(error):
        await platform.payments.create(RESELLER, "epay", 10_00)

    assert await _payments(platform) == 0  # nothing open, failed or expired to explain
    assert (await platform.balances.balance(RESELLER)).balance == 0
    assert [r.levelno for r in caplog.records if "not opened" in r.getMessage()] == [
        logging.WARNING
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    gateway.faults.mapi, gateway.faults.mapi_delay = "payurl", 0.0  # it is back
    again = await platform.payments.create(RESELLER, "epay", 10_00)
    assert again.step.pay_url == f"{gateway.base_url}cashier/{again.step.provider_reference}"
    async with aiohttp.ClientSession() as browser, browser.get(again.step.pay_url) as page:
        assert "¥10.00" in await page.text()  # the gateway's cashier page


def test_the_pay_step_of_each_kind_of_answer() -> None:
    wallet = "weixin://wxpay/bizpayurl?pr=abc"
    page = "https://pay.example.com/pay/2026/"
    app = "alipays://platformapi/startapp?appId=20000067"
    table = [
        ({"code": 1, "trade_no": "T1", "qrcode": wallet}, PayStep(qr_text=wallet)),
        ({"code": 1, "trade_no": "T1", "payurl": page}, PayStep(pay_url=page, qr_text=page)),
        ({"code": 1, "trade_no": "T1", "urlscheme": app}, PayStep(pay_url=app, qr_text=app)),
        # a qrcode wins over a payurl: it is what the wallet scans
        ({"code": 1, "trade_no": "T1", "qrcode": wallet, "payurl": page}, PayStep(qr_text=wallet)),
    ]
    for answer, step in table:
        assert pay_step(answer) == PayStep(
            pay_url=step.pay_url, qr_text=step.qr_text, provider_reference="T1"
        ), answer
    with pytest.raises(ProviderUnavailable):  # code 1 and nothing to pay with
        pay_step({"code": 1, "trade_no": "T1"})

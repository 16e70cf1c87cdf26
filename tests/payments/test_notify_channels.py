"""``/pay/{provider}/notify`` accepts a provider's notification only the way that provider
sends it. Stars have no signature: the bot's own Telegram update is their authentication, so
a request to ``/pay/stars/notify`` naming a payment's id (shown to its payer) credits nothing.
Found by using the sandbox: a forged POST credited an unpaid Stars top-up."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from core.checks import check_ledger
from core.models import PaymentStatus
from core.platform import Platform
from core.settings import Settings
from tests.factories import make_reseller
from tests.payments.stars_helpers import stars_settings
from tests.web.conftest import GENEROUS
from tests.web.servers import free_port
from web.app import ApiServer

RESELLER = 1001


@pytest.fixture
def settings(database_url: str) -> Settings:
    return stars_settings(database_url)


@pytest.fixture
async def api(platform: Platform) -> AsyncIterator[str]:
    port = free_port()
    async with ApiServer(platform, "127.0.0.1", port, GENEROUS):
        yield f"http://127.0.0.1:{port}"


async def test_a_forged_stars_notification_over_http_credits_nothing(
    platform: Platform, api: str, caplog: pytest.LogCaptureFixture
) -> None:
    await make_reseller(platform, RESELLER)
    created = await platform.payments.create(RESELLER, "stars", 50_00)
    forged = {
        "currency": "XTR",
        "total_amount": str(created.payment.provider_amount),
        "invoice_payload": created.payment.id,
        "telegram_payment_charge_id": "forged-1",
    }
    caplog.set_level(logging.INFO)
    async with aiohttp.ClientSession() as http:
        for send in (
            http.post(f"{api}/pay/stars/notify", data=forged),
            http.get(f"{api}/pay/stars/notify", params=forged),
        ):
            async with send as answer:
                assert (answer.status, await answer.text()) == (400, "fail")

    assert (await platform.payments.get(created.payment.id)).status == PaymentStatus.CREATED
    assert (await platform.balances.balance(RESELLER)).balance == 0
    refused = [r for r in caplog.records if "wrong_channel" in r.getMessage()]
    assert len(refused) == 2 and {r.levelno for r in refused} == {logging.WARNING}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    # the same parameters from the bot's update are credited
    settled = await platform.payments.notify("stars", forged, via="telegram")
    assert settled.outcome == "credited"
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"out_trade_no=\xff\xfe&sign=1"),  # not UTF-8
        ("multipart/form-data; boundary=zz", b"--zz\r\nbroken"),  # a form cut short
    ],
)
async def test_an_unreadable_notification_body_is_refused_not_a_server_error(
    platform: Platform,
    api: str,
    caplog: pytest.LogCaptureFixture,
    content_type: str,
    body: bytes,
) -> None:
    caplog.set_level(logging.INFO)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{api}/pay/stars/notify", data=body, headers={"Content-Type": content_type}
        ) as answer,
    ):
        assert (answer.status, await answer.text()) == (400, "fail")
    assert [r.levelno for r in caplog.records if "unreadable body" in r.getMessage()] == [
        logging.WARNING
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_notification_url_too_long_is_a_400_and_no_error_line(
    platform: Platform, api: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{api}/pay/stars/notify", params={"x": "a" * 20_000}) as answer,
    ):
        assert answer.status == 400
    assert [r.levelno for r in caplog.records if "malformed request" in r.getMessage()] == [
        logging.INFO
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

"""The demo with 易支付 enabled (as ``kameng sandbox`` runs it against its fake gateway):
the admin finds the gold reseller's short payment waiting, credits it once, and the books
check out; a fresh top-up through the fake gateway is credited. In both 易支付 modes: the
page link (submit.php) and the API create (mapi.php, the sandbox's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from core.checks import check_ledger
from core.db import Database
from core.models import PaymentStatus
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.demo import build_demo
from sandbox.fake_epay import FakeEpayGateway
from sandbox.personas import ADMIN, RESELLER_GOLD
from tests.conftest import TEST_SECRET, FakeClock
from tests.web.conftest import GENEROUS
from tests.web.servers import free_port
from web.app import ApiServer

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["page", "api"])
async def sandboxed(
    database_url: str, db: Database, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Platform, FakeEpayGateway]]:
    port = free_port()
    async with FakeEpayGateway(pid="1001", key="sandbox-epay-merchant-key") as gateway:
        settings = Settings(
            database_url=database_url,
            secret_key=TEST_SECRET,
            epay_gateway=gateway.base_url,
            epay_pid="1001",
            epay_key="sandbox-epay-merchant-key",
            payments_public_url=f"http://127.0.0.1:{port}",
            epay_mode=request.param,
            _env_file=None,
        )
        await build_demo(settings, now=NOW)
        platform = build_platform(settings, clock=FakeClock(NOW + timedelta(minutes=1)), db=db)
        async with ApiServer(platform, "127.0.0.1", port, GENEROUS):
            yield platform, gateway


async def test_the_admin_finds_a_short_payment_and_a_reseller_tops_up_live(
    sandboxed: tuple[Platform, FakeEpayGateway],
) -> None:
    platform, gateway = sandboxed
    (held,) = await platform.payments.stuck()
    assert (held.telegram_id, held.status, held.note) == (
        RESELLER_GOLD.telegram_id,
        PaymentStatus.MISMATCHED,
        "short",
    )
    assert (held.amount, held.paid_amount) == (200_00, 20_00)
    before = (await platform.balances.balance(RESELLER_GOLD.telegram_id)).balance
    credited = await platform.payments.credit_manually(
        held.id, admin_telegram_id=ADMIN.telegram_id, to_telegram_id=held.telegram_id, note="ok"
    )
    assert credited.balance == before + 20_00

    created = await platform.payments.create(RESELLER_GOLD.telegram_id, "epay", 100_00)
    async with aiohttp.ClientSession() as browser, browser.get(created.step.pay_url or "") as page:
        assert page.status == 200
    gateway.pay(created.payment.id)
    await gateway.settled()
    assert (await platform.balances.balance(RESELLER_GOLD.telegram_id)).balance == (before + 120_00)
    report = await check_ledger(platform.db)
    assert report.ok, report.render()

"""A platform with 易支付 enabled against the fake gateway (``sandbox/fake_epay``), and the
API application serving ``/pay/epay/notify`` on a real port: the gateway's notifications
travel over HTTP as a real gateway's would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from core.checks import check_ledger
from core.db import Database
from core.models import Role
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_epay import FakeEpayGateway
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, make_reseller
from tests.web.conftest import GENEROUS
from tests.web.servers import free_port
from web.app import ApiServer

RESELLER = 1001
OTHER = 1002
ADMIN_TID = 42


@dataclass
class Paying:
    platform: Platform
    gateway: FakeEpayGateway
    http: aiohttp.ClientSession
    api_url: str
    clock: FakeClock

    async def open(self, amount: int, telegram_id: int = RESELLER) -> str:
        """A payment created, and its pay link opened by the payer (the cashier page)."""
        created = await self.platform.payments.create(telegram_id, "epay", amount)
        assert created.step.pay_url is not None
        async with self.http.get(created.step.pay_url) as page:
            assert page.status == 200, await page.text()
        return created.payment.id

    async def pay(self, payment_id: str) -> None:
        self.gateway.pay(payment_id)
        await self.gateway.settled()

    async def balance(self, telegram_id: int = RESELLER) -> int:
        return (await self.platform.balances.balance(telegram_id)).balance

    async def assert_books_balance(self) -> None:
        report = await check_ledger(self.platform.db)
        assert report.ok, report.render()


@pytest.fixture
async def gateway() -> AsyncIterator[FakeEpayGateway]:
    async with FakeEpayGateway(pid="1001", key="test-epay-key") as fake:
        yield fake


@pytest.fixture
async def paying(
    database_url: str, db: Database, clock: FakeClock, gateway: FakeEpayGateway
) -> AsyncIterator[Paying]:
    port = free_port()
    settings = Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        payments_public_url=f"http://127.0.0.1:{port}",
        epay_gateway=gateway.base_url,
        epay_pid="1001",
        epay_key="test-epay-key",
        epay_type="alipay",
        _env_file=None,
    )
    platform = build_platform(settings, clock=clock, db=db)
    await make_reseller(platform, RESELLER)
    await make_reseller(platform, OTHER)
    await platform.catalogue.ensure_user(ADMIN_TID, username="admin", language="en")
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    async with aiohttp.ClientSession() as http, ApiServer(platform, "127.0.0.1", port, GENEROUS):
        yield Paying(platform, gateway, http, f"http://127.0.0.1:{port}", clock)

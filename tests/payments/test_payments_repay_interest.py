"""A payment credited by any provider repays a credit line's interest first, as every other
top-up does (``core/balances.py`` ``money_in``): 易支付 through its signed notification,
USDT through the watcher over the fake TRON node, Stars through the bot's update; a Stars
refund owes the repaid interest again. The ledger check after each."""

from __future__ import annotations

import pytest

from core.checks import check_ledger
from core.models import PaymentStatus, Role
from core.orders import Receipt
from core.payments.epay import signed
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_tron import FakeTronServer
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku
from tests.tron_helpers import OURS, usdt_settings

RESELLER = 1001
ADMIN_TID = 42
EPAY_KEY = "interest-epay-key"


@pytest.fixture
def settings(database_url: str, node: FakeTronServer) -> Settings:
    return usdt_settings(database_url, node).model_copy(
        update={
            "stars_enabled": True,
            "stars_fen_per_star": 20,
            "epay_gateway": "http://127.0.0.1:9/",  # only its links are made here
            "epay_pid": "1001",
            "epay_key": EPAY_KEY,
            "epay_type": "alipay",
        }
    )


async def owing_interest(platform: Platform, clock: FakeClock) -> int:
    """A reseller 360.00 below zero on a 5 bps line for a week: the interest he owes."""
    await make_sku(platform, stock=10)  # 92.00 a unit
    await make_reseller(platform, RESELLER, balance=100_00)
    await platform.catalogue.ensure_user(ADMIN_TID, username="admin", language="en")
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await platform.usdt.set_rate(725, note="7.25 CNY")
    clock.advance(minutes=1)
    await platform.credit.grant(ADMIN_TID, RESELLER, limit=500_00, rate_bps=5, term_days=30)
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 5, idempotency_key="draw")
    assert isinstance(receipt, Receipt)
    clock.advance(days=7)
    await platform.credit.run_daily()
    owed = (await platform.credit.statement(RESELLER)).interest_owed
    assert owed == 7 * 18  # 0.18 a day on 360.00
    return owed


async def pay_epay(platform: Platform, clock: FakeClock, node: FakeTronServer, amount: int) -> str:
    created = await platform.payments.create(RESELLER, "epay", amount)
    notice = {
        "pid": "1001",
        "trade_no": "2026000000000042",
        "out_trade_no": created.payment.id,
        "type": "alipay",
        "name": f"top-up {created.payment.id}",
        "money": f"{amount // 100}.{amount % 100:02d}",
        "trade_status": "TRADE_SUCCESS",
    }
    await platform.payments.notify("epay", signed(notice, EPAY_KEY))
    return created.payment.id


async def pay_usdt(platform: Platform, clock: FakeClock, node: FakeTronServer, amount: int) -> str:
    created = await platform.payments.create(RESELLER, "usdt", amount)
    clock.advance(minutes=2)
    node.chain.pay(OURS, created.payment.provider_amount or 0, at=clock.now())
    node.chain.mine(19)
    await platform.usdt.watch()
    return created.payment.id


async def pay_stars(platform: Platform, clock: FakeClock, node: FakeTronServer, amount: int) -> str:
    created = await platform.payments.create(RESELLER, "stars", amount)
    params = {
        "currency": "XTR",
        "total_amount": str(created.payment.provider_amount),
        "invoice_payload": created.payment.id,
        "telegram_payment_charge_id": f"stx-{created.payment.id}",
    }
    await platform.payments.notify("stars", params, via="telegram")
    return created.payment.id


PAY = {"epay": pay_epay, "usdt": pay_usdt, "stars": pay_stars}

# method, paid, → interest repaid, balance moved (the interest owed is 1.26)
CASES = [
    ("epay", 100_00, 1_26, 98_74),
    ("usdt", 100_00, 1_26, 98_74),
    ("stars", 100_00, 1_26, 98_74),
    ("epay", 1_00, 1_00, 0),  # less than the interest: all of it to the interest
    ("stars", 1_26, 1_26, 0),  # exactly the interest
]


@pytest.mark.parametrize(("method", "paid", "to_interest", "to_balance"), CASES)
async def test_a_payment_repays_the_interest_first(
    platform: Platform,
    clock: FakeClock,
    node: FakeTronServer,
    method: str,
    paid: int,
    to_interest: int,
    to_balance: int,
) -> None:
    owed = await owing_interest(platform, clock)
    before = (await platform.balances.balance(RESELLER)).balance

    payment_id = await PAY[method](platform, clock, node, paid)

    assert (await platform.payments.get(payment_id)).status == PaymentStatus.CREDITED
    statement = await platform.credit.statement(RESELLER)
    assert statement.interest_owed == owed - to_interest
    assert (await platform.balances.balance(RESELLER)).balance == before + to_balance
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_a_stars_refund_owes_the_repaid_interest_again(
    platform: Platform, clock: FakeClock, node: FakeTronServer
) -> None:
    owed = await owing_interest(platform, clock)
    # an operator's correction moves the balance only (it repays no interest)
    await platform.balances.adjust(RESELLER, 400_00, idempotency_key="fix", note="fix", actor="t")
    assert (await platform.balances.balance(RESELLER)).balance == 40_00

    payment_id = await pay_stars(platform, clock, node, 50_00)
    assert (await platform.credit.statement(RESELLER)).interest_owed == 0
    assert (await platform.balances.balance(RESELLER)).balance == 40_00 + 50_00 - owed

    refund = await platform.stars.refund(payment_id, admin_telegram_id=ADMIN_TID, reason="r")
    assert refund.amount == 50_00
    assert (await platform.credit.statement(RESELLER)).interest_owed == owed
    assert (await platform.balances.balance(RESELLER)).balance == 40_00
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


def test_cases_cover_every_provider() -> None:
    assert {method for method, *_ in CASES} == set(PAY)

"""Telegram Stars in core, on a real database: the rate, the invoice's stars, the
pre-checkout answer, credited once by charge id, an admin's refund once; the ledger check
after each."""

from __future__ import annotations

import asyncio

import pytest

from core.audit import verify
from core.decisions.stars import Accept, Decline
from core.errors import Forbidden, InsufficientBalance, RateRefused, StarsRefused
from core.models import PaymentStatus, Role, StarsRefundStatus
from core.platform import Platform
from core.settings import Settings
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import make_reseller
from tests.payments.stars_helpers import ledger_ok, stars_settings

RESELLER = 1001
ADMIN = 42


@pytest.fixture
def settings(database_url: str) -> Settings:
    return stars_settings(database_url)


async def admin(platform: Platform) -> None:
    await platform.catalogue.ensure_user(ADMIN, username="boss", language="en")
    await platform.catalogue.grant_role(ADMIN, Role.ADMIN, actor="test")


def paid_params(payment_id: str, stars: int, charge: str = "stx-charge-1") -> dict[str, str]:
    return {
        "currency": "XTR",
        "total_amount": str(stars),
        "invoice_payload": payment_id,
        "telegram_payment_charge_id": charge,
        "provider_payment_charge_id": "",
    }


async def test_a_stars_top_up_is_an_invoice_at_the_rate_and_credited_once(
    platform: Platform,
) -> None:
    await make_reseller(platform, RESELLER)
    created = await platform.payments.create(RESELLER, "stars", 100_00)
    assert created.step.telegram_invoice
    assert (created.payment.provider_amount, created.payment.provider_currency) == (500, "XTR")

    answer = await platform.stars.pre_checkout(
        created.payment.id, payer=RESELLER, currency="XTR", total_amount=500
    )
    assert answer == Accept()
    first = await platform.payments.notify(
        "stars", paid_params(created.payment.id, 500), via="telegram"
    )
    again = await platform.payments.notify(
        "stars", paid_params(created.payment.id, 500), via="telegram"
    )
    assert (first.outcome, again.outcome) == ("credited", "already")
    assert (await platform.balances.balance(RESELLER)).balance == 100_00
    await ledger_ok(platform)
    # once credited, another pre-checkout for it is refused
    closed = await platform.stars.pre_checkout(
        created.payment.id, payer=RESELLER, currency="XTR", total_amount=500
    )
    assert closed == Decline("closed")


async def test_the_same_successful_payment_ten_times_at_once_is_credited_once(
    platform: Platform,
) -> None:
    await make_reseller(platform, RESELLER)
    created = await platform.payments.create(RESELLER, "stars", 50_00)
    params = paid_params(created.payment.id, 250)
    outcomes = await asyncio.gather(
        *(platform.payments.notify("stars", params, via="telegram") for _ in range(10))
    )
    assert sorted(o.outcome for o in outcomes) == ["already"] * 9 + ["credited"]
    assert (await platform.balances.balance(RESELLER)).balance == 50_00
    await ledger_ok(platform)


async def test_pre_checkout_refuses_an_expired_payment_or_another_amount(
    platform: Platform, clock: FakeClock
) -> None:
    await make_reseller(platform, RESELLER)
    created = await platform.payments.create(RESELLER, "stars", 100_00)
    pid = created.payment.id
    check = platform.stars.pre_checkout
    assert await check(pid, payer=RESELLER, currency="XTR", total_amount=499) == Decline("amount")
    assert await check(pid, payer=2002, currency="XTR", total_amount=500) == Decline("payer")
    assert await check("nope", payer=RESELLER, currency="XTR", total_amount=500) == Decline(
        "unknown"
    )
    clock.advance(seconds=platform.settings.payment_ttl_seconds)
    assert await check(pid, payer=RESELLER, currency="XTR", total_amount=500) == Decline("expired")
    await ledger_ok(platform)


async def test_the_rate_admins_set_is_audited_and_used_from_then_on(platform: Platform) -> None:
    await make_reseller(platform, RESELLER)
    await admin(platform)
    with pytest.raises(Forbidden):
        await platform.stars.set_rate(10, admin_telegram_id=RESELLER)
    with pytest.raises(RateRefused) as asked:  # half the ¥0.20 in force: asked first
        await platform.stars.set_rate(10, admin_telegram_id=ADMIN)
    assert asked.value.params == {
        "of": "stars", "reason": "confirm", "rate": 10, "current": 20, "change_bps": 5000
    }  # fmt: skip
    with pytest.raises(RateRefused) as typo:  # ¥2.00 a star: refused even when confirmed
        await platform.stars.set_rate(200, admin_telegram_id=ADMIN, confirmed=True)
    assert (typo.value.params["reason"], typo.value.params["high"]) == ("range", 30)
    assert await platform.stars.rate() == 20
    view = await platform.stars.set_rate(
        10, admin_telegram_id=ADMIN, note="new price", confirmed=True, replacing=20
    )
    assert (view.fen_per_star, view.set_by) == (10, f"admin:{ADMIN}")
    assert await platform.stars.rate() == 10
    created = await platform.payments.create(RESELLER, "stars", 100_00)
    assert created.payment.provider_amount == 1000
    assert (await verify(platform.db)).ok


async def test_no_rate_no_invoice(platform: Platform, database_url: str) -> None:
    from core.platform import build_platform

    bare = build_platform(
        Settings(
            database_url=database_url, secret_key=TEST_SECRET, stars_enabled=True, _env_file=None
        ),
        db=platform.db,
    )
    await make_reseller(platform, RESELLER)
    with pytest.raises(StarsRefused) as refused:
        await bare.payments.create(RESELLER, "stars", 100_00)
    assert refused.value.params == {"reason": "no_rate"}
    with pytest.raises(StarsRefused) as too_many:
        await platform.payments.create(RESELLER, "stars", 10_000 * 20 + 1)
    assert too_many.value.params["reason"] == "too_many"


async def test_an_admin_refund_reverses_the_ledger_once(platform: Platform) -> None:
    await make_reseller(platform, RESELLER)
    await admin(platform)
    created = await platform.payments.create(RESELLER, "stars", 100_00)
    pid = created.payment.id
    await platform.payments.notify("stars", paid_params(pid, 500), via="telegram")

    with pytest.raises(Forbidden):
        await platform.stars.refund(pid, admin_telegram_id=RESELLER, reason="mine")
    refund = await platform.stars.refund(pid, admin_telegram_id=ADMIN, reason="asked by buyer")
    assert (refund.stars, refund.amount, refund.status) == (500, 100_00, StarsRefundStatus.PENDING)
    assert refund.balance == 0 and not refund.already
    again = await platform.stars.refund(pid, admin_telegram_id=ADMIN, reason="twice")
    assert again.already and again.reason == "asked by buyer"
    assert (await platform.balances.balance(RESELLER)).balance == 0
    await ledger_ok(platform)

    assert [r.payment_id for r in await platform.stars.pending_refunds()] == [pid]
    done = await platform.stars.refunded(pid)
    assert done.status == StarsRefundStatus.REFUNDED
    assert await platform.stars.pending_refunds() == []
    view = await platform.payments.get(pid)
    assert view.status == PaymentStatus.CREDITED  # the credit stands; the refund reverses it
    await ledger_ok(platform)


async def test_a_refund_of_spent_money_or_an_open_payment_is_refused(
    platform: Platform,
) -> None:
    await make_reseller(platform, RESELLER)
    await admin(platform)
    created = await platform.payments.create(RESELLER, "stars", 100_00)
    with pytest.raises(StarsRefused) as open_one:
        await platform.stars.refund(created.payment.id, admin_telegram_id=ADMIN, reason="x")
    assert open_one.value.params == {"reason": "unknown"}  # not paid: no charge to refund
    await platform.payments.notify("stars", paid_params(created.payment.id, 500), via="telegram")
    await platform.balances.adjust(
        RESELLER, -60_00, idempotency_key="spent", note="spent", actor="test"
    )
    with pytest.raises(InsufficientBalance):
        await platform.stars.refund(created.payment.id, admin_telegram_id=ADMIN, reason="x")
    assert await platform.stars.pending_refunds() == []
    assert (await platform.balances.balance(RESELLER)).balance == 40_00
    await ledger_ok(platform)


async def test_two_confirmations_of_one_stars_rate_at_once_set_it_once(
    platform: Platform,
) -> None:
    """Two presses of one ✅ racing (the rule and the lock the USDT rate's): one sets the
    rate, the other is told the rate in force is no longer the one it saw."""
    from sqlalchemy import select

    from core.models import StarsRate

    await platform.stars.set_rate(20)
    results = await asyncio.gather(
        *(platform.stars.set_rate(28, confirmed=True, replacing=20) for _ in range(2)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, RateRefused)]
    assert len(refused) == 1 and refused[0].params["current"] == 28, results
    async with platform.db.reading() as session:
        rates = list(await session.scalars(select(StarsRate.fen_per_star).order_by(StarsRate.id)))
    assert rates == [20, 28]

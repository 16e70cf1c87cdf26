"""易支付 end to end: the fake gateway over HTTP, the API app's ``/pay/epay/notify``, a real
database. Each scenario ends with ``kameng ledger check``."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from core.errors import InvalidState
from core.models import LedgerTransaction, OutboxMessage, PaymentStatus
from core.payments import CREDITED_NOTICE, ledger_key
from tests.payments.conftest import ADMIN_TID, OTHER, RESELLER, Paying


async def _transactions(paying: Paying, payment_id: str) -> int:
    async with paying.platform.db.reading() as session:
        return int(
            await session.scalar(
                select(func.count()).where(
                    LedgerTransaction.idempotency_key == ledger_key(payment_id)
                )
            )
            or 0
        )


async def _notices(paying: Paying) -> int:
    async with paying.platform.db.reading() as session:
        return int(
            await session.scalar(select(func.count()).where(OutboxMessage.kind == CREDITED_NOTICE))
            or 0
        )


async def test_a_paid_payment_is_credited_once_and_the_gateway_told_success(
    paying: Paying,
) -> None:
    payment_id = await paying.open(100_00)
    order = paying.gateway.orders[payment_id]
    assert order.money == "100.00" and order.type == "alipay"
    assert order.notify_url == f"{paying.api_url}/pay/epay/notify"

    await paying.pay(payment_id)

    assert order.notify_answers == ["success"]
    view = await paying.platform.payments.get(payment_id)
    assert view.status is PaymentStatus.CREDITED
    assert view.provider_reference == order.trade_no
    assert view.paid_amount == 100_00
    assert await paying.balance() == 100_00
    assert await _transactions(paying, payment_id) == 1
    assert await _notices(paying) == 1  # "credited ✅", written with the credit
    await paying.assert_books_balance()


async def test_ten_identical_notifications_at_once_credit_once(paying: Paying) -> None:
    payment_id = await paying.open(50_00)
    paying.gateway.faults.repeat = 10

    await paying.pay(payment_id)

    order = paying.gateway.orders[payment_id]
    assert order.notify_answers == ["success"] * 10  # credited, or credited already
    assert await paying.balance() == 50_00
    assert await _transactions(paying, payment_id) == 1
    assert await _notices(paying) == 1
    await paying.assert_books_balance()


async def test_a_lost_notification_is_found_by_recovery(paying: Paying) -> None:
    payment_id = await paying.open(30_00)
    paying.gateway.faults.lose = 1 + len(paying.gateway.retry_delays)  # never arrives

    await paying.pay(payment_id)
    assert paying.gateway.orders[payment_id].notify_answers == []
    assert (await paying.platform.payments.get(payment_id)).status is PaymentStatus.CREATED
    assert await paying.balance() == 0

    paying.clock.advance(minutes=1)  # older than payment_check_after_seconds
    found = await paying.platform.payments.recover()

    assert (found.checked, found.credited) == (1, 1)
    assert (await paying.platform.payments.get(payment_id)).status is PaymentStatus.CREDITED
    assert await paying.balance() == 30_00
    again = await paying.platform.payments.recover()  # nothing left to find
    assert (again.checked, again.credited) == (0, 0)
    assert await _transactions(paying, payment_id) == 1
    await paying.assert_books_balance()


async def test_the_payers_check_button_finds_a_lost_notification(paying: Paying) -> None:
    payment_id = await paying.open(20_00)
    waiting = await paying.platform.payments.check(payment_id, telegram_id=RESELLER)
    assert waiting.outcome == "waiting"

    paying.gateway.faults.lose = 1 + len(paying.gateway.retry_delays)
    await paying.pay(payment_id)
    checked = await paying.platform.payments.check(payment_id, telegram_id=RESELLER)

    assert checked.outcome == "credited" and checked.balance == 20_00
    await paying.assert_books_balance()


async def test_a_wrong_signature_changes_nothing_and_is_a_warning(
    paying: Paying, caplog: pytest.LogCaptureFixture
) -> None:
    payment_id = await paying.open(100_00)
    paying.gateway.faults.wrong_key = True

    with caplog.at_level(logging.INFO):
        await paying.pay(payment_id)

    order = paying.gateway.orders[payment_id]
    assert order.notify_answers == ["fail"] * (1 + len(paying.gateway.retry_delays))
    assert (await paying.platform.payments.get(payment_id)).status is PaymentStatus.CREATED
    assert await paying.balance() == 0
    refused = [r for r in caplog.records if "refused (epay, signature)" in r.getMessage()]
    assert refused and all(r.levelno == logging.WARNING for r in refused)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await paying.assert_books_balance()


async def test_an_amount_tampered_after_signing_is_refused(paying: Paying) -> None:
    payment_id = await paying.open(1_00)
    paying.gateway.faults.tamper_money = "1000.00"

    await paying.pay(payment_id)

    assert set(paying.gateway.orders[payment_id].notify_answers) == {"fail"}
    assert await paying.balance() == 0
    await paying.assert_books_balance()


async def test_a_signed_short_payment_is_held_for_an_admin_who_credits_it_once(
    paying: Paying,
) -> None:
    payment_id = await paying.open(100_00)
    paying.gateway.orders[payment_id].money = "99.00"  # the gateway took less

    await paying.pay(payment_id)

    view = await paying.platform.payments.get(payment_id)
    assert (view.status, view.note, view.paid_amount) == (PaymentStatus.MISMATCHED, "short", 99_00)
    assert paying.gateway.orders[payment_id].notify_answers == ["success"]  # recorded
    assert await paying.balance() == 0
    assert [p.id for p in await paying.platform.payments.stuck()] == [payment_id]

    credited = await paying.platform.payments.credit_manually(
        payment_id, admin_telegram_id=ADMIN_TID, to_telegram_id=OTHER, note="paid 99", amount=99_00
    )
    assert credited.payment.status is PaymentStatus.CREDITED
    assert credited.payment.credited_telegram_id == OTHER
    assert await paying.balance(OTHER) == 99_00
    with pytest.raises(InvalidState):
        await paying.platform.payments.credit_manually(
            payment_id, admin_telegram_id=ADMIN_TID, to_telegram_id=OTHER, note="again"
        )
    assert await paying.balance(OTHER) == 99_00
    assert await paying.platform.payments.stuck() == []
    await paying.assert_books_balance()


async def test_paid_after_expiry_is_credited_within_the_grace_and_held_after(
    paying: Paying,
) -> None:
    on_time = await paying.open(10_00)
    too_late = await paying.open(10_00, telegram_id=OTHER)
    paying.clock.advance(minutes=15 + 10)  # expired 10 minutes ago; the grace is 30
    assert await paying.platform.payments.expire() == 0  # still within the grace

    await paying.pay(on_time)
    assert (await paying.platform.payments.get(on_time)).status is PaymentStatus.CREDITED
    assert await paying.balance() == 10_00

    paying.clock.advance(minutes=21)  # 31 minutes after expiry
    await paying.platform.payments.recover()  # asks the gateway (unpaid), then expires it
    assert (await paying.platform.payments.get(too_late)).status is PaymentStatus.EXPIRED
    await paying.pay(too_late)

    view = await paying.platform.payments.get(too_late)
    assert (view.status, view.note) == (PaymentStatus.MISMATCHED, "late")
    assert await paying.balance(OTHER) == 0
    await paying.assert_books_balance()


async def test_a_notification_for_an_unknown_payment_or_provider_is_refused(
    paying: Paying,
) -> None:
    payment_id = await paying.open(5_00)
    order = paying.gateway.orders[payment_id]
    notice = paying.gateway.notification(order)
    async with paying.http.get(
        f"{paying.api_url}/pay/epay/notify", params={**notice, "out_trade_no": "nope"}
    ) as answer:
        assert (answer.status, await answer.text()) == (400, "fail")  # the signature
    async with paying.http.get(f"{paying.api_url}/pay/paypal/notify", params=notice) as answer:
        assert answer.status == 404
    async with paying.http.post(f"{paying.api_url}/pay/epay/notify", data=notice) as answer:
        assert (answer.status, await answer.text()) == (200, "success")  # POST works too
    assert await paying.balance() == 5_00
    await paying.assert_books_balance()

"""Telegram Stars through the real bot and the fake Telegram: a reseller tops up with an
invoice and pays it, the successful payment is credited once (even delivered twice), the
pre-checkout query is refused for an expired payment or another amount and answered within
Telegram's deadline while many pay at once, and an admin's refund gives the stars back and
takes the balance back once. The ledger check after each."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.models import LedgerTransaction, PaymentStatus, StarsRefundStatus
from core.payments import PaymentView
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import ChatMessage, FakeTelegramServer, FakeUser
from sandbox.fake_telegram.payments import pay_invoice
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import eventually, outbox_rows
from tests.bot.scheduler_helpers import bot_process
from tests.conftest import FakeClock
from tests.factories import make_reseller
from tests.payments.stars_helpers import ledger_ok, stars_settings

RESELLER = 1001


@pytest.fixture
def settings(database_url: str) -> Settings:
    # the bot's own scheduler ticks at start-up only: a test runs the jobs it wants run
    return stars_settings(database_url).model_copy(update={"scheduler_interval_seconds": 3600})


async def balance(platform: Platform, telegram_id: int = RESELLER) -> int:
    return (await platform.balances.balance(telegram_id)).balance


async def transactions(platform: Platform, kind: str) -> int:
    async with platform.db.reading() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(LedgerTransaction.kind == kind)
        )
    return int(count or 0)


async def reseller(server: FakeTelegramServer, shop: Platform, telegram_id: int) -> FakeUser:
    await make_reseller(shop, telegram_id)
    await shop.catalogue.set_language(telegram_id, "en")
    return server.user(telegram_id, f"R{telegram_id}", started=True)


async def invoice_for(user: FakeUser, amount: str) -> ChatMessage:
    await user.send_text(f"/stars {amount}")
    return await user.wait_for_message(lambda m: m.invoice is not None)


async def test_a_reseller_tops_up_with_stars_and_is_credited_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    user = await reseller(server, shop, RESELLER)
    invoice = await invoice_for(user, "100")
    assert invoice.invoice is not None
    assert (invoice.invoice.currency, invoice.invoice.total_amount) == ("XTR", 500)
    assert invoice.buttons == ["Pay ⭐500"]

    outcome = await user.pay(invoice)
    assert outcome.status == "paid" and outcome.query.answered_in_time
    await eventually(lambda: _balance_is(shop, 100_00), "the credit")
    payment = (await shop.payments.find(status=PaymentStatus.CREDITED))[0]
    assert payment.provider_reference == outcome.charge_id
    assert payment.paid_amount == 500
    assert len(await outbox_rows(shop, "payment.credited")) == 1
    await ledger_ok(shop)

    # the same successful payment reaches the bot a second time: nothing more
    assert outcome.update is not None
    again = server.deliver_again(outcome.update)
    await eventually(lambda: _fetched(server, again.update_id), "the second delivery taken")
    await user.send_text("/stars")  # a later update, handled after the repeated one
    await user.wait_for_message(lambda m: "/stars AMOUNT" in m.text)
    assert await balance(shop) == 100_00
    assert await transactions(shop, "payment") == 1
    assert len(await outbox_rows(shop, "payment.credited")) == 1
    await ledger_ok(shop)


async def _balance_is(platform: Platform, amount: int) -> bool:
    return await balance(platform) == amount


async def _fetched(server: FakeTelegramServer, update_id: int) -> bool:
    return all(u.update_id != update_id for u in server.state.updates) and any(
        int(call.get("offset") or 0) > update_id for call in server.calls("getUpdates")
    )


async def test_pre_checkout_refuses_an_expired_payment(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    user = await reseller(server, shop, RESELLER)
    invoice = await invoice_for(user, "100")
    clock.advance(seconds=shop.settings.payment_ttl_seconds + 1)
    outcome = await user.pay(invoice)
    assert outcome.status == "declined"
    assert outcome.error_message == (
        "This top-up has expired. Start a new one from Balance → Top up."
    )
    assert server.payments.payments == {}  # Telegram took no stars
    assert await balance(shop) == 0
    await ledger_ok(shop)


async def test_pre_checkout_refuses_another_amount_or_another_payer(
    server: FakeTelegramServer, shop: Platform
) -> None:
    user = await reseller(server, shop, RESELLER)
    other = await reseller(server, shop, 1002)
    invoice = await invoice_for(user, "100")
    assert invoice.invoice is not None
    cheaper = await user.pay(invoice, total_amount=1)
    assert cheaper.status == "declined"
    assert cheaper.error_message == "The amount does not match this top-up; nothing was charged."
    # the invoice forwarded to another user, who presses its Pay button
    forwarded = await pay_invoice(
        server.state, server.state.chats[other.id], invoice, tampered=invoice.invoice
    )
    assert forwarded.status == "declined"
    assert forwarded.error_message == "Only the reseller who opened this top-up can pay it."
    assert server.payments.payments == {}
    assert await balance(shop) == 0 and await balance(shop, 1002) == 0
    # the right amount by its owner still goes through
    assert (await user.pay(invoice)).status == "paid"
    await eventually(lambda: _balance_is(shop, 100_00), "the credit")
    await ledger_ok(shop)


async def test_pre_checkout_is_answered_in_time_while_many_pay_and_buy_at_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    from tests.factories import make_sku

    payers = [await reseller(server, shop, 2000 + n) for n in range(20)]
    invoices = [await invoice_for(user, "10") for user in payers]
    await make_sku(shop, "LOAD-1", stock=200, supply_price=80, price=1_00, face_value=2_00)
    buyers = [3000 + n for n in range(20)]
    for telegram_id in buyers:
        await make_reseller(shop, telegram_id, balance=50_00)

    async def buy(telegram_id: int) -> None:
        for n in range(5):
            await shop.shop.buy_now(telegram_id, "LOAD-1", 1, idempotency_key=f"{telegram_id}-{n}")

    results = await asyncio.gather(
        *(user.pay(invoice) for user, invoice in zip(payers, invoices, strict=True)),
        *(buy(telegram_id) for telegram_id in buyers),
    )
    outcomes = results[: len(payers)]
    assert [o.status for o in outcomes] == ["paid"] * len(payers)
    # each answer reached the emulator before its deadline, on the emulator's own clock
    assert all(o.query.answered_in_time for o in outcomes)
    for user in payers:
        await eventually(lambda u=user: _balance_is_of(shop, u.id, 10_00), "each credit")
    await ledger_ok(shop)


async def _balance_is_of(platform: Platform, telegram_id: int, amount: int) -> bool:
    return await balance(platform, telegram_id) == amount


async def test_an_admin_refund_gives_the_stars_back_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    user = await reseller(server, shop, RESELLER)
    invoice = await invoice_for(user, "100")
    outcome = await user.pay(invoice)
    await eventually(lambda: _balance_is(shop, 100_00), "the credit")
    payment = (await shop.payments.find(status=PaymentStatus.CREDITED))[0]

    admin = server.user(ADMIN_ID)
    await admin.send_text(f"/stars_refund {payment.id} paid by mistake")
    card = await admin.wait_for_message(lambda m: "Refund Stars payment" in m.text)
    assert card.buttons == ["↩️ Refund 500 ⭐", "Cancel"]
    await admin.press("↩️ Refund 500 ⭐", message=card)
    done = await admin.wait_for_message(lambda m: m.text.startswith("✅ Refunded 500 ⭐"))
    assert payment.id in done.text

    assert server.calls("refundStarPayment") == [
        {"user_id": RESELLER, "telegram_payment_charge_id": outcome.charge_id}
    ]
    assert server.payments.payments[str(outcome.charge_id)].refunded_at is not None
    assert await balance(shop) == 0
    refunds = await shop.stars.pending_refunds()
    assert refunds == []
    await ledger_ok(shop)

    # the old card's button pressed again: nothing more is refunded or taken back
    data = card.callback_data("↩️ Refund 500 ⭐")
    assert data is not None
    query_id = await admin.press_data(data, message=card)
    answer = await admin.wait_for_callback_answer(query_id)
    assert answer.answer_text is not None and answer.answer_text.startswith("✅ Refunded")
    assert len(server.calls("refundStarPayment")) == 1
    assert await transactions(shop, "stars_refund") == 1
    assert await balance(shop) == 0
    view = await shop.stars.refunded(payment.id)
    assert view.status == StarsRefundStatus.REFUNDED
    await ledger_ok(shop)


async def _paid_50_and_refund_asked(
    server: FakeTelegramServer, shop: Platform
) -> tuple[PaymentView, FakeUser, ChatMessage]:
    """The reseller tops up 50.00 in stars (250 ⭐) and is credited; the admin asks to refund
    it: the payment, the admin and the refund card with its button."""
    user = await reseller(server, shop, RESELLER)
    await user.pay(await invoice_for(user, "50"))
    await eventually(lambda: _balance_is(shop, 50_00), "the credit")
    payment = (await shop.payments.find(status=PaymentStatus.CREDITED))[0]
    admin = server.user(ADMIN_ID)
    await admin.send_text(f"/stars_refund {payment.id} duplicate")
    card = await admin.wait_for_message(lambda m: "Refund Stars payment" in m.text)
    return payment, admin, card


async def test_a_refund_telegram_refuses_stays_pending_and_is_retried(
    server: FakeTelegramServer, shop: Platform
) -> None:
    payment, admin, card = await _paid_50_and_refund_asked(server, shop)
    server.fail("refundStarPayment", 1, 502)
    query_id = await admin.press("↩️ Refund 250 ⭐", message=card)
    answer = await admin.wait_for_callback_answer(query_id)
    assert answer.answer_text is not None and "did not refund the stars yet" in answer.answer_text
    assert [r.payment_id for r in await shop.stars.pending_refunds()] == [payment.id]
    assert await balance(shop) == 0  # taken back once, already
    await ledger_ok(shop)

    await admin.press("↩️ Refund 250 ⭐", message=card)
    await admin.wait_for_message(lambda m: m.text.startswith("✅ Refunded 250 ⭐"))
    assert await shop.stars.pending_refunds() == []
    assert await transactions(shop, "stars_refund") == 1
    await ledger_ok(shop)


async def test_a_refund_telegram_refuses_is_retried_by_the_job(
    server: FakeTelegramServer, shop: Platform, platform: Platform, settings: Settings
) -> None:
    """Telegram refuses the admin's press and the job's first retry: the job asks again
    after its backoff, the stars come back once, nobody pressed anything."""
    payment, admin, card = await _paid_50_and_refund_asked(server, shop)
    server.fail("refundStarPayment", 2, 502)
    query_id = await admin.press("↩️ Refund 250 ⭐", message=card)
    answer = await admin.wait_for_callback_answer(query_id)
    assert answer.answer_text is not None and "asks Telegram again by itself" in answer.answer_text

    clock = shop.clock
    assert isinstance(clock, FakeClock)
    async with bot_process(platform, server, settings, "retrier") as runner:
        await runner.tick()  # not due yet
        assert len(server.calls("refundStarPayment")) == 1
        clock.advance(minutes=1, seconds=1)
        await runner.tick()  # the first retry: refused again, the second one scheduled
        assert len(server.calls("refundStarPayment")) == 2
        assert [r.payment_id for r in await shop.stars.pending_refunds()] == [payment.id]
        clock.advance(minutes=2, seconds=1)
        await runner.tick()  # the second retry: done
    assert len(server.calls("refundStarPayment")) == 3
    assert await shop.stars.pending_refunds() == []
    assert server.payments.payments[str(payment.provider_reference)].refunded_at is not None
    assert await transactions(shop, "stars_refund") == 1
    retries = [j for j in await shop.jobs.jobs() if j.kind == "stars.refund_retry"]
    assert sorted((j.payload["attempt"], j.status.value) for j in retries) == [
        (1, "done"),
        (2, "done"),
    ]
    await ledger_ok(shop)


async def test_only_admins_refund_or_set_the_rate(
    server: FakeTelegramServer, shop: Platform
) -> None:
    user = await reseller(server, shop, RESELLER)
    await user.send_text("/stars_rate 10")
    await user.send_text("/stars_refund 123 x")
    admin = server.user(ADMIN_ID)
    await admin.send_text("/stars_rate 25")
    await admin.wait_for_message(lambda m: m.text == "✅ From now on 1 ⭐ = ¥0.25.")
    assert await shop.stars.rate() == 25
    invoice = await invoice_for(user, "100")
    assert invoice.invoice is not None and invoice.invoice.total_amount == 400


async def test_balance_top_up_offers_stars_and_sends_the_invoice(
    server: FakeTelegramServer, shop: Platform
) -> None:
    user = await reseller(server, shop, RESELLER)
    await user.send_text("💰 Balance")
    await user.wait_for_message(lambda m: "💳 Top up" in m.buttons)
    await user.press("💳 Top up")
    methods = await user.wait_for_message(lambda m: "⭐ Telegram Stars" in m.buttons)
    await user.press("⭐ Telegram Stars", message=methods)
    await user.wait_for_message(lambda m: "how much?" in m.text)
    await user.send_text("30")
    invoice = await user.wait_for_message(lambda m: m.invoice is not None)
    assert invoice.invoice is not None and invoice.invoice.total_amount == 150
    assert (await user.pay(invoice)).status == "paid"
    await eventually(lambda: _balance_is(shop, 30_00), "the credit")
    notice = await user.wait_for_message(lambda m: "✅" in m.text, after=0)
    assert notice.text
    await ledger_ok(shop)

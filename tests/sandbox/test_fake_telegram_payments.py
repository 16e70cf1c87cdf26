"""Payments in Telegram Stars on the fake server: the real aiogram Bot sends invoices,
answers pre-checkout queries and refunds; a user pays as a Telegram client would."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, LabeledPrice, Update

from sandbox.fake_telegram import FakeTelegramServer, InvoiceNotPayable
from sandbox.fake_telegram.limits import QUERY_TOO_OLD
from tests.sandbox.helpers import make_bot


async def send_stars_invoice(bot: Bot, chat_id: int, **overrides: Any) -> Any:
    fields: dict[str, Any] = {
        "chat_id": chat_id,
        "title": "Top up",
        "description": "Top up your balance by ¥10.00",
        "payload": "payment-7f3a",
        "currency": "XTR",
        "prices": [LabeledPrice(label="Top up", amount=50)],
        "provider_token": "",
    }
    fields.update(overrides)
    return await bot.send_invoice(**fields)


async def next_update(bot: Bot, offset: int | None = None) -> Update:
    for _ in range(50):
        updates = await bot.get_updates(offset=offset, timeout=1)
        if updates:
            return updates[0]
    raise AssertionError("no update came")


async def test_an_invoice_in_stars_appears_in_the_chat(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, "Ann", started=True)
    sent = await send_stars_invoice(bot, user.id)
    assert sent.invoice is not None
    assert (sent.invoice.currency, sent.invoice.total_amount) == ("XTR", 50)
    assert sent.invoice.title == "Top up"
    shown = user.last_message
    assert shown is not None and shown.invoice is not None
    assert shown.invoice.payload == "payment-7f3a"


@pytest.mark.parametrize(
    ("overrides", "description"),
    [
        (
            {
                "prices": [
                    LabeledPrice(label="Top up", amount=50),
                    LabeledPrice(label="Fee", amount=1),
                ]
            },
            "Bad Request: STARS_INVOICE_INVALID",
        ),
        ({"provider_token": "284685063:TEST:abc"}, "Bad Request: STARS_INVOICE_INVALID"),
        (
            {"max_tip_amount": 10, "suggested_tip_amounts": [5]},
            "Bad Request: STARS_INVOICE_INVALID",
        ),
        ({"prices": []}, "Bad Request: There must be at least one price"),
        (
            {"prices": [LabeledPrice(label="", amount=5)]},
            "Bad Request: Can't parse labeled price: LabeledPrice label must be non-empty",
        ),
        (
            {"prices": [LabeledPrice(label="x", amount=0)]},
            "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID",
        ),
        (
            {"prices": [LabeledPrice(label="x", amount=10_001)]},
            "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID",
        ),
        ({"payload": "p" * 129}, "Bad Request: INVOICE_PAYLOAD_INVALID"),
        ({"payload": "支" * 43}, "Bad Request: INVOICE_PAYLOAD_INVALID"),  # 129 bytes
        ({"currency": "USD"}, "Bad Request: PAYMENT_PROVIDER_INVALID"),
        ({"title": "t" * 33}, "Bad Request: fake server: title must be 1-32 characters"),
        (
            {"description": "d" * 256},
            "Bad Request: fake server: description must be 1-255 characters",
        ),
        (
            {
                "reply_markup": InlineKeyboardMarkup(
                    inline_keyboard=[[InlineKeyboardButton(text="Later", callback_data="later")]]
                )
            },
            "Bad Request: fake server: the first button of an invoice's keyboard must be a "
            "Pay button",
        ),
    ],
)
async def test_send_invoice_checks_its_parameters(
    server: FakeTelegramServer, bot: Bot, overrides: dict[str, Any], description: str
) -> None:
    user = server.user(1001, started=True)
    with pytest.raises(TelegramBadRequest) as error:
        await send_stars_invoice(bot, user.id, **overrides)
    assert error.value.message == description
    assert user.messages == []


async def test_payload_of_128_bytes_and_a_pay_button_first_are_accepted(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, started=True)
    pay_first = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Pay ⭐️50", pay=True)],
            [InlineKeyboardButton(text="Cancel", callback_data="cancel")],
        ]
    )
    sent = await send_stars_invoice(bot, user.id, payload="支" * 42 + "pp", reply_markup=pay_first)
    assert sent.invoice is not None
    assert user.messages[-1].buttons == ["Pay ⭐️50", "Cancel"]


async def test_an_invoice_needs_a_started_chat(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001)
    with pytest.raises(Exception, match="bot can't initiate conversation"):
        await send_stars_invoice(bot, user.id)


async def test_paying_sends_a_pre_checkout_query_then_the_successful_payment(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, "Ann", started=True)
    await send_stars_invoice(bot, user.id)
    paying = asyncio.create_task(user.pay())

    update = await next_update(bot)
    query = update.pre_checkout_query
    assert query is not None and query.from_user.id == 1001
    assert (query.currency, query.total_amount, query.invoice_payload) == (
        "XTR",
        50,
        "payment-7f3a",
    )
    assert await bot.answer_pre_checkout_query(query.id, ok=True)
    outcome = await paying

    assert outcome.status == "paid" and outcome.charge_id is not None
    assert outcome.query.answered_in_time
    update = await next_update(bot, offset=update.update_id + 1)
    assert update.message is not None
    payment = update.message.successful_payment
    assert payment is not None
    assert payment.telegram_payment_charge_id == outcome.charge_id
    assert (payment.currency, payment.total_amount, payment.invoice_payload) == (
        "XTR",
        50,
        "payment-7f3a",
    )
    with pytest.raises(InvoiceNotPayable):  # an invoice is paid once
        await user.pay(user.messages[-1])


async def test_each_payment_has_its_own_charge_id(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    charges = set()
    offset = None
    for _ in range(3):
        await send_stars_invoice(bot, user.id)
        paying = asyncio.create_task(user.pay())
        update = await next_update(bot, offset)
        assert update.pre_checkout_query is not None
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
        charges.add((await paying).charge_id)
        offset = update.update_id + 2  # past the successful payment too
    assert len(charges) == 3 and None not in charges


async def test_a_negative_answer_means_no_payment(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    await send_stars_invoice(bot, user.id)
    paying = asyncio.create_task(user.pay())
    update = await next_update(bot)
    assert update.pre_checkout_query is not None
    with pytest.raises(TelegramBadRequest) as error:
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=False)
    assert error.value.message == 'Bad Request: Parameter "error_message" is required'
    await bot.answer_pre_checkout_query(
        update.pre_checkout_query.id, ok=False, error_message="This top-up has expired."
    )
    outcome = await paying
    assert outcome.status == "declined"
    assert outcome.error_message == "This top-up has expired."
    assert server.payments.payments == {}
    assert await bot.get_updates(offset=update.update_id + 1) == []
    with pytest.raises(TelegramBadRequest) as again:  # answered once
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    assert again.value.message == QUERY_TOO_OLD


async def test_an_answer_after_the_deadline_is_too_old_and_nothing_is_paid(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.pre_checkout_answer_timeout = 0.3
    user = server.user(1001, started=True)
    await send_stars_invoice(bot, user.id)
    paying = asyncio.create_task(user.pay())
    update = await next_update(bot)
    assert update.pre_checkout_query is not None
    outcome = await paying  # the user's client gave up waiting
    assert outcome.status == "timed_out"
    with pytest.raises(TelegramBadRequest) as error:
        await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    assert error.value.message == QUERY_TOO_OLD
    assert outcome.query.late_answers == 1 and not outcome.query.answered
    assert server.payments.payments == {}
    assert await bot.get_updates(offset=update.update_id + 1) == []
    # the invoice can still be paid
    paying = asyncio.create_task(user.pay())
    update = await next_update(bot, offset=update.update_id + 1)
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    assert (await paying).status == "paid"


async def test_an_unknown_pre_checkout_query_is_refused(
    server: FakeTelegramServer, bot: Bot
) -> None:
    with pytest.raises(TelegramBadRequest) as error:
        await bot.answer_pre_checkout_query("1001000000042", ok=True)
    assert error.value.message == QUERY_TOO_OLD


async def paid(server: FakeTelegramServer, bot: Bot, user_id: int) -> tuple[str, int]:
    """Pay one invoice of 50 Stars; its charge id and the next update offset."""
    user = server.user(user_id, started=True)
    await send_stars_invoice(bot, user.id)
    paying = asyncio.create_task(user.pay())
    update = await next_update(bot)
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    outcome = await paying
    assert outcome.charge_id is not None
    return outcome.charge_id, update.update_id + 2


async def test_a_refund_is_made_once_and_told_in_the_chat(
    server: FakeTelegramServer, bot: Bot
) -> None:
    charge_id, offset = await paid(server, bot, 1001)
    assert await bot.refund_star_payment(user_id=1001, telegram_payment_charge_id=charge_id)

    update = await next_update(bot, offset)
    assert update.message is not None and update.message.refunded_payment is not None
    refunded = update.message.refunded_payment
    assert (refunded.telegram_payment_charge_id, refunded.total_amount) == (charge_id, 50)
    assert refunded.invoice_payload == "payment-7f3a"
    with pytest.raises(TelegramBadRequest) as again:
        await bot.refund_star_payment(user_id=1001, telegram_payment_charge_id=charge_id)
    assert again.value.message == "Bad Request: CHARGE_ALREADY_REFUNDED"

    transactions = await bot.get_star_transactions()
    assert [(t.id, t.amount) for t in transactions.transactions] == [
        (charge_id, 50),
        (charge_id, 50),
    ]
    incoming, refund = transactions.transactions
    assert incoming.source is not None and refund.receiver is not None
    assert len((await bot.get_star_transactions(offset=1, limit=1)).transactions) == 1


async def test_a_refund_of_an_unknown_charge_or_another_users_is_refused(
    server: FakeTelegramServer, bot: Bot
) -> None:
    charge_id, _ = await paid(server, bot, 1001)
    server.user(1002, started=True)
    for user_id, charge in ((1001, "stx-unknown"), (1002, charge_id)):
        with pytest.raises(TelegramBadRequest) as error:
            await bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge)
        assert error.value.message == "Bad Request: CHARGE_NOT_FOUND"
    assert server.payments.payments[charge_id].refunded_at is None


async def test_a_payment_update_goes_to_the_webhook_too(server: FakeTelegramServer) -> None:
    from aiohttp import web

    from sandbox.local_http import start_app

    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner, url = await start_app(app)
    bot = make_bot(server)
    try:
        await bot.set_webhook(f"{url}/hook")
        user = server.user(1001, started=True)
        await send_stars_invoice(bot, user.id)
        paying = asyncio.create_task(user.pay())
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.02)
        query = received[0]["pre_checkout_query"]
        await bot.answer_pre_checkout_query(query["id"], ok=True)
        outcome = await paying
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.02)
        payment = received[1]["message"]["successful_payment"]
        assert payment["telegram_payment_charge_id"] == outcome.charge_id
    finally:
        await bot.session.close()
        await runner.cleanup()


async def test_delivering_a_payment_again_repeats_its_message(
    server: FakeTelegramServer, bot: Bot
) -> None:
    user = server.user(1001, started=True)
    await send_stars_invoice(bot, user.id)
    paying = asyncio.create_task(user.pay())
    update = await next_update(bot)
    assert update.pre_checkout_query is not None
    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
    outcome = await paying
    assert outcome.update is not None
    again = server.deliver_again(outcome.update)
    assert again.update_id != outcome.update.update_id
    first = await next_update(bot, offset=update.update_id + 1)
    second = await next_update(bot, offset=first.update_id + 1)
    assert first.message is not None and second.message is not None
    assert first.message.successful_payment == second.message.successful_payment

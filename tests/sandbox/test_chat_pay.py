"""The chat page pays an invoice in Stars as the persona's Telegram client would: the bot is
asked first (pre-checkout), then the payment is made and the invoice shows paid."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.types import LabeledPrice

from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.personas import PERSONAS, RESELLER_SILVER
from tests.sandbox.chat_helpers import serving

MAYA = RESELLER_SILVER.telegram_id
PAY = f"/api/personas/{RESELLER_SILVER.key}/pay"
STATE = f"/api/personas/{RESELLER_SILVER.key}/state"


@pytest.fixture
async def page(server: FakeTelegramServer, platform: Platform) -> AsyncIterator[Any]:
    async with serving(server, platform, PERSONAS) as url, aiohttp.ClientSession(url) as http:
        yield http


async def invoice(bot: Bot) -> int:
    sent = await bot.send_invoice(
        chat_id=MAYA,
        title="Balance top-up",
        description="Adds ¥10.00 for 50 ⭐",
        payload="payment-1",
        currency="XTR",
        prices=[LabeledPrice(label="Top-up", amount=50)],
    )
    return sent.message_id


async def answer_next_pre_checkout(bot: Bot, *, ok: bool) -> None:
    for _ in range(50):
        for update in await bot.get_updates(timeout=1):
            if update.pre_checkout_query is not None:
                await bot.answer_pre_checkout_query(
                    update.pre_checkout_query.id,
                    ok=ok,
                    error_message=None if ok else "This top-up has expired.",
                )
                return
    raise AssertionError("no pre-checkout query came")


async def test_the_pay_button_pays_the_invoice_once(
    page: aiohttp.ClientSession, server: FakeTelegramServer, bot: Bot
) -> None:
    message_id = await invoice(bot)
    shown = [m for m in (await (await page.get(STATE)).json())["messages"] if m["invoice"]]
    assert shown[0]["invoice"]["total_amount"] == 50 and not shown[0]["invoice"]["paid"]
    assert shown[0]["buttons"] == [[{"text": "Pay ⭐50", "kind": "pay"}]]

    paying = asyncio.create_task(page.post(PAY, json={"message_id": message_id}))
    await answer_next_pre_checkout(bot, ok=True)
    answer = await paying
    assert answer.status == 201 and (await answer.json())["status"] == "paid"
    assert len(server.payments.payments) == 1
    state = await (await page.get(STATE)).json()
    paid = [m for m in state["messages"] if m["invoice"]]
    assert paid[0]["invoice"]["paid"]
    assert any(m["html"] == "✅ ⭐50" for m in state["messages"])

    again = await page.post(PAY, json={"message_id": message_id})
    assert again.status == 409 and (await again.json())["error"]["code"] == "invoice_paid"
    not_an_invoice = await page.post(PAY, json={"message_id": 999})
    assert (await not_an_invoice.json())["error"]["code"] == "message_gone"


async def test_a_declined_payment_is_told_and_nothing_is_paid(
    page: aiohttp.ClientSession, server: FakeTelegramServer, bot: Bot
) -> None:
    message_id = await invoice(bot)
    paying = asyncio.create_task(page.post(PAY, json={"message_id": message_id}))
    await answer_next_pre_checkout(bot, ok=False)
    answer = await (await paying).json()
    assert answer == {"status": "declined", "error_message": "This top-up has expired."}
    assert server.payments.payments == {}

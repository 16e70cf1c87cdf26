"""Many users pressing whatever they see: buttons on new and old messages, double taps,
garbage text and commands, other users' buttons replayed. Ordinary behaviour, all of it:
Telegram must never have to reject a request of the bot's, every press is answered, nothing
is logged as an error, no code reaches two users and the books balance."""

from __future__ import annotations

import asyncio
import logging
import random
import time

import pytest

from core.checks import check_ledger
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.state import ChatMessage
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.factories import SUPPLIER_TID, make_reseller, make_sku

SEED = 20261204
RESELLERS = range(3001, 3013)
STEPS = 400
GARBAGE = (
    "hello",
    "asdf;lkj",
    "0",
    "-5",
    "999999999",
    "3",
    "🙂🙂🙂",
    "<b>not html</b>",
    "/",
    "/nonsense",
    "/start",
    "/start NOT-AN-INVITE",
    "/help",
    "/cancel",
    "/catalogue",
    "/orders",
    "/balance",
    "/buy",
    "/buy STEAM-100",
    "/buy STEAM-100 x",
    "/buy STEAM-100 2",
    "/buy GOOGLE-50 1",
    "/buy NOPE 1",
    "/redeem NOT-A-VOUCHER",
    "/language",
    "/notifications",
    "/apikey",
    "/myproducts",
    "/earnings",
    "/admin",
    "/promos",
)


def callback_buttons(message: ChatMessage) -> list[str]:
    return [
        button["text"]
        for row in message.inline_keyboard
        for button in row
        if "callback_data" in button
    ]


def codes_seen(user: FakeUser) -> set[str]:
    seen: set[str] = set()
    for message in user.messages:
        seen.update(message.codes)
        if message.document is not None:
            seen.update(message.document.content.decode(errors="replace").split())
    return seen


async def settle(server: FakeTelegramServer, users: list[FakeUser]) -> None:
    """Until the bot has taken every update, answered every press and gone quiet."""
    deadline = time.monotonic() + 20
    quiet_since, marks = time.monotonic(), [u.mark() for u in users]
    while time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        now = [u.mark() for u in users]
        busy = server.state.updates or server.unanswered_callback_queries() or now != marks
        if busy:
            quiet_since, marks = time.monotonic(), now
        elif time.monotonic() - quiet_since > 0.4:
            return


async def act(rng: random.Random, user: FakeUser, everyone: list[FakeUser]) -> None:
    """One thing a user might do."""
    pressable = [m for m in user.messages if callback_buttons(m)]
    roll = rng.random()
    if pressable and roll < 0.5:  # a button, on the newest message or an old one
        message = pressable[-1] if rng.random() < 0.6 else rng.choice(pressable)
        label = rng.choice(callback_buttons(message))
        await user.press(label, message=message)
        if rng.random() < 0.25:  # a double tap
            await user.press_data(message.callback_data(label) or "", message=message)
    elif roll < 0.65 and await user.reply_keyboard_labels():
        await user.press_reply(rng.choice(await user.reply_keyboard_labels()))
    elif roll < 0.85 or not user.messages:
        await user.send_text(rng.choice(GARBAGE))
    else:  # another user's button, replayed on one of this user's messages
        other = rng.choice(everyone)
        foreign = [
            message.callback_data(label) or ""
            for message in other.messages
            for label in callback_buttons(message)
        ]
        if foreign:
            await user.press_data(rng.choice(foreign), message=rng.choice(user.messages))


async def test_random_users_never_make_the_bot_send_what_telegram_rejects(
    server: FakeTelegramServer, shop: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    steam = await make_sku(shop, stock=150, price=10_00, supply_price=9_00, face_value=11_00)
    google = await make_sku(
        shop,
        "GOOGLE-50",
        stock=150,
        price=5_00,
        supply_price=4_00,
        face_value=6_00,
        category="Google",
    )
    for telegram_id in RESELLERS:
        await make_reseller(shop, telegram_id, balance=300_00)
    await shop.catalogue.set_language(SUPPLIER_TID, "en")
    resellers = [server.user(telegram_id) for telegram_id in RESELLERS]
    # the supplier and the admin have used the bot before (their menus are set at start-up)
    users = [*resellers, server.user(SUPPLIER_TID, started=True), server.user(ADMIN_ID)]
    for user in users:
        await user.send_text("/start")
    await settle(server, users)

    rng = random.Random(SEED)
    for step in range(STEPS):
        await act(rng, rng.choice(users), users)
        if step % 8 == 7:  # a burst of presses, then the bot catches up
            await settle(server, users)
    await settle(server, users)

    rejected = [
        f"{error.method}: {error.description}" for error in server.errors if not error.injected
    ]
    assert rejected == []
    assert server.unanswered_callback_queries() == []
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert [f"{r.name}: {r.getMessage()}" for r in errors] == []
    holders = {code: [u.id for u in users if code in codes_seen(u)] for code in steam + google}
    assert all(len(ids) <= 1 for ids in holders.values()), holders
    assert sum(len(ids) for ids in holders.values()) > 0  # the users did buy
    assert (await check_ledger(shop.db)).ok

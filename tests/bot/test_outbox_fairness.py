"""One chat's backlog in the outbox never holds up another chat: a round sends each chat's
rows in order and the chats side by side, within the one Sender's budget. Acted out with
the real aiogram Bot on the fake Telegram server, read from the order its log received
the messages in (never from wall-clock times)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import select

from bot.app import create_bot
from bot.i18n import make_i18n
from bot.outbox_sender import OutboxSender
from bot.sender import Priority, Rates, Sender
from core.approvals import REQUEST_NOTICE
from core.models import Role, User
from core.outbox import enqueue
from core.payments import CREDITED_NOTICE
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID, TOKEN
from tests.bot.helpers import eventually, outbox_rows, outbox_settled
from tests.conftest import FakeClock
from tests.factories import SUPPLIER_TID, make_reseller, make_sku

ANN, BUYER, CAROL, DAN = 3001, 1999, 7001, 7002
BACKLOG = 6
#: the production budget, but four messages a second into a private chat: a backlog of
#: six still takes a round far longer than one message, and the test a second or two
RATES = Rates(private_chat_per_second=4.0)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"registration": "approval", "admin_ids": str(ADMIN_ID)})


@pytest.fixture
async def bot(server: FakeTelegramServer, settings: Settings) -> AsyncIterator[Bot]:
    bot = create_bot(
        settings.model_copy(update={"bot_token": TOKEN, "telegram_api_base": server.base_url})
    )
    yield bot
    await bot.session.close()


class RecordingSender(Sender):
    """The real Sender, remembering what each send was asked: (chat, priority)."""

    def __init__(self, bot: Bot, rates: Rates) -> None:
        super().__init__(bot, rates)
        self.asked: list[tuple[int, Priority]] = []

    async def send(self, chat_id: int, call: Any, *, priority: Priority, **more: Any) -> Any:
        self.asked.append((chat_id, priority))
        return await super().send(chat_id, call, priority=priority, **more)


async def _drain(
    platform: Platform, bot: Bot, rates: Rates = RATES, sender: Sender | None = None
) -> None:
    """Run the outbox sender until every row has an outcome. A burst of sale notices is
    not folded into one summary here (``fold_over``): these tests watch each row's turn."""
    outbox = OutboxSender(
        platform, sender or Sender(bot, rates), make_i18n(), poll_seconds=0.01, fold_over=BACKLOG
    )
    outbox.start()
    try:
        await outbox_settled(platform)
    finally:
        await outbox.stop()


async def _credited(platform: Platform, telegram_id: int, amounts: list[int]) -> None:
    """Top-up notices promised to one user, in this order (their amounts tell them apart)."""
    async with platform.db.transaction() as session:
        user_id = await session.scalar(select(User.id).where(User.telegram_id == telegram_id))
        assert user_id is not None
        for amount in amounts:
            await enqueue(
                session,
                kind=CREDITED_NOTICE,
                user_id=user_id,
                payload={"amount": amount, "balance": 0},
                now=platform.clock.now(),
            )


async def _users(platform: Platform, server: FakeTelegramServer, *telegram_ids: int) -> None:
    for telegram_id in telegram_ids:
        await platform.catalogue.ensure_user(telegram_id)
        await platform.catalogue.set_language(telegram_id, "en")
        server.user(telegram_id, started=True)


def _chats(server: FakeTelegramServer) -> list[int]:
    """The chat of every message sent, in the order the server received them."""
    return [int(call.chat_id) for call in server.sending_calls()]


async def test_an_admins_card_goes_before_a_suppliers_backlog_of_sale_notices_finishes(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    await make_sku(platform, stock=BACKLOG)
    await _users(platform, server, SUPPLIER_TID, ADMIN_ID, ANN)
    await make_reseller(platform, BUYER, balance=92_00 * BACKLOG)
    for n in range(BACKLOG):  # the backlog is older than the card: first in the outbox
        await platform.shop.buy_now(BUYER, "STEAM-100", 1, idempotency_key=f"s{n}")
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor="test")
    await platform.registration.apply(ANN)  # a card for the admin, with its buttons
    assert [r.kind for r in await outbox_rows(platform)][-1] == REQUEST_NOTICE

    await _drain(platform, bot)

    chats = _chats(server)
    assert chats.count(SUPPLIER_TID) == BACKLOG and chats.count(ADMIN_ID) == 1
    supplier_sends = [n for n, chat in enumerate(chats) if chat == SUPPLIER_TID]
    # the card did not wait for the backlog: it went before the supplier's second notice
    assert chats.index(ADMIN_ID) < supplier_sends[1]
    card = server.user(ADMIN_ID).messages[-1]
    assert "wants to join" in card.content and card.buttons == ["✅ Approve", "❌ Reject"]
    assert all("Sold" in m.content for m in server.user(SUPPLIER_TID).messages)


async def test_each_chat_reads_its_notices_in_the_order_they_were_promised(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    await _users(platform, server, CAROL, DAN)
    for round_ in range(3):  # the two chats' rows interleaved in the outbox
        await _credited(platform, CAROL, [100 * (2 * round_ + 1), 100 * (2 * round_ + 2)])
        await _credited(platform, DAN, [10_000 + 100 * round_])

    await _drain(platform, bot)

    carol = [m.content for m in server.user(CAROL).messages]
    dan = [m.content for m in server.user(DAN).messages]
    assert [text.split("+")[1].split(".")[0] for text in carol] == [
        "¥1",
        "¥2",
        "¥3",
        "¥4",
        "¥5",
        "¥6",
    ]
    assert [text.split("+")[1].split(".")[0] for text in dan] == ["¥100", "¥101", "¥102"]
    assert [r.outcome for r in await outbox_rows(platform)] == ["sent"] * 9


async def test_a_429_in_one_chat_pauses_the_round_and_every_row_still_goes_once(
    server: FakeTelegramServer, platform: Platform, bot: Bot, clock: FakeClock
) -> None:
    """Telegram's 429 does not say whether the chat's limit or the bot's was hit, so the
    Sender pauses everything for ``retry_after`` (bot/sender.py) and the round hands its
    rows back: the other chat's rows are sent after the pause, none lost, none twice. The
    next round comes after the pause, when the limited row is due again: first in its chat."""
    await _users(platform, server, CAROL, DAN)
    await _credited(platform, CAROL, [100, 200, 300])
    await _credited(platform, DAN, [10_000, 20_000])
    server.fail("sendMessage", times=1, error_code=429, retry_after=1, chat_id=CAROL)
    outbox = OutboxSender(platform, Sender(bot, RATES), make_i18n(), poll_seconds=0.01)
    outbox.start()
    try:

        async def limited() -> bool:  # the 429 seen and the row's retry written
            return any(r.attempts for r in await outbox_rows(platform))

        await eventually(limited, "Telegram's 429")
        clock.advance(seconds=2)  # the limited row's retry_after, on the database's clock
        await outbox_settled(platform)
    finally:
        await outbox.stop()

    assert len(server.errors) == 1
    carol = [m.content for m in server.user(CAROL).messages]
    dan = [m.content for m in server.user(DAN).messages]
    assert [_amount(text) for text in carol] == ["¥1", "¥2", "¥3"]
    assert [_amount(text) for text in dan] == ["¥100", "¥200"]
    rows = await outbox_rows(platform)
    assert [r.outcome for r in rows] == ["sent"] * 5
    assert [r.attempts for r in rows] == [2, 1, 1, 1, 1]  # only the limited row failed once


def _amount(text: str) -> str:
    """The whole units of a top-up notice's amount: ``+¥2.00`` -> ``¥2``."""
    return text.split("+")[1].split(".")[0]


async def test_a_replacement_code_goes_out_as_urgently_as_a_purchases_codes(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    """A bad code replaced: the buyer's notice with the new code is sent at CODES priority
    (like an order's codes), while a top-up notice and the supplier's notice stay NOTICE."""
    await make_sku(platform, stock=3)
    await _users(platform, server, SUPPLIER_TID, ADMIN_ID, BUYER)
    await make_reseller(platform, BUYER, balance=500_00)
    await platform.catalogue.set_language(BUYER, "en")
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor="test")
    receipt = await platform.shop.buy_now(BUYER, "STEAM-100", 1, idempotency_key="bad")
    assert platform.aftersales is not None
    await platform.aftersales.report(BUYER, receipt.order_id, 1, reason="says invalid")
    await _drain(platform, bot)  # the sale, the report's card and notice: out of the way
    await _credited(platform, BUYER, [100])  # a plain notice, queued before the decision
    await platform.aftersales.replace(ADMIN_ID, 1)

    sender = RecordingSender(bot, RATES)
    await _drain(platform, bot, sender=sender)

    assert sorted(sender.asked) == sorted(
        [(BUYER, Priority.NOTICE), (BUYER, Priority.CODES), (SUPPLIER_TID, Priority.NOTICE)]
    )
    assert "Your new code:" in server.user(BUYER).messages[-1].content

"""The one sender: its budget (bot-wide, per chat, paused by a 429), its priorities, its
policy for Telegram's answers, and the three sources at once — a broadcast, a promotion
announcement and a burst of sale notices — staying within Telegram's limits with every
message delivered exactly once, read from the fake server's request log."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import cast

import pytest
from aiogram import Bot

from bot.app import create_bot
from bot.i18n import make_i18n
from bot.outbox_sender import OutboxSender
from bot.sender import SAFETY, Budget, Outcome, Priority, Rates, Sender
from core.broadcasts import Audience, CampaignMessage
from core.models import JobStatus
from core.platform import Platform
from core.promotions import ANNOUNCE
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.limits import CHAT_NOT_FOUND
from tests.bot.conftest import ADMIN_ID, TOKEN
from tests.bot.helpers import eventually, outbox_rows, outbox_settled
from tests.bot.scheduler_helpers import schedule_percent_off
from tests.conftest import FakeClock
from tests.factories import SUPPLIER_TID, make_reseller, make_sku

GROUP = -100_123
RESELLERS = list(range(2000, 2040))
SUPPLIERS = list(range(900, 905))
SALES_EACH = 2
BUYER = 1999


class Ticks:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def send_when_allowed(budget: Budget, clock: Ticks, chats: list[int]) -> list[float]:
    """Each chat in turn, as soon as the budget allows; the start times."""
    starts = []
    for chat in chats:
        clock.now = max(clock.now, budget.ready_at(chat))
        budget.take(chat)
        starts.append(clock.now)
    return starts


def most_in_any_window(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(
        (sum(1 for t in times[i:] if t < start + seconds) for i, start in enumerate(times)),
        default=0,
    )


# the budget, on a clock moved by hand -------------------------------------------------


def test_the_bot_wide_budget_is_30_in_any_second_and_close_to_it_over_time() -> None:
    clock = Ticks()
    budget = Budget(Rates(), clock)
    starts = send_when_allowed(budget, clock, list(range(1, 301)))  # 300 different users
    assert most_in_any_window(starts, 1.0) <= 30
    assert most_in_any_window(starts, 1.0 * SAFETY) <= 30
    per_second = (len(starts) - 1) / (starts[-1] - starts[0])
    assert per_second >= 30 / SAFETY - 0.5  # the margin costs a tenth, no more


@pytest.mark.parametrize(
    ("chat", "sends", "window", "most"),
    [
        (7001, 5, 1.0, 1),  # a private chat: one a second
        (GROUP, 45, 60.0, 20),  # a group: twenty a minute
    ],
)
def test_each_chat_has_its_own_pace(chat: int, sends: int, window: float, most: int) -> None:
    clock = Ticks()
    budget = Budget(Rates(), clock)
    starts = send_when_allowed(budget, clock, [chat] * sends)
    assert most_in_any_window(starts, window) == most
    other = budget.ready_at(chat + 1)
    assert other <= clock.now + 1 / 30  # another chat is not held by this one


def test_a_429_pauses_every_chat() -> None:
    clock = Ticks()
    budget = Budget(Rates(), clock)
    send_when_allowed(budget, clock, [7001])
    budget.pause(5)
    assert budget.ready_at(7002) == clock.now + 5
    assert budget.ready_at(GROUP) == clock.now + 5


# priorities ---------------------------------------------------------------------------


async def test_a_sale_notice_goes_before_a_broadcast_already_waiting() -> None:
    order: list[int] = []

    def to(chat: int):  # type: ignore[no-untyped-def]
        async def call() -> int:
            order.append(chat)
            return chat

        return call

    sender = Sender(cast(Bot, None), Rates(per_second=50))
    broadcast = [
        asyncio.create_task(sender.send(chat, to(chat), priority=Priority.BROADCAST))
        for chat in range(1, 11)
    ]
    await asyncio.sleep(0)  # every broadcast message is waiting for its turn now
    notice = await sender.send(99, to(99), priority=Priority.CODES)
    deliveries = await asyncio.gather(*broadcast)
    assert notice.sent and all(d.sent for d in deliveries)
    assert order.index(99) <= 2  # after the ones already sent, before every waiting one
    assert sorted(order) == [*range(1, 11), 99]


# Telegram's answers, from the fake server ---------------------------------------------


@pytest.fixture
async def bot(server: FakeTelegramServer, settings: Settings) -> AsyncIterator[Bot]:
    bot = create_bot(
        settings.model_copy(update={"bot_token": TOKEN, "telegram_api_base": server.base_url})
    )
    yield bot
    await bot.session.close()


def text_sent(server: FakeTelegramServer, chat: int) -> int:
    return len(server.user(chat).messages)


async def test_a_user_who_blocked_the_bot_is_marked_blocked_and_not_retried(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.user(7001, started=True)
    server.block_user(7001, notify_bot=False)
    delivery = await Sender(bot, Rates()).send_message(7001, "hi", priority=Priority.NOTICE)
    assert (delivery.outcome, delivery.calls) == (Outcome.BLOCKED, 1)
    assert "blocked" in delivery.reason


@pytest.mark.parametrize(
    ("description", "outcome"),
    [(CHAT_NOT_FOUND, Outcome.CHAT_NOT_FOUND), (None, Outcome.REFUSED)],
)
async def test_a_400_is_never_retried(
    server: FakeTelegramServer, bot: Bot, description: str | None, outcome: Outcome
) -> None:
    server.user(7001, started=True)
    server.fail("sendMessage", times=5, error_code=400, description=description)
    delivery = await Sender(bot, Rates()).send_message(7001, "hi", priority=Priority.NOTICE)
    assert (delivery.outcome, delivery.calls) == (outcome, 1)
    assert text_sent(server, 7001) == 0


async def test_server_errors_are_retried_with_backoff_then_failed(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.user(7001, started=True)
    fast = Rates(private_chat_per_second=100)  # retries to one chat, not its pace, here
    sender = Sender(bot, fast, backoff_seconds=0.01)
    server.fail("sendMessage", times=2, error_code=502)
    delivery = await sender.send_message(7001, "first", priority=Priority.NOTICE)
    assert (delivery.outcome, delivery.calls) == (Outcome.SENT, 3)
    with server.failing("sendMessage", 500):
        delivery = await sender.send_message(7001, "second", priority=Priority.NOTICE)
    assert (delivery.outcome, delivery.calls) == (Outcome.FAILED, 3)
    assert [m.content for m in server.user(7001).messages] == ["first"]


async def test_a_caller_that_retries_from_the_database_gets_the_failure_back_at_once(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.user(7001, started=True)
    sender = Sender(bot, Rates())
    server.fail("sendMessage", times=1, error_code=502)
    delivery = await sender.send_message(7001, "hi", priority=Priority.CODES, retry=False)
    assert (delivery.outcome, delivery.calls, delivery.retry_after) == (
        Outcome.RETRY_LATER,
        1,
        None,
    )
    server.fail("sendMessage", times=1, error_code=429, retry_after=1)
    delivery = await sender.send_message(7001, "hi", priority=Priority.CODES, retry=False)
    assert (delivery.outcome, delivery.retry_after) == (Outcome.RETRY_LATER, 1)
    assert text_sent(server, 7001) == 0


async def test_a_429_holds_every_chat_for_its_retry_after_then_the_message_goes_once(
    server: FakeTelegramServer, bot: Bot
) -> None:
    server.user(7001, started=True)
    server.user(7002, started=True)
    sender = Sender(bot, Rates())
    server.fail("sendMessage", times=1, error_code=429, retry_after=1, chat_id=7001)
    first = asyncio.create_task(sender.send_message(7001, "one", priority=Priority.CODES))

    async def flooded() -> bool:
        return bool(server.errors)

    await eventually(flooded, "Telegram's 429")
    other = await sender.send_message(7002, "two", priority=Priority.CODES)  # while paused
    limited = await first
    assert (limited.outcome, limited.calls, limited.retry_afters) == (Outcome.SENT, 2, 1)
    assert other.sent
    flood, *after = server.sending_calls()
    assert flood.chat_id == 7001 and sorted(call.chat_id for call in after) == [7001, 7002]
    assert all(call.at - flood.at >= 1.0 for call in after)
    assert text_sent(server, 7001) == 1 and text_sent(server, 7002) == 1


async def test_a_stopping_outbox_hands_back_a_notice_that_waits_out_a_429(
    server: FakeTelegramServer, platform: Platform, bot: Bot
) -> None:
    await make_sku(platform, stock=2)
    await platform.catalogue.set_language(SUPPLIER_TID, "en")
    supplier = server.user(SUPPLIER_TID, started=True)
    await make_reseller(platform, BUYER, balance=500_00)
    await platform.shop.buy_now(BUYER, "STEAM-100", 1, idempotency_key="wait")
    paused = Sender(bot, Rates())
    paused.budget.pause(60)  # Telegram said: retry after 60 s
    first = OutboxSender(platform, paused, make_i18n(), poll_seconds=0.01)
    first.start()

    async def waiting() -> bool:
        return paused.waiting == 1

    await eventually(waiting, "the notice to wait for its turn")
    await first.stop()  # SIGTERM: the notice is handed back, not kept under a lease
    second = OutboxSender(platform, Sender(bot, Rates()), make_i18n(), poll_seconds=0.01)
    second.start()
    try:
        await supplier.wait_for_message(lambda m: "Sold" in m.content)
        await outbox_settled(platform)
    finally:
        await second.stop()
    (row,) = await outbox_rows(platform, "sale")
    assert (row.outcome, row.attempts) == ("sent", 1)


# the three sources at once, on the production budget ---------------------------------


@pytest.fixture
def settings(quick_scheduler_settings: Settings) -> Settings:
    """The production budget (30/s, 1/s per chat); jobs follow the fake clock quickly."""
    return quick_scheduler_settings


async def test_a_broadcast_an_announcement_and_sale_notices_at_once_stay_within_the_budget(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=1)  # the promotion's SKU
    for n, supplier in enumerate(SUPPLIERS):
        await make_sku(shop, f"CARD-{n}", stock=SALES_EACH, supplier=supplier)
        await shop.catalogue.set_language(supplier, "en")
        server.user(supplier, started=True)
    for reseller in RESELLERS:
        await make_reseller(shop, reseller)
        server.user(reseller, started=True)
    await make_reseller(shop, BUYER, balance=100_000_00)
    server.user(BUYER, started=True)
    await shop.catalogue.set_level(BUYER, "gold", actor="test")  # out of the broadcast
    await schedule_percent_off(
        shop, clock, "Flash sale", timedelta(seconds=5), timedelta(hours=2), 1000
    )
    (bronze,) = [level.id for level in await shop.broadcasts.levels() if level.name == "bronze"]
    draft = await shop.broadcasts.draft(
        ADMIN_ID, CampaignMessage("text", "<b>Big sale</b> today"), Audience("level", ref=bronze)
    )
    calls_before = len(server.sending_calls())

    # all at once: the broadcast starts, the promotion begins, sales come in
    await shop.broadcasts.start(draft.id, ADMIN_ID)
    clock.advance(seconds=5)
    for n, _ in enumerate(SUPPLIERS):
        for k in range(SALES_EACH):
            await shop.shop.buy_now(BUYER, f"CARD-{n}", 1, idempotency_key=f"burst-{n}-{k}")

    async def broadcast_done() -> bool:
        return (await shop.broadcasts.counts(draft.id)).pending == 0

    async def announced() -> bool:
        jobs = [job for job in await shop.jobs.jobs() if job.kind == ANNOUNCE]
        return bool(jobs) and jobs[0].status is JobStatus.DONE

    await eventually(broadcast_done, "the broadcast to finish", timeout=60)
    await eventually(announced, "the announcement to finish", timeout=60)
    await outbox_settled(shop)

    def got(user: int, marker: str) -> int:
        return sum(1 for m in server.user(user).messages if marker in m.content)

    # nothing lost, nothing twice
    assert {r: (got(r, "Big sale"), got(r, "Flash sale")) for r in RESELLERS} == {
        r: (1, 1) for r in RESELLERS
    }
    assert {s: got(s, "Sold") for s in SUPPLIERS} == {s: SALES_EACH for s in SUPPLIERS}
    counts = await shop.broadcasts.counts(draft.id)
    copies = sum(got(user, "Big sale") for user in [*RESELLERS, ADMIN_ID, BUYER, *SUPPLIERS])
    assert (counts.sent, counts.failed, counts.blocked) == (copies, 0, 0)

    # within the budget, as Telegram saw it
    calls = server.sending_calls()[calls_before:]
    assert len(calls) >= 2 * len(RESELLERS) + len(SUPPLIERS) * SALES_EACH
    assert most_in_any_window([c.at for c in calls], 1.0) <= 30
    by_chat: dict[int, list[float]] = defaultdict(list)
    for call in calls:
        by_chat[int(call.chat_id)].append(call.at)
    assert max(most_in_any_window(times, 1.0) for times in by_chat.values()) == 1
    assert not [e for e in server.errors if e.error_code == 429]

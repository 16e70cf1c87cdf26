"""Admin broadcasts acted out on the fake Telegram server: compose, preview, send paced with
429s and blocked users, stop and resume in a new process, opt-outs and a forged Send.

The worker runs at 1000 messages/s against a fake limit of 1200/s (production: 25 against
Telegram's ~30): the same logic, scaled so the tests stay fast."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable

import pytest
from sqlalchemy import func, insert, select

from bot.app import create_bot, run_polling
from bot.broadcast_worker import BroadcastWorker
from bot.i18n import make_i18n
from bot.sender import Sender
from core.broadcasts import Audience, CampaignMessage
from core.models import (
    BroadcastCampaign,
    BroadcastRecipient,
    CampaignStatus,
    Level,
    RecipientStatus,
    Role,
    User,
    UserStatus,
)
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_telegram import ChatMessage, FakeTelegramServer, FakeUser
from tests.bot.conftest import ADMIN_ID, TOKEN
from tests.bot.helpers import outbox_settled
from tests.conftest import TEST_SECRET

RATE = 1000.0
FAKE_LIMIT = 1200
SALE_HTML = '<b>Big sale</b> on <i>Steam</i> cards, see <a href="https://example.com/x">this</a>'


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        telegram_sends_per_second=RATE,
        broadcast_progress_seconds=0.3,
        _env_file=None,
    )


async def add_resellers(platform: Platform, telegram_ids: Iterable[int]) -> None:
    """Many resellers at once (one INSERT), as if they had all pressed /start."""
    async with platform.db.transaction() as session:
        level = await session.scalar(select(Level.id).order_by(Level.rank).limit(1))
        rows = [
            {
                "telegram_id": telegram_id,
                "username": None,
                "display_name": "",
                "is_reseller": True,
                "is_supplier": False,
                "is_admin": False,
                "level_id": level,
                "language": "en",
                "status": UserStatus.ACTIVE,
                "credit_limit": 0,
                "created_at": platform.clock.now(),
                "started_at": platform.clock.now(),
            }
            for telegram_id in telegram_ids
        ]
        await session.execute(insert(User), rows)


@contextlib.asynccontextmanager
async def serving(
    server: FakeTelegramServer, platform: Platform, settings: Settings
) -> AsyncIterator[Platform]:
    """One bot process (dispatcher + broadcast worker) until the block ends; leaving the
    block stops it the way SIGTERM does (polling cancelled, worker stopped gracefully)."""
    bot_settings = settings.model_copy(
        update={"bot_token": TOKEN, "telegram_api_base": server.base_url}
    )
    live = build_platform(bot_settings, clock=platform.clock, db=platform.db)
    polls = len(server.calls("getUpdates"))
    task = asyncio.create_task(run_polling(live, create_bot(bot_settings), handle_signals=False))
    while len(server.calls("getUpdates")) <= polls:
        await server.state.changed.wait(0.01)
    try:
        yield live
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def make_admin(platform: Platform) -> None:
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor="test")
    await platform.catalogue.set_language(ADMIN_ID, "en")


async def compose(
    admin: FakeUser, html: str, *, button: str | None = None, audience: str = "All resellers"
) -> ChatMessage:
    """/broadcast → message → button (or Skip) → audience; returns the preview's summary."""
    await admin.send_text("/broadcast")
    await admin.wait_for_message(lambda m: "New broadcast" in m.content)
    await admin.send_html(html)
    await admin.wait_for_message(lambda m: "link button" in m.content)
    if button is None:
        await admin.press("Skip")
    else:
        await admin.send_text(button)
    await admin.wait_for_message(lambda m: "Who should get it?" in m.content)
    await admin.press(audience)
    return await admin.wait_for_message(lambda m: "Recipients:" in m.content)


def copies(user: FakeUser, marker: str = "Big sale") -> list[ChatMessage]:
    return [m for m in user.messages if marker in m.content]


async def recipient_states(platform: Platform) -> dict[RecipientStatus, int]:
    async with platform.db.reading() as session:
        rows = await session.execute(
            select(BroadcastRecipient.status, func.count()).group_by(BroadcastRecipient.status)
        )
        return {RecipientStatus(s): int(n) for s, n in rows}


async def wait_until(server: FakeTelegramServer, condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(60):
        while not condition():
            await server.state.changed.wait(1.0)


def report_of(admin: FakeUser) -> Callable[[ChatMessage], bool]:
    return lambda m: ("finished" in m.content or "stopped" in m.content) and not m.buttons


async def test_three_thousand_recipients_with_blocked_users_and_429s_each_get_one_copy(
    server: FakeTelegramServer, shop: Platform
) -> None:
    readers = range(10_000, 13_000)
    await add_resellers(shop, readers)
    users = {telegram_id: server.user(telegram_id, started=True) for telegram_id in readers}
    blocked = set(readers[::30])
    for telegram_id in blocked:
        server.block_user(telegram_id, notify_bot=False)
    admin = server.user(ADMIN_ID, started=True)

    summary = await compose(admin, SALE_HTML, button="Shop now | https://example.com/sale")
    assert "Audience: all resellers" in summary.content
    assert "Recipients: 3001" in summary.content  # the admin is a reseller too
    server.flood_limit_per_second = FAKE_LIMIT
    await admin.press("📣 Send", message=summary)
    await admin.wait_for_message(lambda m: "is being sent" in m.content)
    server.random_429_rate = 0.002
    server.fail("sendMessage", times=2, error_code=429, retry_after=1)

    report = await admin.wait_for_message(report_of(admin), timeout=120)
    assert "finished" in report.content
    assert "Sent: 2901" in report.content
    assert "Blocked the bot: 100" in report.content
    assert "Failed: 0" in report.content
    assert any(e.error_code == 429 for e in server.errors)  # the 429s really happened

    for telegram_id, user in users.items():
        got = copies(user)
        assert len(got) == (0 if telegram_id in blocked else 1), telegram_id
    sample = copies(users[10_001])[0]
    assert sample.html == SALE_HTML  # the admin's formatting, as they wrote it
    assert sample.find_button("Shop now") == {"text": "Shop now", "url": "https://example.com/sale"}
    assert await recipient_states(shop) == {
        RecipientStatus.SENT: 2901,
        RecipientStatus.BLOCKED: 100,
    }


async def test_a_stopped_worker_resumes_in_a_new_process_without_duplicates_or_skips(
    server: FakeTelegramServer, platform: Platform, settings: Settings
) -> None:
    readers = range(20_000, 22_000)
    await add_resellers(platform, readers)
    users = [server.user(telegram_id, started=True) for telegram_id in readers]
    for telegram_id in readers[::50]:
        server.block_user(telegram_id, notify_bot=False)
    await make_admin(platform)
    admin = server.user(ADMIN_ID, started=True)
    server.flood_limit_per_second = FAKE_LIMIT

    def delivered() -> int:
        return sum(1 for user in users if copies(user))

    async with serving(server, platform, settings):
        summary = await compose(admin, SALE_HTML)
        await admin.press("📣 Send", message=summary)
        await wait_until(server, lambda: delivered() >= 300)
    # the first process is gone: in-flight sends were finished and recorded, the rest queued
    states = await recipient_states(platform)
    assert RecipientStatus.SENDING not in states
    assert 300 <= states[RecipientStatus.SENT] < 1960
    assert states[RecipientStatus.PENDING] > 0
    admin_copies = len(copies(admin)) - 1  # the first one is the preview
    assert states[RecipientStatus.SENT] == delivered() + admin_copies

    async with serving(server, platform, settings):
        report = await admin.wait_for_message(report_of(admin), timeout=120)
    assert "Sent: 1961" in report.content and "Blocked the bot: 40" in report.content
    assert all(len(copies(user)) == (0 if user.is_blocked else 1) for user in users)
    assert len(copies(admin)) == 2  # the preview and the broadcast


async def test_opted_out_resellers_get_nothing(server: FakeTelegramServer, shop: Platform) -> None:
    await add_resellers(shop, [301, 302])
    ann, bob = server.user(301, started=True), server.user(302, started=True)
    admin = server.user(ADMIN_ID, started=True)

    await ann.send_text("/notifications")
    await ann.wait_for_message(lambda m: "Promotional broadcasts: on" in m.content)
    await ann.press("🔕 Turn off")
    await ann.wait_for_message(lambda m: "Promotional broadcasts: off" in m.content)
    assert await shop.broadcasts.opted_out(301)

    summary = await compose(admin, SALE_HTML)
    assert "Recipients: 2" in summary.content  # Bob and the admin
    await admin.press("📣 Send", message=summary)
    report = await admin.wait_for_message(report_of(admin))
    assert "Sent: 2" in report.content
    assert len(copies(bob)) == 1
    assert copies(ann) == []
    await server.wait_callbacks_answered()


async def test_the_admin_gets_exactly_one_report(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await add_resellers(shop, [401, 402, 403])
    readers = [server.user(telegram_id, started=True) for telegram_id in (401, 402, 403)]
    admin = server.user(ADMIN_ID, started=True)
    summary = await compose(admin, SALE_HTML)
    await admin.press("📣 Send", message=summary)
    report = await admin.wait_for_message(report_of(admin))
    await outbox_settled(shop)
    await asyncio.sleep(0.5)  # a second report would come right after the first

    reports = [m for m in admin.messages if "finished" in m.content]
    assert [m.message_id for m in reports] == [report.message_id]
    assert "Sent: 4" in report.content  # three resellers and the admin
    assert all(len(copies(reader)) == 1 for reader in readers)
    assert not any("Remaining:" in m.content for m in admin.messages)  # progress became it


async def test_preview_shows_the_exact_message_and_cancel_sends_nothing(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await add_resellers(shop, [401])
    reader = server.user(401, started=True)
    admin = server.user(ADMIN_ID, started=True)

    await admin.send_text("/broadcast")
    await admin.wait_for_message(lambda m: "New broadcast" in m.content)
    await admin.send_html(SALE_HTML)
    await admin.wait_for_message(lambda m: "link button" in m.content)
    await admin.send_text("Shop | http://insecure.example.com")
    await admin.wait_for_message(lambda m: "That is not a button" in m.content)
    await admin.send_text("Shop | https://example.com/sale")
    await admin.wait_for_message(lambda m: "Who should get it?" in m.content)
    await admin.press("A level")
    await admin.wait_for_message(lambda m: "Which level?" in m.content)
    await admin.press("bronze")
    preview, summary = await admin.wait_for_messages(2)
    assert preview.html == SALE_HTML
    assert preview.find_button("Shop") == {"text": "Shop", "url": "https://example.com/sale"}
    assert "Audience: resellers of level bronze" in summary.content
    assert "Recipients: 2" in summary.content
    assert summary.buttons == ["📣 Send", "✖ Cancel"]

    await admin.press("✖ Cancel", message=summary)
    cancelled = await admin.wait_for_message(lambda m: "Broadcast cancelled" in m.content)
    assert cancelled.buttons == []
    await admin.press_data(summary.callback_data("📣 Send") or "", message=summary)
    await server.wait_callbacks_answered()
    async with shop.db.reading() as session:
        campaign = await session.scalar(select(BroadcastCampaign))
        assert campaign is not None and campaign.status is CampaignStatus.DISCARDED
        assert await session.scalar(select(func.count()).select_from(BroadcastRecipient)) == 0
    assert copies(reader) == []


async def test_a_reseller_pressing_a_forged_send_button_is_refused(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await add_resellers(shop, [501, 502])
    mallory, reader = server.user(501, started=True), server.user(502, started=True)
    admin = server.user(ADMIN_ID, started=True)
    summary = await compose(admin, SALE_HTML)
    send = summary.callback_data("📣 Send") or ""

    await mallory.send_text("/broadcast")
    await mallory.wait_for_message(lambda m: "not allowed" in m.content)
    query = await mallory.press_data(send)
    answer = await mallory.wait_for_callback_answer(query)
    assert answer.show_alert and "not allowed" in (answer.answer_text or "")
    async with shop.db.reading() as session:
        campaign = await session.scalar(select(BroadcastCampaign))
        assert campaign is not None and campaign.status is CampaignStatus.DRAFT
    assert copies(reader) == [] and copies(mallory) == []
    assert not any("being sent" in m.content for m in mallory.messages)


async def test_the_admin_watches_progress_and_stops_the_broadcast(
    server: FakeTelegramServer, shop: Platform
) -> None:
    readers = range(30_000, 32_000)
    await add_resellers(shop, readers)
    users = [server.user(telegram_id, started=True) for telegram_id in readers]
    admin = server.user(ADMIN_ID, started=True)
    server.flood_limit_per_second = FAKE_LIMIT
    summary = await compose(admin, SALE_HTML)
    await admin.press("📣 Send", message=summary)

    progress = await admin.wait_for_message(lambda m: "Remaining:" in m.content, timeout=30)
    assert progress.buttons == ["⏹ Stop sending"]
    query = await admin.press("⏹ Stop sending", message=progress)
    assert "Stopping" in ((await admin.wait_for_callback_answer(query)).answer_text or "")
    report = await admin.wait_for_message(report_of(admin), timeout=60)

    assert "stopped" in report.content
    reached = sum(len(copies(user)) for user in users) + len(copies(admin)) - 1
    assert f"Sent: {reached}\n" in report.content
    assert f"Not sent: {2001 - reached}" in report.content
    assert 0 < reached < 2001
    assert all(len(copies(user)) <= 1 for user in users)
    assert admin.current(progress).content == report.content  # the progress became the report
    states = await recipient_states(shop)
    assert states == {RecipientStatus.SENT: reached, RecipientStatus.PENDING: 2001 - reached}


async def test_a_photo_with_a_caption_goes_to_suppliers(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await shop.catalogue.ensure_user(900)  # a supplier who has written to the bot
    await shop.catalogue.grant_role(900, Role.SUPPLIER, actor="test")
    await add_resellers(shop, [601])
    supplier, reseller = server.user(900, started=True), server.user(601, started=True)
    admin = server.user(ADMIN_ID, started=True)
    await admin.send_text("/broadcast")
    await admin.wait_for_message(lambda m: "New broadcast" in m.content)
    await admin.send_photo(b"\x89PNG fake image", caption="New stock rules from Monday")
    await admin.wait_for_message(lambda m: "link button" in m.content)
    await admin.press("Skip")
    await admin.wait_for_message(lambda m: "Who should get it?" in m.content)
    await admin.press("Suppliers")
    preview, summary = await admin.wait_for_messages(2)
    assert preview.photo is not None and preview.caption == "New stock rules from Monday"
    assert "Audience: suppliers" in summary.content and "Recipients: 1" in summary.content
    await admin.press("📣 Send", message=summary)
    await admin.wait_for_message(report_of(admin))

    got = [m for m in supplier.messages if m.photo is not None]
    assert len(got) == 1 and got[0].caption == "New stock rules from Monday"
    assert await supplier.download(got[0]) == b"\x89PNG fake image"
    assert reseller.messages == []


async def test_server_errors_are_retried_a_few_times_then_the_recipient_is_failed(
    server: FakeTelegramServer, platform: Platform, settings: Settings
) -> None:
    await make_admin(platform)
    await platform.catalogue.set_level(ADMIN_ID, "gold", actor="test")  # out of the audience
    await add_resellers(platform, [701])
    reader = server.user(701, started=True)
    server.user(ADMIN_ID, started=True)
    bot_settings = settings.model_copy(
        update={"bot_token": TOKEN, "telegram_api_base": server.base_url}
    )
    bot = create_bot(bot_settings)
    sender = Sender.for_settings(bot, bot_settings, backoff_seconds=0.01)
    worker = BroadcastWorker(platform, sender, make_i18n())
    level = Audience("level", ref=(await platform.broadcasts.levels())[0].id)

    async def campaign() -> dict[int, tuple[RecipientStatus, int]]:
        draft = await platform.broadcasts.draft(ADMIN_ID, CampaignMessage("text", SALE_HTML), level)
        await platform.broadcasts.start(draft.id, ADMIN_ID)
        worker.wake()
        async with asyncio.timeout(30):
            while (await platform.broadcasts.counts(draft.id)).pending:
                await server.state.changed.wait(0.1)
        async with platform.db.reading() as session:
            rows = await session.execute(
                select(
                    BroadcastRecipient.telegram_id,
                    BroadcastRecipient.status,
                    BroadcastRecipient.attempts,
                ).where(BroadcastRecipient.campaign_id == draft.id)
            )
            return {t: (s, a) for t, s, a in rows}

    await worker.start()
    try:
        server.fail("sendMessage", times=2, error_code=502)
        assert (await campaign())[701] == (RecipientStatus.SENT, 3)
        assert len(copies(reader)) == 1
        with server.failing("sendMessage", 500):
            assert (await campaign())[701] == (RecipientStatus.FAILED, 3)
        assert len(copies(reader)) == 1
    finally:
        await worker.stop()
        await bot.session.close()

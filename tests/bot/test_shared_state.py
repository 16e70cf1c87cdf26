"""Several bot instances on one Redis (``KAMENG_REDIS_URL``): two platforms on one database,
two bots on one fake Telegram server, each with the ``SharedState`` its settings build —
as two processes of one deployment would be. Redis is the real one at 127.0.0.1:6379
(database 2, a key prefix of each test's own, removed afterwards)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.app import create_bot, run_polling
from bot.sender import Priority, Sender
from bot.shared_state import RedisUnavailable, SharedState, redacted
from bot.throttle import RedisThrottle
from core.db import Database
from core.models import Role
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID, TOKEN
from tests.bot.helpers import eventually
from tests.bot.test_kameng_run import _environment
from tests.cli_runner import run_kameng
from tests.factories import make_reseller

REDIS_URL = "redis://127.0.0.1:6379/2"  # this part's database on the shared Redis
RESELLER = 1001


async def _redis_or_skip() -> None:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, RedisError) as error:  # pragma: no cover - CI and dev machines have it
        if os.environ.get("CI"):  # .ci/run starts Redis: its absence there is a failure
            raise
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    finally:
        await client.aclose()


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    await _redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


class Instance:
    """One bot instance: its own platform (own engine, own user cache), bot and shared
    state; ``polling`` serves updates while the block runs."""

    def __init__(self, platform: Platform, server: FakeTelegramServer) -> None:
        self.platform = platform
        self.server = server
        self.shared = SharedState.from_settings(platform.settings)

    @contextlib.asynccontextmanager
    async def polling(self) -> AsyncIterator[None]:
        calls = len(self.server.calls("getUpdates"))
        task = asyncio.create_task(
            run_polling(
                self.platform,
                create_bot(self.platform.settings),
                handle_signals=False,
                shared=self.shared,
            )
        )
        await eventually(
            lambda: _true(len(self.server.calls("getUpdates")) > calls), "polling to start"
        )
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _true(value: bool) -> bool:
    return value


async def forgotten(
    instance: Instance,
    telegram_id: int,
    what: str,
    timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for a condition
) -> None:
    """Wait until ``instance``'s user cache no longer holds ``telegram_id``."""
    cache = instance.platform.catalogue.user_cache
    await eventually(lambda: _true(cache.get(telegram_id) is None), what, timeout=timeout)


@pytest.fixture
async def instances(
    server: FakeTelegramServer, platform: Platform, settings: Settings, prefix: str
) -> AsyncIterator[tuple[Instance, Instance]]:
    """Two instances of one deployment, started (subscribed to each other's changes)."""
    shared_settings = settings.model_copy(
        update={
            "bot_token": TOKEN,
            "telegram_api_base": server.base_url,
            "admin_ids": str(ADMIN_ID),
            "outbox_poll_seconds": 0.05,
            "redis_url": REDIS_URL,
            "redis_prefix": prefix,
        }
    )
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor="test")
    await platform.catalogue.ensure_user(ADMIN_ID)
    await platform.catalogue.set_language(ADMIN_ID, "en")
    server.user(ADMIN_ID, started=True)
    pair = []
    for _ in range(2):  # each its own Database: commits on one are not seen by the other
        db = Database(settings.database_url)
        pair.append(Instance(build_platform(shared_settings, clock=platform.clock, db=db), server))
    a, b = pair
    for instance in pair:
        await instance.shared.start(instance.platform)
    yield a, b
    for instance in pair:
        await instance.shared.close()
        await instance.platform.close()


async def test_a_flow_begun_on_one_instance_is_finished_on_the_other(
    server: FakeTelegramServer, instances: tuple[Instance, Instance]
) -> None:
    a, b = instances
    await make_reseller(a.platform, RESELLER, balance=0)
    ann = server.user(RESELLER, language_code="en", started=True)

    async with a.polling():
        await ann.send_text("/balance")
        balance = await ann.wait_for_message(lambda m: "Balance" in m.content)
        await ann.press("💳 Top up", message=balance)
        await ann.wait_for_message(lambda m: "How much" in m.content)
    async with b.polling():  # the amount reaches the other instance
        await ann.send_text("42")
        await ann.wait_for_message(lambda m: "receipt" in m.content)


async def test_a_language_change_on_one_instance_is_seen_by_the_other_within_a_second(
    server: FakeTelegramServer, instances: tuple[Instance, Instance]
) -> None:
    a, b = instances
    await make_reseller(a.platform, RESELLER, balance=0)
    ann = server.user(RESELLER, language_code="en", started=True)
    async with b.polling():
        for _ in range(2):  # the first update writes her name, the second is read
            await ann.send_text("/balance")
            await ann.wait_for_message(lambda m: "Balance" in m.content)
    # b now remembers Ann in English for user_cache_seconds (10 s)
    assert b.platform.catalogue.user_cache.get(RESELLER) is not None

    await a.platform.catalogue.set_language(RESELLER, "zh-CN")

    await forgotten(b, RESELLER, "the other instance to drop Ann", timeout=1.0)
    async with b.polling():
        mark = ann.mark()
        await ann.send_text("/balance")
        answer = await ann.wait_for_message(after=mark)
        assert "余额" in answer.content


async def test_a_role_granted_on_one_instance_is_seen_by_the_other_within_a_second(
    instances: tuple[Instance, Instance],
) -> None:
    a, b = instances
    await make_reseller(a.platform, RESELLER, balance=0)

    async def b_remembers_ann() -> bool:  # b read Ann on her last update
        await b.platform.catalogue.ensure_user(RESELLER)
        return b.platform.catalogue.user_cache.get(RESELLER) is not None

    await eventually(b_remembers_ann, "b to read Ann once a's own changes reached it")

    await a.platform.catalogue.grant_role(RESELLER, Role.SUPPLIER, actor="test")

    await forgotten(b, RESELLER, "the other instance to drop Ann", timeout=1.0)
    view, _ = await b.platform.catalogue.ensure_user(RESELLER)
    assert Role.SUPPLIER in view.roles


async def test_an_instance_that_lost_redis_forgets_everyone_and_hears_changes_again(
    instances: tuple[Instance, Instance],
) -> None:
    a, b = instances
    await make_reseller(a.platform, RESELLER, balance=0)

    async def b_remembers_ann() -> bool:
        await b.platform.catalogue.ensure_user(RESELLER)
        return b.platform.catalogue.user_cache.get(RESELLER) is not None

    await eventually(b_remembers_ann, "b to read Ann")
    admin = Redis.from_url(REDIS_URL)
    try:  # cut b's subscription, as a Redis restart or a network fault would
        clients = await admin.client_list()
        (subscriber,) = [c for c in clients if c["name"] == b.shared.subscriber_name]
        await admin.client_kill_filter(_id=subscriber["id"])
    finally:
        await admin.aclose()

    # b may have missed changes while away: it drops everyone when it subscribes again
    await forgotten(b, RESELLER, "b to drop its cache after reconnecting")
    await eventually(b_remembers_ann, "b to read Ann again")
    await a.platform.catalogue.grant_role(RESELLER, Role.SUPPLIER, actor="test")
    await forgotten(b, RESELLER, "b, subscribed again, to drop Ann", timeout=1.0)


async def test_the_throttle_bucket_is_one_for_every_instance(prefix: str) -> None:
    clients = [Redis.from_url(REDIS_URL) for _ in range(2)]
    a, b = (RedisThrottle(client, prefix, rate=0.01, burst=8) for client in clients)
    try:
        allowed = [await (a if n % 2 else b).allow(RESELLER) for n in range(12)]
        assert allowed == [True] * 8 + [False] * 4  # one bucket of 8, not two
        assert await a.allow(RESELLER + 1)  # another user has a bucket of their own
    finally:
        for client in clients:
            await client.aclose()


@pytest.fixture
async def two_senders(
    server: FakeTelegramServer, settings: Settings, prefix: str
) -> AsyncIterator[tuple[Sender, Sender]]:
    shared_settings = settings.model_copy(
        update={
            "bot_token": TOKEN,
            "telegram_api_base": server.base_url,
            "redis_url": REDIS_URL,
            "redis_prefix": prefix,
        }
    )
    states = [SharedState.from_settings(shared_settings) for _ in range(2)]
    bots = [create_bot(shared_settings) for _ in range(2)]
    try:
        yield tuple(  # type: ignore[misc]
            Sender.for_settings(bot, shared_settings, shared=state.budget, backoff_seconds=0.01)
            for bot, state in zip(bots, states, strict=True)
        )
    finally:
        for bot, state in zip(bots, states, strict=True):
            await bot.session.close()
            await state.close()


async def test_two_senders_on_one_budget_stay_within_30_a_second_together(
    server: FakeTelegramServer, two_senders: tuple[Sender, Sender]
) -> None:
    users = range(7001, 7071)  # 70 private chats, one message each
    for user in users:
        server.user(user, started=True)
    first, second = two_senders
    deliveries = await asyncio.gather(
        *(
            (first if n % 2 else second).send_message(user, f"hi {user}", priority=Priority.NOTICE)
            for n, user in enumerate(users)
        )
    )
    assert all(d.sent for d in deliveries)
    calls = server.sending_calls()
    assert sorted(call.chat_id for call in calls) == list(users)  # each exactly once
    starts = [call.at for call in calls]
    busiest = max(sum(1 for at in starts if start <= at < start + 1.0) for start in starts)
    assert busiest <= 30  # alone, each of the two would have sent 30 in that second


async def test_a_429_on_one_instance_pauses_the_other(
    server: FakeTelegramServer, two_senders: tuple[Sender, Sender]
) -> None:
    for user in (7001, 7002):
        server.user(user, started=True)
    first, second = two_senders
    server.fail("sendMessage", times=1, error_code=429, retry_after=1, chat_id=7001)
    refused = await first.send_message(7001, "one", priority=Priority.NOTICE, retry=False)
    assert refused.retry_after == 1
    delivered = await second.send_message(7002, "two", priority=Priority.NOTICE)
    assert delivered.sent
    first_call, second_call = server.sending_calls()
    assert second_call.chat_id == 7002
    assert second_call.at - first_call.at >= 0.95  # the other instance waited the pause out


async def test_redis_not_answering_is_one_clear_error(
    platform: Platform, settings: Settings
) -> None:
    closed = settings.model_copy(update={"redis_url": "redis://:hunter2@127.0.0.1:1/0"})
    shared = SharedState.from_settings(closed)
    with pytest.raises(RedisUnavailable) as raised:
        await shared.start(platform)
    await shared.close()
    message = str(raised.value)
    assert "KAMENG_REDIS_URL" in message and "127.0.0.1:1" in message
    assert "\n" not in message and "hunter2" not in message


def test_kameng_run_says_in_one_line_that_redis_does_not_answer(
    database_url: str, tmp_path: pytest.TempPathFactory
) -> None:
    env = _environment(
        database_url,
        KAMENG_BOT_TOKEN=TOKEN,
        KAMENG_TELEGRAM_API_BASE="http://127.0.0.1:1",
        KAMENG_REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert run_kameng("db", "upgrade", env=env, cwd=tmp_path).returncode == 0
    done = run_kameng("run", env=env, cwd=tmp_path)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "KAMENG_REDIS_URL" in errors[0]
    assert "Traceback" not in done.stderr


def test_a_password_is_never_shown() -> None:
    assert redacted("redis://u:secret@host:6380/0") == "redis://u:***@host:6380/0"
    assert redacted("redis://127.0.0.1:6379/2") == "redis://127.0.0.1:6379/2"

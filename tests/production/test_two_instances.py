"""Two ``kameng serve`` processes of one deployment, as production runs them: PostgreSQL (a
database of this test's own) and Redis (database 1, a key prefix of the test's own), the
fake Telegram posting each update through a balancer to one of them — and, for a while,
the same update to both. Purchases through both bots and through the API at once; a
reseller's flow split across the two (Redis FSM); then the instance holding the
broadcast's lease is SIGKILLed mid-broadcast and the other finishes it: nobody twice,
nobody skipped but the few in flight (marked failed, "interrupted"), the ledger balances,
no code sold twice, and neither log has an ERROR line or a secret.

Leases are 1.5 s here (``KAMENG_LEASE_SECONDS``), so the takeover takes seconds.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.engine import make_url

from core import schema
from core.broadcasts import INTERRUPTED, Audience, CampaignMessage
from core.db import Database
from core.models import BroadcastRecipient, CampaignStatus, RecipientStatus, Role
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.state import ChatMessage
from sandbox.fake_telegram.user import FakeUser
from sandbox.instances import WEBHOOK_PATH, Balancer, Deployment, Instance
from tests.bot.helpers import eventually
from tests.cli_runner import run_kameng
from tests.conftest import TEST_SECRET, drop_postgres, recreate_postgres
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

TOKEN = "123456789:TEST-kameng-two-instances"
WEBHOOK_SECRET = "two-instances_secret"
POSTGRES = os.environ.get(
    "KAMENG_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test_twoinst"
)
REDIS_URL = "redis://127.0.0.1:6379/1"
ADMIN_ID = 77
BOT_BUYERS = range(2001, 2007)
API_BUYERS = range(3001, 3007)
SPLIT_FLOW = 4001
AUDIENCE = range(5001, 5121)  # besides the buyers: enough for a few seconds of sending
BROADCAST = CampaignMessage("text", "<b>Two instances</b> sale today")
SKU = "STEAM-100"
UNIT = 92_00


async def _reachable() -> str | None:
    """Why the test cannot run here, or None."""
    try:
        await recreate_postgres(_database_of_own(probe=True))
        await drop_postgres(_database_of_own(probe=True))
    except Exception as error:
        return f"no PostgreSQL at {make_url(POSTGRES).host}: {type(error).__name__}"
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, RedisError) as error:
        return f"no Redis at {REDIS_URL}: {type(error).__name__}"
    finally:
        await client.aclose()
    return None


_OWN = uuid.uuid4().hex[:10]


def _database_of_own(*, probe: bool = False) -> str:
    name = f"{make_url(POSTGRES).database}_two_{'probe' if probe else _OWN}"
    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
async def database() -> AsyncIterator[str]:
    why = await _reachable()
    if why is not None:
        if os.environ.get("CI"):  # .ci/run starts both: their absence there is a failure
            raise RuntimeError(why)
        pytest.skip(why)
    url = _database_of_own()
    await recreate_postgres(url)
    await schema.upgrade(Database(url))
    yield url
    await drop_postgres(url)


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    prefix = f"twoinst-{uuid.uuid4().hex[:10]}"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def _seed(platform: Platform, server: FakeTelegramServer) -> tuple[list[str], list[str]]:
    """The SKU's codes and the API buyers' keys."""
    stocked = await make_sku(platform, SKU, stock=60)
    await platform.catalogue.ensure_user(ADMIN_ID, language="en")
    await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor=ADMIN)
    server.user(ADMIN_ID, language_code="en", started=True)
    server.user(SUPPLIER_TID, language_code="en", started=True)
    keys = []
    for tid in [*BOT_BUYERS, *API_BUYERS, SPLIT_FLOW, *AUDIENCE]:
        await make_reseller(platform, tid, balance=1000_00)
        server.user(tid, language_code="en", started=True)
        if tid in API_BUYERS:
            keys.append((await platform.api_keys.issue(tid, actor=ADMIN)).token)
    return stocked, keys


async def _bot_buy(user: FakeUser, quantity: int) -> ChatMessage:
    await user.send_text(f"/buy {SKU} {quantity}")
    quote = await user.wait_for_message(lambda m: "Total:" in m.content, timeout=30)
    await user.press("✅ Confirm", message=quote)
    return await user.wait_for_message(lambda m: "Order #" in m.content, timeout=30)


async def _api_buy(http: aiohttp.ClientSession, key: str, tag: str, *urls: str) -> list[str]:
    """One order, posted to each of ``urls`` with one Idempotency-Key (a client retrying
    on the other instance): the same order and codes from each."""
    answers = []
    for url in urls:
        async with http.post(
            url + "/api/v1/orders",
            json={"sku": SKU, "quantity": 2},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": tag},
        ) as response:
            body = await response.json()
            assert response.status in (200, 201), body
            answers.append(body)
    assert len({answer["id"] for answer in answers}) == 1
    assert all(answer["codes"] == answers[0]["codes"] for answer in answers)
    return [" ".join(card.values()) for card in answers[0]["codes"]]


def _button_with(message: ChatMessage, part: str) -> str:
    return next(
        button["text"]
        for row in message.inline_keyboard
        for button in row
        if part in button["text"]
    )


async def _split_flow(user: FakeUser, balancer: Balancer) -> ChatMessage:
    """Each step on the other instance; the quantity is typed on the instance that did
    not ask for it (the FSM state is in Redis)."""
    balancer.pin(0)
    await user.send_text("/catalogue")
    categories = await user.wait_for_message(
        lambda m: "Steam" in m.content or bool(m.inline_keyboard), timeout=30
    )
    balancer.pin(1)
    await user.press(_button_with(categories, "Steam"), message=categories)
    listing = await user.wait_for_message(
        lambda m: any(SKU in b["text"] for row in m.inline_keyboard for b in row), timeout=30
    )
    balancer.pin(0)
    await user.press(_button_with(listing, SKU), message=listing)
    card = await user.wait_for_message(lambda m: "Face value" in m.content, timeout=30)
    await user.press("Other quantity", message=card)
    await user.wait_for_message(lambda m: "How many" in m.content, timeout=30)
    balancer.pin(1)
    await user.send_text("3")
    quote = await user.wait_for_message(lambda m: "Total:" in m.content, timeout=30)
    assert "3 ×" in quote.content
    balancer.pin(0)
    await user.press("✅ Confirm", message=quote)
    receipt = await user.wait_for_message(lambda m: "Order #" in m.content, timeout=30)
    balancer.pin(None)
    return receipt


def _holder(instances: list[Instance], owner: str | None) -> Instance | None:
    pid = None if owner is None else int(owner.split(":")[-2])
    return next((i for i in instances if i.pid == pid), None)


async def test_two_instances_share_the_work_and_one_finishes_what_a_killed_one_began(
    database: str, prefix: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=database, secret_key=TEST_SECRET)
    platform = build_platform(settings)
    async with FakeTelegramServer(token=TOKEN) as server:
        seeding = asyncio.create_task(_seed(platform, server))  # while the instances start
        deployment = Deployment(
            tmp_path,
            {
                "KAMENG_DATABASE_URL": database,
                "KAMENG_SECRET_KEY": TEST_SECRET,
                "KAMENG_BOT_TOKEN": TOKEN,
                "KAMENG_TELEGRAM_API_BASE": server.base_url,
                "KAMENG_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "KAMENG_ADMIN_IDS": str(ADMIN_ID),
                "KAMENG_REDIS_URL": REDIS_URL,
                "KAMENG_REDIS_PREFIX": prefix,
                "KAMENG_LEASE_SECONDS": "1.5",
                "KAMENG_OUTBOX_POLL_SECONDS": "0.2",
                "KAMENG_TELEGRAM_SENDS_PER_SECOND": "40",
            },
        )
        sold: list[str] = []
        async with (
            Balancer() as balancer,
            deployment.instances(2, balancer) as instances,
            aiohttp.ClientSession() as http,
        ):
            a, b = instances
            stocked, keys = await seeding

            async def both_set_the_webhook() -> bool:
                return len(server.calls("setWebhook")) >= 2

            await eventually(both_set_the_webhook, "both instances to set the webhook", timeout=30)
            assert server.state.webhook is not None
            assert server.state.webhook.url == balancer.url + WEBHOOK_PATH

            # 1. purchases through both bots and the API at once; every update also
            # reaches each instance directly (two balancers that both got it)
            server.webhook.mirrors = [a.url + WEBHOOK_PATH, b.url + WEBHOOK_PATH]
            bot_buys = [_bot_buy(server.user(tid), 1) for tid in BOT_BUYERS]
            api_buys = [
                _api_buy(http, key, f"two-{n}", *((a.url, b.url) if n % 2 else (b.url, a.url)))
                for n, key in enumerate(keys)
            ]
            results = await asyncio.gather(*bot_buys, *api_buys)
            for result in results:
                sold += result.codes if isinstance(result, ChatMessage) else result
            for tid in BOT_BUYERS:  # each update handled once, though posted three times
                receipts = [m for m in server.user(tid).messages if "Order #" in m.content]
                sends = [c for c in server.calls("sendMessage") if c["chat_id"] == tid]
                assert len(receipts) == 1 and len(sends) == 1, tid  # the quote, then edited
            server.webhook.mirrors = []

            # 2. a flow split across the instances
            split = await _split_flow(server.user(SPLIT_FLOW), balancer)
            sold += split.codes
            assert len(split.codes) == 3
            assert {r.instance for r in balancer.routed} == {0, 1}

            # 3. a broadcast; its lease holder is killed mid-way
            campaign = await platform.broadcasts.draft(ADMIN_ID, BROADCAST, Audience("resellers"))
            await platform.broadcasts.start(campaign.id, ADMIN_ID)

            async def well_under_way() -> bool:
                counts = await platform.broadcasts.counts(campaign.id)
                return counts.sent >= 20

            await eventually(well_under_way, "the broadcast to be under way", timeout=30)
            view = await _campaign_owner(platform, campaign.id)
            holder = _holder(instances, view)
            assert holder is not None, view
            holder.kill()
            survivor = b if holder is a else a
            await holder.process.wait()

            async def done() -> bool:
                view = await platform.broadcasts.campaign(campaign.id)
                return view.status is CampaignStatus.DONE

            await eventually(done, "the survivor to finish the broadcast", timeout=60)
            assert await _campaign_owner(platform, campaign.id) is None

            # the survivor serves alone behind the balancer
            after = await _bot_buy(server.user(BOT_BUYERS[0]), 1)
            sold += after.codes
            status = await survivor.stop()
            assert status == 0, survivor.log()[-3000:]

        # nobody twice; nobody skipped but the few whose delivery the kill made unknown
        recipients = await _recipients(platform, campaign.id)
        texts = {
            tid: sum("Two instances" in m.content for m in server.user(tid).messages)
            for tid in recipients
        }
        assert max(texts.values()) == 1
        interrupted = [
            tid for tid, (state, _) in recipients.items() if state is not RecipientStatus.SENT
        ]
        for tid, (state, error) in recipients.items():
            if state is RecipientStatus.SENT:
                assert texts[tid] == 1, tid
            else:
                assert state is RecipientStatus.FAILED and error == INTERRUPTED, (tid, state)
        # the README's "about the last half second" of sends, at 40/s; at most a second
        assert len(interrupted) <= 40, interrupted

    await platform.close()
    # no code sold twice; the ledger balances
    assert len(sold) == len(set(sold)) == 6 + 6 * 2 + 3 + 1
    assert set(sold) <= set(stocked)
    env = {**os.environ, "KAMENG_DATABASE_URL": database, "KAMENG_SECRET_KEY": TEST_SECRET}
    checked = await asyncio.to_thread(run_kameng, "ledger", "check", env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # the logs: no ERROR line, no secret
    for instance in instances:
        log = instance.log()
        assert "serving the webhook" in log
        errors = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line]
        assert errors == [], errors
        for secret in [*stocked, *keys, TEST_SECRET]:
            assert secret not in log


async def _campaign_owner(platform: Platform, campaign_id: int) -> str | None:
    from core.models import BroadcastCampaign

    async with platform.db.reading() as session:
        return await session.scalar(
            select(BroadcastCampaign.lease_owner).where(BroadcastCampaign.id == campaign_id)
        )


async def _recipients(
    platform: Platform, campaign_id: int
) -> dict[int, tuple[RecipientStatus, str | None]]:
    async with platform.db.reading() as session:
        rows = await session.execute(
            select(
                BroadcastRecipient.telegram_id,
                BroadcastRecipient.status,
                BroadcastRecipient.last_error,
            ).where(BroadcastRecipient.campaign_id == campaign_id)
        )
        return {tid: (state, error) for tid, state, error in rows}

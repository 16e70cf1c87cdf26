"""The real bot (aiogram Dispatcher + Bot over HTTP) polling the fake Telegram server,
backed by a real database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.app import create_bot, run_polling
from core.models import Role
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer

TOKEN = "123456789:TEST-kameng-bot"
ADMIN_ID = 42


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def shop(
    server: FakeTelegramServer, platform: Platform, settings: Settings
) -> AsyncIterator[Platform]:
    """The platform with the bot serving it; yields once polling has started."""
    bot_settings = settings.model_copy(
        update={
            "bot_token": TOKEN,
            "telegram_api_base": server.base_url,
            "admin_ids": str(ADMIN_ID),
            "outbox_poll_seconds": 0.05,
        }
    )
    live = build_platform(bot_settings, clock=platform.clock, db=platform.db)
    await live.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor="test")
    await live.catalogue.ensure_user(ADMIN_ID)  # the admin has written to the bot before
    server.user(ADMIN_ID, started=True)
    await live.catalogue.set_language(ADMIN_ID, "en")
    bot = create_bot(bot_settings)
    task = asyncio.create_task(run_polling(live, bot, handle_signals=False))
    for _ in range(200):
        if server.calls("getUpdates"):
            break
        await asyncio.sleep(0.01)
    yield live
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert not server.unanswered_callback_queries()

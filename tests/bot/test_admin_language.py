"""An admin named in KAMENG_ADMIN_IDS is created at start-up, before he ever writes: his
first message still sets his language from Telegram's, unless he chose one himself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.app import create_bot, run_polling
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import TOKEN

ENGLISH_ADMIN = 501
CHINESE_ADMIN = 502


@pytest.fixture
async def started(
    server: FakeTelegramServer, platform: Platform, settings: Settings
) -> AsyncIterator[Platform]:
    """The bot as `kameng run` starts it: KAMENG_ADMIN_IDS granted at start-up."""
    bot_settings = settings.model_copy(
        update={
            "bot_token": TOKEN,
            "telegram_api_base": server.base_url,
            "admin_ids": f"{ENGLISH_ADMIN},{CHINESE_ADMIN}",
        }
    )
    live = build_platform(bot_settings, clock=platform.clock, db=platform.db)
    task = asyncio.create_task(run_polling(live, create_bot(bot_settings), handle_signals=False))
    while not server.calls("getUpdates"):
        await server.state.changed.wait(0.01)
    yield live
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_an_english_admin_from_the_settings_is_answered_in_english(
    server: FakeTelegramServer, started: Platform
) -> None:
    admin = server.user(ENGLISH_ADMIN, "Alice", language_code="en")
    assert (await started.catalogue.user(ENGLISH_ADMIN)).language == "zh-CN"  # a placeholder

    await admin.send_text("/admin")

    panel = await admin.wait_for_message(
        lambda m: "panel" in m.content.lower() or "管理" in m.content
    )
    assert "Admin panel" in panel.content
    assert (await started.catalogue.user(ENGLISH_ADMIN)).language == "en"


async def test_a_language_the_admin_chose_is_kept(
    server: FakeTelegramServer, started: Platform
) -> None:
    await started.catalogue.set_language(CHINESE_ADMIN, "zh-CN")
    admin = server.user(CHINESE_ADMIN, "Li", language_code="en")

    await admin.send_text("/admin")

    panel = await admin.wait_for_message(
        lambda m: "panel" in m.content.lower() or "管理" in m.content
    )
    assert "Admin panel" not in panel.content
    assert (await started.catalogue.user(CHINESE_ADMIN)).language == "zh-CN"

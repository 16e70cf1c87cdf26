"""Fixtures: a fake Telegram server and a real aiogram Bot connected to it over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from sandbox.fake_telegram import FakeTelegramServer
from tests.sandbox.helpers import TOKEN, make_bot


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN, bot_username="kameng_bot") as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    bot = make_bot(server)
    yield bot
    await bot.session.close()

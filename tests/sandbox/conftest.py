"""Fixtures: a fake Telegram server and a real aiogram Bot connected to it over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession

from sandbox.fake_telegram import FakeTelegramServer

TOKEN = "123456789:AAFakeTokenForTests"


class LocalSession(AiohttpSession):
    """AiohttpSession without the 250 ms SSL grace sleep on close (plain local HTTP)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: FakeTelegramServer, **kwargs: object) -> Bot:
    return Bot(server.token, session=LocalSession(api=server.aiogram_api_server()), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(token=TOKEN, bot_username="kameng_bot") as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeTelegramServer) -> AsyncIterator[Bot]:
    bot = make_bot(server)
    yield bot
    await bot.session.close()


@asynccontextmanager
async def polling(dp: Dispatcher, bot: Bot) -> AsyncIterator[None]:
    """Run ``dp`` against ``bot`` (long polling the fake server) inside the block."""
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        yield
    finally:
        try:
            await dp.stop_polling()
        except RuntimeError:  # polling had not started yet
            task.cancel()
        with suppress(asyncio.CancelledError):
            await task

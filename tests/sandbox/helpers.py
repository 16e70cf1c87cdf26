"""Helpers for driving a real aiogram Bot against the fake Telegram server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession

from sandbox.fake_telegram import FakeTelegramServer

TOKEN = "123456789:AAFakeTokenForTests"

#: a valid 1x1 PNG
PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


class LocalSession(AiohttpSession):
    """AiohttpSession without the 250 ms SSL grace sleep on close (plain local HTTP)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(server: FakeTelegramServer, **kwargs: Any) -> Bot:
    return Bot(server.token, session=LocalSession(api=server.aiogram_api_server()), **kwargs)


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

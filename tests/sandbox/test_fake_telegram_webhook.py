"""The fake Telegram with a webhook set: updates are POSTed to it with the secret header,
retried until answered 2xx; getUpdates is refused; the test switches mirror and redeliver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from sandbox.fake_telegram import FakeTelegramServer
from sandbox.local_http import serving_app
from tests.bot.helpers import eventually

SECRET = "s3cret_token-1"


class Receiver:
    """A webhook endpoint that records what it got and answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.got: list[tuple[dict[str, Any], str | None]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        self.arrived.set()
        return web.Response(status=self.status)

    def update_ids(self) -> list[int]:
        return [update["update_id"] for update, _ in self.got]


@asynccontextmanager
async def receiving() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    async with serving_app(app) as url:
        yield receiver, f"{url}/hook"


async def until(condition: Any) -> None:
    async def holds() -> bool:
        return bool(condition())

    await eventually(holds, "the webhook's deliveries")


async def test_updates_are_posted_with_the_secret_and_getupdates_is_refused(
    server: FakeTelegramServer, bot: Bot
) -> None:
    async with receiving() as (receiver, url):
        assert await bot.set_webhook(url, secret_token=SECRET, allowed_updates=["message"])
        user = server.user(1001)
        await user.send_text("/start")
        await until(lambda: receiver.got)
        update, secret = receiver.got[0]
        assert secret == SECRET
        assert update["message"]["text"] == "/start"
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == (url, 0)
        assert info.allowed_updates == ["message"]
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
        await user.send_text("again")
        updates = await bot.get_updates()  # polling works again, and gets what was pending
        assert [u.message.text for u in updates if u.message] == ["again"]


async def test_a_refused_update_is_retried_until_answered_and_the_error_is_reported(
    server: FakeTelegramServer, bot: Bot
) -> None:
    async with receiving() as (receiver, url):
        receiver.status = 403
        await bot.set_webhook(url, secret_token=SECRET)
        await server.user(1001).send_text("hello")
        await until(lambda: len(receiver.got) >= 2)  # refused, then tried again
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 1
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
        receiver.status = 200
        await until(lambda: not server.state.updates)
        assert set(receiver.update_ids()) == {receiver.got[0][0]["update_id"]}
        assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_mirrors_get_each_update_once_and_redeliver_posts_it_again(
    server: FakeTelegramServer, bot: Bot
) -> None:
    async with receiving() as (first, url), receiving() as (second, mirror):
        server.webhook.mirrors.append(mirror)
        await bot.set_webhook(url, secret_token=SECRET)
        await server.user(1001).send_text("one")
        await until(lambda: first.got and second.got)
        assert first.update_ids() == second.update_ids()
        assert second.got[0][1] == SECRET
        update_id = first.update_ids()[0]
        assert await server.webhook.redeliver(update_id) == 200
        assert first.update_ids() == [update_id, update_id]


async def test_a_webhook_secret_telegram_would_refuse_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed"):
        await bot.set_webhook("https://example.com/hook", secret_token="no spaces please")
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://example.com/hook")

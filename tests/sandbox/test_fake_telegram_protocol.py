"""The HTTP protocol as Telegram speaks it, probed directly with aiohttp."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError

from sandbox.fake_telegram import FakeTelegramServer
from tests.sandbox.helpers import make_bot


async def call(
    server: FakeTelegramServer, method: str, *, token: str | None = None, **fields: Any
) -> tuple[int, dict[str, Any]]:
    url = f"{server.base_url}/bot{token or server.token}/{method}"
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
    async with aiohttp.ClientSession() as http, http.post(url, data=data) as response:
        return response.status, await response.json()


async def test_parameter_typo_is_rejected(server: FakeTelegramServer) -> None:
    user = server.user(1001, started=True)
    status, body = await call(
        server, "sendMessage", chat_id=user.id, text="<b>x</b>", parse_mod="HTML"
    )
    assert status == 400
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: unknown parameter parse_mod "
        "(fake server: Telegram would silently ignore it)",
    }
    assert user.messages == []


async def test_missing_and_mistyped_parameters(server: FakeTelegramServer) -> None:
    user = server.user(1001, started=True)
    status, body = await call(server, "sendMessage", text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body = await call(server, "answerCallbackQuery")
    assert body["description"] == 'Bad Request: parameter "callback_query_id" is required'
    status, body = await call(server, "deleteMessage", chat_id=user.id, message_id="seven")
    assert status == 400 and '"message_id" must be of type Integer' in body["description"]
    status, body = await call(server, "sendMessage", chat_id=user.id, text="x", reply_markup="[1]")
    assert status == 400 and '"reply_markup" must be of type' in body["description"]


async def test_nested_objects_are_checked_field_by_field(server: FakeTelegramServer) -> None:
    user = server.user(1001, started=True)
    typo = {"inline_keyboard": [[{"text": "Go", "callback_dat": "go"}]]}
    status, body = await call(server, "sendMessage", chat_id=user.id, text="x", reply_markup=typo)
    assert status == 400
    assert "unknown field reply_markup.inline_keyboard[0][0].callback_dat" in body["description"]
    no_text = {"inline_keyboard": [[{"callback_data": "go"}]]}
    status, body = await call(
        server, "sendMessage", chat_id=user.id, text="x", reply_markup=no_text
    )
    assert 'field "reply_markup.inline_keyboard[0][0].text"' in body["description"]
    status, body = await call(
        server,
        "setMyCommands",
        commands=[{"command": "a", "description": "b"}],
        scope={"type": "everyone"},
    )
    assert status == 400 and "scope.type" in body["description"]


async def test_unknown_method_token_and_file(server: FakeTelegramServer) -> None:
    status, body = await call(server, "sendTelepathy")
    assert (status, body["description"]) == (404, "Not Found")
    status, body = await call(server, "getMe", token="1:wrong")
    assert (status, body["description"]) == (401, "Unauthorized")
    status, body = await call(server, "getme")  # method names ignore case
    assert status == 200 and body["result"]["username"] == "kameng_bot"
    async with aiohttp.ClientSession() as http:
        url = f"{server.base_url}/file/bot{server.token}/documents/nothing.txt"
        async with http.get(url) as response:
            assert response.status == 404


async def test_json_body_and_query_string_are_accepted(server: FakeTelegramServer) -> None:
    user = server.user(1001, started=True)
    async with aiohttp.ClientSession() as http:
        url = f"{server.base_url}/bot{server.token}/sendMessage"
        async with http.post(url, json={"chat_id": user.id, "text": "json"}) as response:
            assert (await response.json())["result"]["text"] == "json"
        async with http.get(url, params={"chat_id": str(user.id), "text": "query"}) as response:
            assert (await response.json())["ok"]
    assert [m.text for m in user.messages] == ["json", "query"]
    assert [r.method for r in server.requests] == ["sendMessage", "sendMessage"]


async def test_get_updates_long_polls_and_confirms(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    await user.send_text("/start")
    first = await bot.get_updates(timeout=5)  # pending: returns at once
    assert [u.message.text for u in first if u.message] == ["/start"]
    assert first[0].message is not None and first[0].message.entities is not None
    assert first[0].message.entities[0].type == "bot_command"
    again = await bot.get_updates(timeout=0)  # not confirmed yet
    assert [u.update_id for u in again] == [first[0].update_id]

    waiting = asyncio.create_task(bot.get_updates(offset=first[0].update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await user.send_text("hello")
    second = await asyncio.wait_for(waiting, 2)
    assert [u.message.text for u in second if u.message] == ["hello"]

    empty = await bot.get_updates(offset=second[0].update_id + 1, timeout=0)
    assert empty == []


async def test_allowed_updates_filter(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    await bot.send_message(
        user.id,
        "x",
        reply_markup={"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},  # type: ignore[arg-type]
    )
    await user.send_text("ignored")
    await user.press("Go")
    updates = await bot.get_updates(allowed_updates=["callback_query"], timeout=0)
    assert [u.callback_query.data for u in updates if u.callback_query] == ["go"]
    assert len(updates) == 1


async def test_competing_long_polls_conflict(server: FakeTelegramServer, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)
    assert await second == []


async def test_every_call_is_logged(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    await bot.send_message(user.id, "hi")
    await call(server, "sendMessage", chat_id=user.id, text="x", parse_mod="HTML")
    assert server.requests[0] == ("sendMessage", {"chat_id": 1001, "text": "hi"})
    assert server.requests[1].params["parse_mod"] == "HTML"  # as received: it was invalid
    assert [e.description.split(" (")[0] for e in server.errors] == [
        "Bad Request: unknown parameter parse_mod"
    ]


async def test_stopping_ends_pending_long_polls() -> None:
    async with FakeTelegramServer() as server:
        bot = make_bot(server)
        try:
            poll = asyncio.create_task(bot.get_updates(timeout=30))
            await asyncio.sleep(0.05)
            await asyncio.wait_for(server.stop(), 2)
            assert await asyncio.wait_for(poll, 2) == []
        finally:
            await bot.session.close()

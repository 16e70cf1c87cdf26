"""The chat page's JSON and server-sent event endpoints, over HTTP, without a browser: an
aiogram Bot talks to the fake server, the page shows what Telegram saw."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from core.platform import Platform
from sandbox.chat import app as chat_app
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.personas import NEWCOMER, PERSONAS, RESELLER_BRONZE, RESELLER_SILVER
from tests.factories import make_reseller
from tests.sandbox.chat_helpers import API, serving
from tests.sandbox.helpers import PNG_1x1

MAYA = RESELLER_SILVER.telegram_id
STATE = f"/api/personas/{RESELLER_SILVER.key}/state"


@pytest.fixture
async def page(server: FakeTelegramServer, platform: Platform) -> AsyncIterator[Any]:
    """(base URL, HTTP client) of the chat page over ``server``."""
    async with serving(server, platform, PERSONAS) as url, aiohttp.ClientSession(url) as http:
        yield http


class Stream:
    """One tab's server-sent event stream."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, timeout: float = 5.0) -> tuple[str, dict[str, Any]]:  # noqa: ASYNC109
        kind, data = "", ""
        while True:
            line = (await asyncio.wait_for(self.response.content.readline(), timeout)).decode()
            if line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: "):
                data = line[6:]
            elif line == "\n" and kind:
                return kind, json.loads(data)

    async def until(self, key: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        while True:
            _kind, update = await self.next(timeout)
            if key in update:
                return update


async def _stream(http: aiohttp.ClientSession, persona: str) -> Stream:
    response = await http.get(f"/api/personas/{persona}/events")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return Stream(response)


async def test_the_page_and_its_personas(page: aiohttp.ClientSession) -> None:
    index = await page.get("/")
    assert index.status == 200 and 'data-testid="persona-list"' in await index.text()
    assert "script-src 'self'" in index.headers["Content-Security-Policy"]
    script = await page.get("/static/chat.js")
    assert script.status == 200
    listed = await (await page.get("/api/personas")).json()
    assert [p["key"] for p in listed["personas"]] == [p.key for p in PERSONAS]
    assert listed["personas"][1]["title_zh"] == "白银代理"


async def test_every_persona_is_a_user_of_the_fake_server(
    page: aiohttp.ClientSession, server: FakeTelegramServer
) -> None:
    maya = server.state.chats[MAYA].user
    assert (maya.first_name, maya.username, maya.language_code) == ("Maya", "maya_cards", "en")
    assert server.state.chats[MAYA].started
    assert not server.state.chats[NEWCOMER.telegram_id].started  # has never written
    newcomer = await (await page.get(f"/api/personas/{NEWCOMER.key}/state")).json()
    assert newcomer["started"] is False and newcomer["panel"] == {"known": False}


async def test_a_message_typed_on_the_page_reaches_the_bot(
    page: aiohttp.ClientSession, bot: Bot
) -> None:
    sent = await page.post(f"/api/personas/{RESELLER_SILVER.key}/messages", json={"text": "/start"})
    assert sent.status == 201
    updates = await bot.get_updates()
    assert updates[-1].message is not None and updates[-1].message.text == "/start"
    assert updates[-1].message.from_user is not None
    assert updates[-1].message.from_user.id == MAYA


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("reseller-silver/messages", {"text": "   "}, 400, "empty_text"),
        ("reseller-silver/messages", {"text": "x" * 4097}, 400, "text_too_long"),
        ("reseller-silver/messages", ["not", "an", "object"], 400, "invalid_json"),
        ("nobody/messages", {"text": "hi"}, 404, "unknown_persona"),
        ("reseller-silver/press", {"message_id": 99, "row": 0, "column": 0}, 404, "message_gone"),
        ("reseller-silver/press", {"message_id": "1", "row": 0, "column": 0}, 400, "invalid_input"),
        ("reseller-silver/press", {"message_id": 1, "row": -1, "column": 0}, 400, "invalid_input"),
    ],
)
async def test_bad_requests_get_a_4xx_with_a_code(
    page: aiohttp.ClientSession, path: str, body: Any, status: int, code: str
) -> None:
    answer = await page.post(f"/api/personas/{path}", json=body)
    assert answer.status == status
    assert (await answer.json())["error"]["code"] == code


async def test_buttons_are_pressed_by_their_place_and_only_callback_buttons(
    page: aiohttp.ClientSession, server: FakeTelegramServer, bot: Bot
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="Same", callback_data="first"),
                InlineKeyboardButton(text="Same", callback_data="second"),
            ],
            [InlineKeyboardButton(text="Docs", url="https://example.com")],
        ]
    )
    message = await bot.send_message(MAYA, "Pick", reply_markup=markup)
    press = f"/api/personas/{RESELLER_SILVER.key}/press"
    pressed = await page.post(press, json={"message_id": message.message_id, "row": 0, "column": 1})
    assert pressed.status == 201
    query = server.state.callback_queries[(await pressed.json())["query_id"]]
    assert query.data == "second" and query.chat_id == MAYA
    url_button = await page.post(
        press, json={"message_id": message.message_id, "row": 1, "column": 0}
    )
    assert (await url_button.json())["error"]["code"] == "not_a_callback_button"
    missing = await page.post(press, json={"message_id": message.message_id, "row": 2, "column": 0})
    assert (await missing.json())["error"]["code"] == "button_gone"
    await bot.answer_callback_query(query.id)


async def test_uploads_become_the_users_photos_and_documents_within_limits(
    page: aiohttp.ClientSession,
    server: FakeTelegramServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = f"/api/personas/{RESELLER_SILVER.key}/files"

    def form(content: bytes, name: str, as_: str, caption: str = "") -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field("file", content, filename=name)
        data.add_field("as", as_)
        if caption:
            data.add_field("caption", caption)
        return data

    document = await page.post(files, data=form(b"A-1\nA-2\n", "codes.txt", "document", "2"))
    assert document.status == 201
    photo = await page.post(files, data=form(PNG_1x1, "receipt.png", "photo"))
    assert photo.status == 201
    history = server.state.chats[MAYA].messages
    sent_document = history[(await document.json())["message_id"]].document
    assert sent_document is not None and sent_document.name == "codes.txt"
    assert sent_document.content == b"A-1\nA-2\n"
    assert history[(await photo.json())["message_id"]].photo is not None

    not_image = await page.post(files, data=form(b"hello", "x.png", "photo"))
    assert (await not_image.json())["error"]["code"] == "not_an_image"
    empty = await page.post(files, data=form(b"", "x.txt", "document"))
    assert (await empty.json())["error"]["code"] == "file_empty"
    monkeypatch.setattr(chat_app, "MAX_DOCUMENT_BYTES", 4)
    big = await page.post(files, data=form(b"12345", "x.txt", "document"))
    assert big.status == 413 and (await big.json())["error"]["code"] == "file_too_large"


async def test_files_are_served_only_to_the_chat_they_are_in(
    page: aiohttp.ClientSession, bot: Bot, server: FakeTelegramServer
) -> None:
    from aiogram.types import BufferedInputFile

    sent = await bot.send_document(MAYA, BufferedInputFile(b"X-1\n", filename="codes 1.txt"))
    assert sent.document is not None
    mine = await page.get(f"/api/personas/{RESELLER_SILVER.key}/files/{sent.document.file_id}")
    assert mine.status == 200 and await mine.read() == b"X-1\n"
    assert "attachment" in mine.headers["Content-Disposition"]
    assert "codes%201.txt" in mine.headers["Content-Disposition"]
    server.user(RESELLER_BRONZE.telegram_id)
    theirs = await page.get(f"/api/personas/{RESELLER_BRONZE.key}/files/{sent.document.file_id}")
    assert theirs.status == 404


async def test_a_stream_shows_new_edited_and_deleted_messages_toasts_and_refusals(
    page: aiohttp.ClientSession, server: FakeTelegramServer, bot: Bot, platform: Platform
) -> None:
    await make_reseller(platform, MAYA, balance=12_34)
    stream = await _stream(page, RESELLER_SILVER.key)
    kind, snapshot = await stream.next()
    assert kind == "snapshot"
    assert snapshot["panel"]["balance"] == "¥12.34" and snapshot["reply_keyboard"] is None
    other_tab = await _stream(page, RESELLER_SILVER.key)
    await other_tab.next()

    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="🛒 Catalogue")]])
    first = await bot.send_message(
        MAYA, "<b>Hello</b> &lt;you&gt;", parse_mode="HTML", reply_markup=keyboard
    )
    update = await stream.until("messages")
    [shown] = update["messages"]
    assert shown["id"] == first.message_id and shown["from_bot"] is True
    assert shown["html"] == "<strong>Hello</strong> &lt;you&gt;"
    assert update.get("reply_keyboard") or (await stream.until("reply_keyboard"))
    assert (await other_tab.until("messages"))["messages"][0]["id"] == first.message_id

    await bot.edit_message_text("Bye", chat_id=MAYA, message_id=first.message_id)
    edited = (await stream.until("messages"))["messages"][0]
    assert (edited["id"], edited["edited"], edited["html"]) == (first.message_id, True, "Bye")

    await bot.delete_message(MAYA, first.message_id)
    assert (await stream.until("deleted"))["deleted"] == [first.message_id]

    card = await bot.send_message(
        MAYA,
        "Card",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
        ),
    )
    pressed = await page.post(
        f"/api/personas/{RESELLER_SILVER.key}/press",
        json={"message_id": card.message_id, "row": 0, "column": 0},
    )
    await bot.answer_callback_query((await pressed.json())["query_id"], "Done!", show_alert=True)
    assert (await stream.until("toasts"))["toasts"] == [{"text": "Done!", "alert": True}]

    with pytest.raises(TelegramBadRequest):
        await bot.edit_message_text("x", chat_id=MAYA, message_id=999)
    refused = (await stream.until("refused"))["refused"][0]
    assert refused["method"] == "editMessageText" and refused["after"] == card.message_id
    assert refused["error"]["code"] == 400
    assert refused["error"]["description"] == "Bad Request: message to edit not found"
    assert not refused["error"]["injected"]
    state = await (await page.get(STATE)).json()
    methods = [call["method"] for call in state["calls"]]
    assert methods == [
        "sendMessage",
        "editMessageText",
        "deleteMessage",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageText",
    ]
    assert "reply_markup=keyboard[1]" in state["calls"][0]["params"]


async def test_the_command_menu_is_the_one_telegram_would_show(
    page: aiohttp.ClientSession, server: FakeTelegramServer, bot: Bot
) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Main menu")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="主菜单")], language_code="zh"
    )
    await bot.set_my_commands(
        [BotCommand(command="admin", description="Admin panel")],
        scope=BotCommandScopeChat(chat_id=MAYA),
    )
    silver = await (await page.get(STATE)).json()
    assert silver["commands"] == [{"command": "admin", "description": "Admin panel"}]
    bronze = await (await page.get(f"/api/personas/{RESELLER_BRONZE.key}/state")).json()
    assert bronze["commands"] == [{"command": "start", "description": "主菜单"}]  # zh-hans
    newcomer = await (await page.get(f"/api/personas/{NEWCOMER.key}/state")).json()
    assert newcomer["commands"] == [{"command": "start", "description": "Main menu"}]


async def test_the_api_documentation_page(page: aiohttp.ClientSession) -> None:
    docs = await page.get("/api-docs")
    assert docs.status == 200 and docs.content_type == "text/html"
    text = await docs.text()
    assert API.base_url in text and API.key in text
    assert "<code>/api/v1/orders</code>" in text and "insufficient_balance" in text
    assert "curl -sS -X POST -H &#x27;Authorization: Bearer kmg_sandbox_key&#x27;" in text
    assert "<script" not in text
    chinese = await (await page.get("/api-docs?lang=zh")).text()
    assert "代理商 API" in chinese or "接口" in chinese

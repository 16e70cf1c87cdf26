"""aiogram's private parts the bot uses (``bot/library_internals.py``): with the pinned
version they are found and the fast path is taken; an aiogram that changed them leaves
the bot working the slower way, with one WARNING. And the bot's JSON calls carry what
aiogram's forms would, through aiogram's public API only."""

from __future__ import annotations

import asyncio
import json
import logging
from importlib.metadata import version
from typing import Any

import pytest
from aiogram import Bot, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.enums import ParseMode
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendDocument, SendMessage
from aiogram.types import (
    BufferedInputFile,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot import library_internals
from bot.library_internals import INLINE_MAGIC_FILTERS, check_magic_filters_inline
from bot.telegram_session import BotApiSession, EditMessageTextUnread, SendMessageUnread
from core import library_internals as core_internals


@pytest.fixture
def undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a fresh process: nothing decided yet, nothing switched off."""
    monkeypatch.setattr(core_internals, "_decided", {})
    monkeypatch.delenv(core_internals.SWITCH_OFF_VARIABLE, raising=False)


def test_the_inline_magic_filters_internal_is_found_in_the_pinned_aiogram() -> None:
    assert INLINE_MAGIC_FILTERS.changes() is None
    # an upgrade must look at it again, then write down the version it checked
    assert INLINE_MAGIC_FILTERS.checked_against == (f"aiogram {version('aiogram')}",)


def _router() -> Router:
    router = Router()
    router.message.filter(F.chat.type == "private")

    @router.message(F.text == "hi")
    async def hello(message: Message) -> None:
        pass

    return router


def _message(text: str) -> Message:
    return Message.model_validate(
        {"message_id": 1, "date": 0, "chat": Chat(id=1, type="private"), "text": text}
    )


def _no_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records what would have gone to a worker thread."""
    handed_off: list[str] = []
    stock = asyncio.to_thread

    async def to_thread(function: Any, *args: Any, **kwargs: Any) -> Any:
        handed_off.append(repr(function))
        return await stock(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", to_thread)
    return handed_off


async def _passes(router: Router, message: Message) -> bool:
    observer = router.message
    passed, _ = await observer._handler.check(message)
    handler_passed, _ = await observer.handlers[0].check(message)
    return passed and handler_passed


async def test_magic_filters_are_checked_without_a_thread(
    monkeypatch: pytest.MonkeyPatch, undecided: None
) -> None:
    router = _router()
    check_magic_filters_inline(router)
    handed_off = _no_threads(monkeypatch)
    assert await _passes(router, _message("hi"))
    assert not await _passes(router, _message("bye"))
    assert handed_off == []


async def test_a_changed_aiogram_checks_magic_filters_its_own_way_and_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, undecided: None
) -> None:
    stock = CallableObject.call

    async def call(self: Any, event: Any, **kwargs: Any) -> Any:  # another signature
        return await stock(self, event, **kwargs)

    monkeypatch.setattr(CallableObject, "call", call)
    routers = [_router(), _router()]
    for router in routers:
        check_magic_filters_inline(router)
    handed_off = _no_threads(monkeypatch)
    assert await _passes(routers[1], _message("hi"))
    assert not await _passes(routers[1], _message("bye"))
    assert handed_off != []  # aiogram's own way
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "inline_magic_filters" in warnings[0].getMessage()
    assert library_internals.INLINE_MAGIC_FILTERS.changes() is not None


# the JSON body of a call, built with aiogram's public API ------------------------------------

_KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="✅ Confirm", callback_data="buy:1")]]
)


@pytest.mark.parametrize(
    ("method", "body"),
    [
        (
            SendMessage(chat_id=7, text="<b>Quote</b>", reply_markup=_KEYBOARD),
            {
                "chat_id": 7,
                "text": "<b>Quote</b>",
                "parse_mode": "HTML",  # the bot's default, filled in
                "reply_markup": {
                    "inline_keyboard": [[{"text": "✅ Confirm", "callback_data": "buy:1"}]]
                },
            },
        ),
        (
            SendMessageUnread.of(7, "codes", None),
            {"chat_id": 7, "text": "codes", "parse_mode": "HTML"},
        ),
        (
            EditMessageText(chat_id=7, message_id=3, text="done", parse_mode=None),
            {"chat_id": 7, "message_id": 3, "text": "done"},
        ),
        (  # empty fields are left out, as the form leaves them out
            AnswerCallbackQuery(callback_query_id="q1", text="", show_alert=False),
            {"callback_query_id": "q1", "show_alert": False},
        ),
    ],
    ids=["keyboard", "unread", "no parse mode", "empty text"],
)
async def test_a_call_goes_as_one_json_object_of_the_forms_fields(
    method: Any, body: dict[str, Any]
) -> None:
    session = BotApiSession()
    bot = Bot("1:test", session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    try:
        built = session.build_json_body(bot, method)
        assert built is not None
        assert json.loads(built) == body
    finally:
        await session.close()


async def test_a_call_that_uploads_a_file_goes_as_aiograms_form() -> None:
    session = BotApiSession()
    bot = Bot("1:test", session=session)
    try:
        upload = SendDocument(chat_id=7, document=BufferedInputFile(b"CODE-1\n", "codes.txt"))
        assert session.build_json_body(bot, upload) is None
    finally:
        await session.close()


async def test_the_quote_and_receipt_replies_stay_json_instead_of_models() -> None:
    """``SendMessageUnread`` / ``EditMessageTextUnread`` re-declare aiogram's result type
    (``__returning__``), which aiogram reads to parse a reply: if it stopped reading it,
    every reply would be parsed into a ``Message`` again, silently slower."""
    session = BotApiSession()
    bot = Bot("1:test", session=session)
    sent = {"message_id": 9, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "t"}
    try:
        for method in (SendMessageUnread.of(7, "t"), EditMessageTextUnread.of(7, 9, "t")):
            reply = json.dumps({"ok": True, "result": sent})
            assert session.check_response(bot, method, 200, reply).result == sent
        reply = json.dumps({"ok": True, "result": sent})
        plain = SendMessage(chat_id=7, text="t")
        assert isinstance(session.check_response(bot, plain, 200, reply).result, Message)
    finally:
        await session.close()

"""Fault injection: scripted errors, blocked users, flood limits, random 429s."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)

from sandbox.fake_telegram import FakeTelegramServer
from tests.sandbox.helpers import TOKEN, make_bot


async def test_scripted_failures_then_recovery(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    server.fail("sendMessage", times=2, error_code=502)
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(user.id, "hi")
    await bot.send_message(user.id, "hi")
    assert [m.text for m in user.messages] == ["hi"]
    assert [(e.error_code, e.injected) for e in server.errors] == [(502, True), (502, True)]


async def test_a_failure_for_one_chat_leaves_the_others_served(
    server: FakeTelegramServer, bot: Bot
) -> None:
    cut_off, other = server.user(1001, started=True), server.user(1002, started=True)
    with server.failing("sendMessage", 502, chat_id=cut_off.id):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(cut_off.id, "hi")
        await bot.send_message(other.id, "hi")
    await bot.send_message(cut_off.id, "back")
    assert [m.text for m in cut_off.messages] == ["back"]
    assert [m.text for m in other.messages] == ["hi"]


async def test_429_surfaces_as_retry_after(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    server.fail("sendMessage", error_code=429, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as error:
        await bot.send_message(user.id, "hi")
    assert error.value.retry_after == 7
    assert "Too Many Requests: retry after 7" in error.value.message


async def test_failing_until_cleared(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    server.fail_until_cleared("*", error_code=500)
    for _ in range(3):
        with pytest.raises(TelegramServerError):
            await bot.get_me()
    server.clear_failures()
    await bot.get_me()
    with server.failing("getFile", 503):
        with pytest.raises(TelegramServerError, match="Service Unavailable"):
            await bot.get_file("nope")
        await bot.send_message(user.id, "other methods work")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_blocked_user_is_forbidden(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    sent = await bot.send_message(user.id, "before")
    server.block_user(user.id)
    with pytest.raises(TelegramForbiddenError) as error:
        await bot.send_message(user.id, "after")
    assert error.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(TelegramForbiddenError):
        await bot.edit_message_text(text="edited", chat_id=user.id, message_id=sent.message_id)
    server.unblock_user(user.id)
    await bot.send_message(user.id, "again")
    assert [m.text for m in user.messages] == ["before", "again"]


async def test_flood_limit_answers_429(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    server.flood_limit_per_second = 5
    for number in range(5):
        await bot.send_message(user.id, f"message {number}")
    with pytest.raises(TelegramRetryAfter) as error:
        await bot.send_message(user.id, "one too many")
    assert error.value.retry_after >= 1
    await bot.get_me()  # only message-sending calls are limited
    assert len(user.messages) == 5


async def _random_429_pattern(seed: int) -> list[bool]:
    async with FakeTelegramServer(token=TOKEN, seed=seed) as server:
        server.random_429_rate = 0.5
        user = server.user(1001, started=True)
        bot = make_bot(server)
        outcomes: list[bool] = []
        try:
            for _ in range(12):
                try:
                    await bot.send_message(user.id, "x")
                    outcomes.append(True)
                except TelegramRetryAfter:
                    outcomes.append(False)
        finally:
            await bot.session.close()
        return outcomes


async def test_random_429_is_reproducible_with_a_seed() -> None:
    first = await _random_429_pattern(seed=42)
    assert first == await _random_429_pattern(seed=42)
    assert True in first and False in first


async def test_callback_answers_expire(server: FakeTelegramServer, bot: Bot) -> None:
    user = server.user(1001, started=True)
    await bot.send_message(
        user.id,
        "x",
        reply_markup={"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]},  # type: ignore[arg-type]
    )
    first = await user.press("Go")
    with pytest.raises(TelegramBadRequest) as too_long:
        await bot.answer_callback_query(first, text="t" * 201)
    assert too_long.value.message == "Bad Request: MESSAGE_TOO_LONG"
    await bot.answer_callback_query(first, text="ok")
    old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    with pytest.raises(TelegramBadRequest) as twice:
        await bot.answer_callback_query(first)
    assert twice.value.message == old
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")

    server.callback_answer_timeout = 0.0
    late = await user.press("Go")
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(late)
    assert [q.data for q in server.unanswered_callback_queries()] == ["go"]

"""Watching the fake server: what the sandbox's chat page learns without polling."""

from __future__ import annotations

import asyncio

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError

from sandbox.fake_telegram import AnsweredCall, FakeTelegramServer


async def test_each_answered_call_is_told_with_its_own_place_and_chat(
    server: FakeTelegramServer, bot: Bot
) -> None:
    told: list[AnsweredCall] = []
    server.call_watchers.append(told.append)
    ann = server.user(1001, started=True)
    server.user(1002)  # never wrote: the bot may not write to him
    poll = asyncio.create_task(bot.get_updates(timeout=1))  # a long poll, answered last
    await asyncio.sleep(0.05)
    await bot.send_message(ann.id, "hi")
    try:
        await bot.send_message(1002, "hello?")
    except TelegramForbiddenError:
        pass
    await poll

    by_method = {call.request.method: call for call in told if call.error is None}
    assert [c.request.method for c in told] == ["sendMessage", "sendMessage", "getUpdates"]
    for call in told:  # each is told about its own request, overlapping or not
        assert server.requests[call.position] is call.request
    assert by_method["sendMessage"].chat_id == ann.id
    assert by_method["getUpdates"].chat_id is None
    refused = told[1]
    assert refused.chat_id == 1002 and refused.error is not None
    assert refused.error.error_code == 403


async def test_chat_watchers_hear_of_messages_edits_deletions_and_answers(
    server: FakeTelegramServer, bot: Bot
) -> None:
    changed: list[int | None] = []
    server.state.watchers.append(changed.append)
    ann = server.user(1001, started=True)
    message = await bot.send_message(ann.id, "hi")
    await bot.edit_message_text("hey", chat_id=ann.id, message_id=message.message_id)
    await bot.delete_message(ann.id, message.message_id)
    await ann.send_text("/start")
    assert changed == [ann.id] * 4

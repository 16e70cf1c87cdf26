"""The one place where the bot avoids the requests Telegram rejects for ordinary user
behaviour (a double tap, a press on an old message, a Cancel pressed twice):

* ``CallbackAnswers``: a callback query is answered exactly once. A second answer (a
  handler's after the throttle's, the error reply after the handler's) is not sent;
  ``answered`` tells whether one was, so whoever comes last can say it another way.
* ``UnchangedEdits``: an edit that would leave a message exactly as it is ("message is not
  modified") is not sent. The bot remembers what it last put in each message (a digest of
  its text and of its inline keyboard: a receipt's text holds codes, which stay out of
  memory) when it sends or edits it; a message it does not remember (sent before
  a restart) is edited, and Telegram's "not modified" is then taken as success here.

Both are aiogram request middlewares on the bot's session, so every handler, worker and
helper goes through them without knowing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    SendMessage,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, Message

log = logging.getLogger("kameng.bot")

#: how many query ids / messages each guard remembers (oldest forgotten first)
CAPACITY = 50_000
NOT_MODIFIED = "message is not modified"
QUERY_TOO_OLD = "query is too old"

MessageKey = tuple[int | str, int]
#: what a message shows, as far as an edit can change it: digests of (text or None if
#: unknown, inline keyboard or None)
Content = tuple[bytes | None, bytes | None]
K = TypeVar("K")
V = TypeVar("V")


def _remember(memory: OrderedDict[K, V], key: K, value: V) -> None:
    memory[key] = value
    memory.move_to_end(key)
    if len(memory) > CAPACITY:
        memory.popitem(last=False)


class CallbackAnswers(BaseRequestMiddleware):
    def __init__(self) -> None:
        self._answered: OrderedDict[str, None] = OrderedDict()

    def answered(self, query_id: str) -> bool:
        return query_id in self._answered

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        call = method  # as received (the isinstance below narrows ``method``)
        if not isinstance(method, AnswerCallbackQuery):
            return await make_request(bot, call)
        query_id = method.callback_query_id
        if query_id in self._answered:
            return True  # the spinner already stopped; Telegram would refuse a second answer
        _remember(self._answered, query_id, None)  # before the round trip: a racing answer
        try:
            return await make_request(bot, call)
        except TelegramBadRequest as error:
            if QUERY_TOO_OLD not in error.message:
                self._answered.pop(query_id, None)
                raise
            # answered after Telegram's window (a slow step): the user's spinner already
            # stopped on its own and the work itself was done; nothing to tell anyone
            log.info("callback query answered too late")
            return True


def _digest(text: str | None) -> bytes | None:
    return None if text is None else hashlib.blake2b(text.encode(), digest_size=16).digest()


def _keyboard(markup: object) -> bytes | None:
    if not isinstance(markup, InlineKeyboardMarkup):
        return None  # a reply keyboard belongs to the chat, not to the message
    return _digest(json.dumps(markup.model_dump(mode="json", exclude_none=True), sort_keys=True))


class UnchangedEdits(BaseRequestMiddleware):
    def __init__(self) -> None:
        self._shown: OrderedDict[MessageKey, Content] = OrderedDict()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        call = method  # as received (the isinstance below narrows ``method``)
        if isinstance(method, SendMessage):
            result = await make_request(bot, call)
            message_id = _message_id(result)
            if message_id is not None:
                content = (_digest(method.text), _keyboard(method.reply_markup))
                _remember(self._shown, (method.chat_id, message_id), content)
            return result
        if isinstance(method, EditMessageText | EditMessageReplyMarkup):
            if method.chat_id is None or method.message_id is None:
                return await make_request(bot, call)
            key = (method.chat_id, method.message_id)
            return await self._edit(make_request, bot, call, self._content(method, key), key)
        return await make_request(bot, call)

    def _content(
        self, method: EditMessageText | EditMessageReplyMarkup, key: MessageKey
    ) -> Content:
        """What the message will show after ``method``."""
        keyboard = _keyboard(method.reply_markup)
        if isinstance(method, EditMessageText):
            return _digest(method.text), keyboard
        before = self._shown.get(key)
        return (before[0] if before else None), keyboard

    async def _edit(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
        after: Content,
        key: MessageKey,
    ) -> Any:
        before = self._shown.get(key)
        if before == after:
            return True  # the message already shows exactly this (a double tap)
        _remember(self._shown, key, after)  # before the round trip: a racing double tap
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if NOT_MODIFIED in error.message:
                return True  # a message sent before a restart already showed this
            if before is None:
                self._shown.pop(key, None)
            else:
                self._shown[key] = before
            raise


def _message_id(result: object) -> int | None:
    if isinstance(result, Message):
        return result.message_id
    if isinstance(result, dict):  # SendMessageUnread keeps the reply as JSON
        message_id = result.get("message_id")
        return message_id if isinstance(message_id, int) else None
    return None


def callback_answers(bot: Bot) -> CallbackAnswers | None:
    """The callback answers guard on ``bot``'s session, if installed."""
    for middleware in bot.session.middleware:
        if isinstance(middleware, CallbackAnswers):
            return middleware
    return None


def install(bot: Bot) -> CallbackAnswers:
    """Puts both guards on ``bot``'s session (once) and returns its callback answers."""
    installed = callback_answers(bot)
    if installed is not None:
        return installed
    answers = CallbackAnswers()
    bot.session.middleware(answers)
    bot.session.middleware(UnchangedEdits())
    return answers

"""The bot's HTTP session to the Bot API: aiogram's, with its reply models kept alive.

aiogram parses every reply as ``Response[<the method's result type>]``, a parametrised
pydantic model. pydantic caches those models in a ``WeakValueDictionary`` only, so once
nothing else refers to one (``Response[bool]`` for ``answerCallbackQuery``,
``Response[Message | bool]`` for an edit, ``Response[list[Update]]`` for ``getUpdates``) the
next garbage collection drops it and the next call builds its schema again: 2-8 ms of CPU
on the event loop, for a reply that then takes microseconds to parse. Measured in
``bench/bot_e2e.py``: about 90 rebuilds of each per 200 purchases. Keeping one reference
per result type here makes it a cache hit.
"""

from __future__ import annotations

from typing import Any, ClassVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class BotApiSession(AiohttpSession):
    _reply_models: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self._reply_models:
            self._reply_models[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

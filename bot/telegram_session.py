"""The bot's HTTP session to the Bot API: aiogram's, with two costs taken out of every call.

* Calls go as one JSON body. aiogram sends each call as a form: every nested object is
  serialised to JSON, then every field URL-encoded into a multipart-capable form, which
  took about a quarter of the CPU of a call (``bench/bot_e2e.py``). The Bot API accepts a
  JSON object whose fields are what the form's would be. A call that uploads a file still
  goes as aiogram's multipart form.
* Replies nobody reads are not parsed into models. A sent or edited message comes back
  as a ``Message`` with its chat, sender, entities and keyboard, each a pydantic model:
  about a third of a call's CPU. ``SendMessageUnread`` and ``EditMessageTextUnread`` are
  those two calls with the reply kept as plain JSON, for the hot paths that never look at
  it (the quote, the receipt). Errors are raised as for any call.
* Reply models are kept alive. aiogram parses every reply as ``Response[<the method's
  result type>]``, a parametrised pydantic model. pydantic caches those models in a
  ``WeakValueDictionary`` only, so once nothing else refers to one (``Response[bool]`` for
  ``answerCallbackQuery``, ``Response[list[Update]]`` for ``getUpdates``) the next garbage
  collection drops it and the next call builds its schema again: 2-8 ms of CPU on the event
  loop, for a reply that then takes microseconds to parse (about 90 rebuilds of each per
  200 purchases). Keeping one reference per result type here makes it a cache hit.

Every call is counted by method and HTTP status (``kameng_telegram_calls_total``; a call
that got no answer as ``network``).
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import EditMessageText, Response, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import InlineKeyboardMarkup, InputFile
from aiohttp import ClientError, ClientTimeout

from telemetry import metrics

_JSON = {"Content-Type": "application/json"}


# aiogram declares its methods' keyword arguments to type checkers on each class itself, so
# these subclasses are built through typed factories.


class SendMessageUnread(SendMessage):
    """``sendMessage`` whose reply (the sent message) stays plain JSON."""

    __returning__ = dict[str, Any]

    @classmethod
    def of(
        cls, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> SendMessageUnread:
        return cls.model_validate({"chat_id": chat_id, "text": text, "reply_markup": reply_markup})


class EditMessageTextUnread(EditMessageText):
    """``editMessageText`` whose reply (the edited message) stays plain JSON."""

    __returning__ = dict[str, Any] | bool

    @classmethod
    def of(cls, chat_id: int, message_id: int, text: str) -> EditMessageTextUnread:
        return cls.model_validate({"chat_id": chat_id, "message_id": message_id, "text": text})


class BotApiSession(AiohttpSession):
    _reply_models: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def build_json_body(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call's fields as one JSON object (the fields aiogram's form would carry:
        defaults filled in, absent and empty ones left out), or None when it uploads a
        file."""
        fields: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            if isinstance(value, Default):
                value = bot.default[value.name]
            if value is not None and value != "":  # what the form leaves out
                fields[key] = value
        files: dict[str, InputFile] = {}
        # aiogram prepares a dict's values as its form's (defaults, files, enums, dates)
        # and returns the dict as one JSON text
        body: str = self.prepare_value(fields, bot=bot, files=files)
        return None if files else body.encode()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        try:
            return await self._request(bot, method, timeout)
        except TelegramNetworkError:  # no answer: counted here, answers in check_response
            metrics.telegram_call(method.__api_method__, "network")
            raise

    async def _request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        body = self.build_json_body(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        seconds = self.timeout if timeout is None else timeout
        try:
            async with session.post(
                url, data=body, headers=_JSON, timeout=ClientTimeout(total=seconds)
            ) as reply:
                content = await reply.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            message = f"{type(error).__name__}: {error}"
            raise TelegramNetworkError(method=method, message=message) from error
        response = self.check_response(bot, method, reply.status, content)
        return cast(TelegramType, response.result)

    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        metrics.telegram_call(method.__api_method__, status_code)  # every answer, both paths
        returning = method.__returning__
        if returning not in self._reply_models:
            self._reply_models[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)

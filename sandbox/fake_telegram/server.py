"""The fake Telegram Bot API server: an aiohttp app on 127.0.0.1 the real aiogram Bot uses.

Usage::

    async with FakeTelegramServer(token=TOKEN) as server:
        session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
        bot = Bot(TOKEN, session=session)
        user = server.user(1001, first_name="Ann")
        await user.send_text("/start")
        reply = await user.wait_for_message()
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

from aiohttp import web

from sandbox.fake_telegram.api_spec import ApiSpec, MethodSpec, UploadedFile
from sandbox.fake_telegram.faults import FailureRule, FaultInjector, make_rule
from sandbox.fake_telegram.limits import NOT_FOUND, UNAUTHORIZED, ApiError
from sandbox.fake_telegram.methods import SENDING_METHODS, BotApi
from sandbox.fake_telegram.payments import PaymentsState
from sandbox.fake_telegram.state import CallbackQueryRecord, FakeState, PendingUpdate, UserInfo
from sandbox.fake_telegram.user import FakeUser
from sandbox.fake_telegram.webhook import WebhookDelivery
from sandbox.local_http import start_app

DEFAULT_TOKEN = "123456789:FAKE-sandbox-token"
MAX_REQUEST_BYTES = 60 * 1024 * 1024


class RecordedRequest(NamedTuple):
    """One call the bot made: method name and parameters (natively typed once valid,
    as received when the call was invalid)."""

    method: str
    params: dict[str, Any]


class SendingCall(NamedTuple):
    """A message-sending call (what Telegram's flood limits count) and when it arrived."""

    at: float  # time.monotonic()
    method: str
    chat_id: Any
    params: dict[str, Any]


class RecordedError(NamedTuple):
    """A call answered with an error; ``injected`` when fault injection caused it."""

    method: str
    params: dict[str, Any]
    error_code: int
    description: str
    injected: bool


class AnsweredCall(NamedTuple):
    """A call the bot made, once answered: what a watcher of the calls is told."""

    position: int  # its place in ``FakeTelegramServer.requests``
    chat_id: int | None  # the private chat it is about (sent to, answered in), if any
    request: RecordedRequest
    error: RecordedError | None  # None: answered ``ok``


class FakeTelegramServer:
    """A fake Bot API for one bot, with users to drive it and faults to inject."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "kameng_bot",
        bot_first_name: str = "Kameng",
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = 0,
        spec_path: Path | None = None,
    ) -> None:
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.token = token
        self.host = host
        self.port = port
        self.spec = ApiSpec.load(spec_path)
        self.state = FakeState(
            UserInfo(id=bot_id, first_name=bot_first_name, username=bot_username, is_bot=True)
        )
        self.api = BotApi(self.state)
        #: posts updates to the bot's webhook once ``setWebhook`` set one
        self.webhook = WebhookDelivery(self.state)
        self.faults = FaultInjector(seed)
        #: every call the bot made, in order
        self.requests: list[RecordedRequest] = []
        #: when each of ``requests`` arrived (``time.monotonic()``), index for index
        self.request_times: list[float] = []
        #: every call answered with an error (including injected ones)
        self.errors: list[RecordedError] = []
        #: called with each call once it is answered (the chat page's "what Telegram saw")
        self.call_watchers: list[Callable[[AnsweredCall], None]] = []
        self._users: dict[int, FakeUser] = {}
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self.app = self._make_app()

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self._base_url is None:
            raise RuntimeError("FakeTelegramServer is not started; await server.start() first")
        return self._base_url

    @property
    def bot(self) -> UserInfo:
        return self.state.bot

    async def start(self) -> None:
        if self._runner is not None:
            return
        self.state.closing = False
        self._runner, self._base_url = await start_app(self.app, self.host, self.port)
        await self.webhook.start()

    async def stop(self) -> None:
        if self._runner is None:
            return
        self.state.closing = True  # pending long polls return at once
        self.state.updates_signal.notify()
        await self.webhook.stop()
        await self._runner.cleanup()
        self._runner = None
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def aiogram_api_server(self) -> Any:
        """An aiogram ``TelegramAPIServer`` pointing at this server."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    # -- users --------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """The user ``user_id`` (created on first use); their private chat id is ``user_id``.

        As in Telegram, the bot can write to them (or set their chat's menu) only once they
        have written to it (any message or button press); ``started=True``: they did so
        before the test began."""
        existing = self._users.get(user_id)
        if existing is not None:
            existing.chat_started = existing.chat_started or started
            return existing
        info = UserInfo(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        user = FakeUser(self.state, self.state.add_user(info))
        user.chat_started = started
        self._users[user_id] = user
        return user

    def block_user(self, user_id: int, *, notify_bot: bool = True) -> None:
        """The user blocks the bot: sending to them answers 403 ``bot was blocked by the user``."""
        self._set_blocked(user_id, blocked=True, notify_bot=notify_bot)

    def unblock_user(self, user_id: int, *, notify_bot: bool = True) -> None:
        self._set_blocked(user_id, blocked=False, notify_bot=notify_bot)

    def _set_blocked(self, user_id: int, *, blocked: bool, notify_bot: bool) -> None:
        chat = self.state.chat(user_id)
        if chat.blocked == blocked:
            return
        chat.blocked = blocked
        if notify_bot:
            bot = self.state.bot.to_api()
            member = {"status": "member", "user": bot}
            kicked = {"status": "kicked", "user": bot, "until_date": 0}
            self.state.enqueue_update(
                "my_chat_member",
                {
                    "chat": chat.to_api(),
                    "from": chat.user.to_api(),
                    "date": int(time.time()),
                    "old_chat_member": member if blocked else kicked,
                    "new_chat_member": kicked if blocked else member,
                },
            )

    # -- fault injection ----------------------------------------------------------------

    def fail(
        self,
        method: str,
        times: int = 1,
        error_code: int = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> FailureRule:
        """Answer the next ``times`` calls of ``method`` ("*" = any) with an error; with
        ``chat_id``, only calls addressed to that chat."""
        return self.faults.add(
            make_rule(
                method,
                times=times,
                error_code=error_code,
                description=description,
                retry_after=retry_after,
                chat_id=chat_id,
            )
        )

    def fail_until_cleared(
        self,
        method: str,
        error_code: int = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> FailureRule:
        """Answer every call of ``method`` with an error until :meth:`clear_failures`; with
        ``chat_id``, only calls addressed to that chat."""
        return self.faults.add(
            make_rule(
                method,
                times=None,
                error_code=error_code,
                description=description,
                retry_after=retry_after,
                chat_id=chat_id,
            )
        )

    @contextmanager
    def failing(
        self,
        method: str,
        error_code: int = 500,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        chat_id: int | None = None,
    ) -> Iterator[FailureRule]:
        """``with server.failing("sendMessage", 502): ...`` - fails inside the block only."""
        rule = self.fail_until_cleared(
            method, error_code, description=description, retry_after=retry_after, chat_id=chat_id
        )
        try:
            yield rule
        finally:
            self.faults.remove(rule)

    def clear_failures(self, method: str | None = None) -> None:
        self.faults.clear(method)

    @property
    def flood_limit_per_second(self) -> int | None:
        """Message-sending calls allowed per second overall; beyond → 429 (None = no limit)."""
        return self.faults.flood_limit_per_second

    @flood_limit_per_second.setter
    def flood_limit_per_second(self, value: int | None) -> None:
        self.faults.flood_limit_per_second = value

    @property
    def random_429_rate(self) -> float:
        """Probability (seeded RNG) that a message-sending call answers 429."""
        return self.faults.random_429_rate

    @random_429_rate.setter
    def random_429_rate(self, value: float) -> None:
        self.faults.random_429_rate = value

    @property
    def callback_answer_timeout(self) -> float:
        """Seconds after which answering a callback query fails as ``query is too old``."""
        return self.api.callback_answer_timeout

    @callback_answer_timeout.setter
    def callback_answer_timeout(self, value: float) -> None:
        self.api.callback_answer_timeout = value

    # -- payments in Stars ---------------------------------------------------------------

    @property
    def payments(self) -> PaymentsState:
        """Invoices paid, pre-checkout queries (with when each was answered, on this
        server's clock), Stars payments and their refunds."""
        return self.state.payments

    @property
    def pre_checkout_answer_timeout(self) -> float:
        """Seconds the bot has to answer a pre-checkout query (Telegram: 10)."""
        return self.state.payments.answer_timeout

    @pre_checkout_answer_timeout.setter
    def pre_checkout_answer_timeout(self, value: float) -> None:
        self.state.payments.answer_timeout = value

    def deliver_again(self, update: PendingUpdate) -> PendingUpdate:
        """Enqueue a copy of ``update`` under a new update id: the same event reaching the
        bot twice (a redelivery after a lost answer, a second instance)."""
        return self.state.enqueue_update(update.kind, update.payload)

    # -- observability ------------------------------------------------------------------

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of ``method`` the bot made."""
        return [r.params for r in self.requests if r.method.lower() == method.lower()]

    def sending_calls(self) -> list[SendingCall]:
        """Every message-sending call the bot made (answered or refused), with its arrival
        time: what a test of the bot's own pacing counts per second and per chat."""
        return [
            SendingCall(at, request.method, request.params.get("chat_id"), request.params)
            for at, request in zip(self.request_times, self.requests, strict=True)
            if request.method in SENDING_METHODS
        ]

    def unanswered_callback_queries(self) -> list[CallbackQueryRecord]:
        """Callback queries (button presses) the bot has not answered."""
        return self.state.unanswered_callback_queries()

    async def wait_callbacks_answered(
        self,
        timeout: float = 2.0,  # noqa: ASYNC109 - a deadline, not a cancellation scope
    ) -> list[CallbackQueryRecord]:
        """Wait until every callback query is answered; return the still unanswered ones."""
        deadline = time.monotonic() + timeout
        while (pending := self.unanswered_callback_queries()) and (
            remaining := deadline - time.monotonic()
        ) > 0:
            await self.state.changed.wait(remaining)
        return pending

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The bot's command list for ``scope`` (default scope) and ``language_code``."""
        params = {"scope": scope, "language_code": language_code}
        return list(self.state.commands.get(self.api.commands_key(params), []))

    def commands_for(self, user_id: int) -> list[dict[str, Any]]:
        """The command menu ``user_id`` sees in their private chat, chosen as Telegram does:
        the first of the chat's scope, all private chats, the default scope that has
        commands, each first in the user's language (its two letters), then for everyone."""
        chat = self.state.chats.get(user_id)
        language = ((chat.user.language_code or "") if chat else "")[:2].lower()
        scopes = (
            {"type": "chat", "chat_id": user_id},
            {"type": "all_private_chats"},
            None,
        )
        for scope in scopes:
            for code in (language, "") if language else ("",):
                found = self.commands(scope, code)
                if found:
                    return found
        return []

    def file_url(self, file_path: str) -> str:
        return f"{self.base_url}/file/bot{self.token}/{file_path}"

    # -- HTTP ---------------------------------------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file)
        return app

    async def _handle_method(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        name = request.match_info["method"]
        params: dict[str, Any] = {}
        injected = False
        index = -1
        try:
            try:
                if request.match_info["token"] != self.token:
                    raise ApiError(401, UNAUTHORIZED)
                method = self.spec.method(name)
                if method is None:
                    raise ApiError(404, NOT_FOUND)
                name = method.name
                params, uploads = await _read_params(request, method)
                params = self.spec.validate_call(method, params, uploads)
            finally:  # every call is logged, with validated params when they are valid
                index = len(self.requests)  # its own place: calls overlap (long polls)
                self.requests.append(RecordedRequest(name, params))
                self.request_times.append(arrived)
            failure = self.faults.injected_failure(name, params.get("chat_id"))
            if failure is None and name in SENDING_METHODS:
                failure = self.faults.rate_limited()
            if failure is not None:
                injected = True
                raise failure
            result = await self.api.call(name, params)
        except ApiError as error:
            recorded = RecordedError(name, params, error.error_code, error.description, injected)
            self.errors.append(recorded)
            self._tell_call_watchers(index, recorded)
            return web.json_response(error.payload(), status=error.error_code)
        self._tell_call_watchers(index, None)
        return web.json_response({"ok": True, "result": result})

    def _tell_call_watchers(self, index: int, error: RecordedError | None) -> None:
        if not self.call_watchers:
            return
        request = self.requests[index]
        call = AnsweredCall(index, self._chat_of(request), request, error)
        for watcher in self.call_watchers:
            watcher(call)

    def _chat_of(self, request: RecordedRequest) -> int | None:
        """The private chat a call is about: its ``chat_id``, its command scope's chat, or
        the chat of the button press it answers."""
        params = request.params
        chat_id = params.get("chat_id")
        scope = params.get("scope")
        if chat_id is None and isinstance(scope, dict):
            chat_id = scope.get("chat_id")
        if chat_id is None and request.method == "answerCallbackQuery":
            query = self.state.callback_queries.get(str(params.get("callback_query_id")))
            chat_id = None if query is None else query.chat_id
        if chat_id is None and request.method == "answerPreCheckoutQuery":
            checkout = self.payments.pre_checkout_queries.get(
                str(params.get("pre_checkout_query_id"))
            )
            chat_id = None if checkout is None else checkout.chat_id
        if chat_id is None and request.method == "refundStarPayment":
            chat_id = params.get("user_id")
        try:
            return None if chat_id is None else int(chat_id)
        except (TypeError, ValueError):
            return None

    async def _handle_file(self, request: web.Request) -> web.Response:
        record = self.state.files_by_path.get(request.match_info["file_path"])
        if request.match_info["token"] != self.token or record is None:
            error = ApiError(404, NOT_FOUND)
            return web.json_response(error.payload(), status=404)
        return web.Response(
            body=record.content, content_type=record.mime_type or "application/octet-stream"
        )


async def _read_params(
    request: web.Request, method: MethodSpec
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Fields and file parts of a GET/POST call (query, urlencoded, multipart or JSON)."""
    params: dict[str, Any] = dict(request.query)
    uploads: dict[str, UploadedFile] = {}
    if request.method != "POST" or not request.can_read_body:
        return params, uploads
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError.bad_request("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("request body must be a JSON object")
        params.update(body)
        return params, uploads
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            upload = UploadedFile(
                field=key,
                filename=value.filename,
                content=value.file.read(),
                content_type=value.content_type,
            )
            if key in method.fields:
                params[key] = upload
            else:
                uploads[key] = upload
        else:
            params[key] = value
    return params, uploads

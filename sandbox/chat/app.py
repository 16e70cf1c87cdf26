"""The sandbox's chat page: an aiohttp application over the fake Telegram server.

The visitor acts as one of the fixed personas (``sandbox.personas``): types messages and
commands, presses buttons, sends photos and files, exactly as that Telegram user would
(through :class:`sandbox.fake_telegram.FakeUser`); the page shows the chat as Telegram shows
it, live (one server-sent event stream per tab, woken by the fake server's watchers), with
a side panel read through the platform's public services and a log of every Bot API call
the bot made for the chat. The runner binds it (``web.AppRunner`` on its own port).

Routes (JSON unless said otherwise; a bad request is a 4xx ``{"error": {"code": …}}``):

``GET /``                                    the page (``static/index.html``)
``GET /static/…``                            its CSS and JavaScript
``GET /api-docs``                            the reseller API's OpenAPI document as HTML
``GET /api/personas``                        who the visitor can be
``GET /api/personas/{key}/state``            the chat now (what a stream sends first)
``GET /api/personas/{key}/events``           text/event-stream: ``snapshot`` then ``update``
``GET /api/personas/{key}/panel``            balance, level, roles
``POST /api/personas/{key}/messages``        ``{"text": …}``: send a message or command
``POST /api/personas/{key}/press``           ``{"message_id", "row", "column"}``: a button
``POST /api/personas/{key}/files``           multipart ``file`` (+ ``caption``, ``as``)
``POST /api/personas/{key}/pay``             ``{"message_id"}``: pay an invoice in Stars
``GET /api/personas/{key}/files/{file_id}``  a photo or document of that chat
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import mimetypes
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiohttp import web

from core.platform import Platform
from sandbox.chat.apidocs import api_docs_page
from sandbox.chat.feed import ChatFeed
from sandbox.chat.panel import panel
from sandbox.chat.views import ChatView
from sandbox.fake_telegram import FakeTelegramServer, FakeUser, InvoiceNotPayable
from sandbox.fake_telegram.limits import (
    MAX_DOWNLOAD_BYTES,
    MAX_MESSAGE_TEXT,
    MAX_UPLOAD_PHOTO_BYTES,
)
from sandbox.fake_telegram.methods import image_size
from sandbox.personas import NEWCOMER, ApiLink, Persona

STATIC = Path(__file__).resolve().parent / "static"
#: a user's document: the biggest file a bot may download through the Bot API (getFile)
MAX_DOCUMENT_BYTES = MAX_DOWNLOAD_BYTES
MAX_PHOTO_BYTES = MAX_UPLOAD_PHOTO_BYTES
#: seconds between keep-alive comments on an idle stream (the panel is read again then)
HEARTBEAT_SECONDS = 15.0

# The page's own resources only: no inline script, nothing from elsewhere.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class PageError(Exception):
    """A request the page refuses: a 4xx with a stable code the page words (en, zh)."""

    def __init__(self, status: int, code: str, **details: Any) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.details = details


class ChatPage:
    """The personas, the fake server and the platform, as the handlers need them."""

    def __init__(
        self,
        telegram: FakeTelegramServer,
        platform: Platform,
        personas: Sequence[Persona],
        api: ApiLink,
    ) -> None:
        self.telegram = telegram
        self.platform = platform
        self.personas = {persona.key: persona for persona in personas}
        self.api = api
        self.feed = ChatFeed(telegram)
        self.users: dict[str, FakeUser] = {
            persona.key: telegram.user(
                persona.telegram_id,
                persona.first_name,
                username=persona.username,
                language_code=persona.language_code,
                started=persona.key != NEWCOMER.key,
            )
            for persona in personas
        }

    def persona(self, request: web.Request) -> Persona:
        persona = self.personas.get(request.match_info["key"])
        if persona is None:
            raise PageError(404, "unknown_persona")
        return persona

    def user(self, persona: Persona) -> FakeUser:
        return self.users[persona.key]


CHAT = web.AppKey("chat", ChatPage)


def _page(request: web.Request) -> ChatPage:
    return request.app[CHAT]


@web.middleware
async def _errors_and_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except PageError as error:
        response = web.json_response(
            {"error": {"code": error.code, "details": error.details}}, status=error.status
        )
    if not response.prepared:
        response.headers.update(_SECURITY_HEADERS)
    return response


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise PageError(400, "invalid_json") from None
    if not isinstance(body, dict):
        raise PageError(400, "invalid_json")
    return body


def _int_field(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise PageError(400, "invalid_input", field=name)
    return value


# -- the page -------------------------------------------------------------------------


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def api_docs(request: web.Request) -> web.Response:
    page = _page(request)
    language = "zh" if request.query.get("lang", "").startswith("zh") else "en"
    return web.Response(
        text=api_docs_page(page.api, language), content_type="text/html", charset="utf-8"
    )


async def persona_list(request: web.Request) -> web.Response:
    page = _page(request)
    return web.json_response(
        {
            "personas": [
                {
                    "key": p.key,
                    "first_name": p.first_name,
                    "username": p.username,
                    "language_code": p.language_code,
                    "title_en": p.title_en,
                    "title_zh": p.title_zh,
                }
                for p in page.personas.values()
            ],
            "bot": {
                "first_name": page.telegram.bot.first_name,
                "username": page.telegram.bot.username,
            },
            "api_docs": "/api-docs",
        }
    )


# -- one persona's chat ---------------------------------------------------------------


async def state(request: web.Request) -> web.Response:
    page = _page(request)
    persona = page.persona(request)
    view = ChatView(persona, page.telegram, page.feed)
    return web.json_response(
        {**view.snapshot(), "panel": await panel(page.platform, persona)}, dumps=_dumps
    )


async def panel_of(request: web.Request) -> web.Response:
    page = _page(request)
    return web.json_response(await panel(page.platform, page.persona(request)), dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: ``snapshot`` (everything) once, then an ``update`` with what
    changed each time the chat changes; a comment every ``HEARTBEAT_SECONDS`` when idle."""
    page = _page(request)
    persona = page.persona(request)
    feed = page.feed
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            **_SECURITY_HEADERS,
        }
    )
    await response.prepare(request)
    view = ChatView(persona, page.telegram, feed)
    kind, shown_panel = "snapshot", None
    with contextlib.suppress(ConnectionResetError):  # the tab was closed
        while not feed.closing:
            changed = feed.event(persona.telegram_id)  # before reading: no change is missed
            update = view.snapshot() if kind == "snapshot" else view.changes()
            current_panel = await panel(page.platform, persona)
            if current_panel != shown_panel:
                update["panel"] = shown_panel = current_panel
            if update or kind == "snapshot":
                data = _dumps(update)
                await response.write(f"event: {kind}\ndata: {data}\n\n".encode())
            else:
                await response.write(b": idle\n\n")
            kind = "update"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), HEARTBEAT_SECONDS)
    return response


async def send_message(request: web.Request) -> web.Response:
    page = _page(request)
    persona = page.persona(request)
    body = await _json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise PageError(400, "empty_text")
    if len(text) > MAX_MESSAGE_TEXT:
        raise PageError(400, "text_too_long", max=MAX_MESSAGE_TEXT)
    message = await page.user(persona).send_text(text.strip())
    return web.json_response({"message_id": message.message_id}, status=201)


async def press(request: web.Request) -> web.Response:
    """Press an inline button by its place (so two buttons with one label stay apart);
    the page can only press buttons the bot really sent."""
    page = _page(request)
    persona = page.persona(request)
    body = await _json_body(request)
    message_id = _int_field(body, "message_id")
    row, column = _int_field(body, "row"), _int_field(body, "column")
    chat = page.telegram.state.chats[persona.telegram_id]
    message = chat.messages.get(message_id)
    if message is None or not message.from_bot:
        raise PageError(404, "message_gone")
    keyboard = message.inline_keyboard
    if row >= len(keyboard) or column >= len(keyboard[row]):
        raise PageError(404, "button_gone")
    data = keyboard[row][column].get("callback_data")
    if data is None:
        raise PageError(400, "not_a_callback_button")
    query_id = await page.user(persona).press_data(data, message=message)
    return web.json_response({"query_id": query_id}, status=201)


async def pay(request: web.Request) -> web.Response:
    """Pay an invoice the bot sent, in Telegram Stars, as the persona's Telegram client does
    (the bot is asked first and may refuse; the answer says how it went)."""
    page = _page(request)
    persona = page.persona(request)
    body = await _json_body(request)
    message_id = _int_field(body, "message_id")
    chat = page.telegram.state.chats[persona.telegram_id]
    message = chat.messages.get(message_id)
    if message is None or not message.from_bot or message.invoice is None:
        raise PageError(404, "message_gone")
    try:
        outcome = await page.user(persona).pay(message)
    except InvoiceNotPayable:
        raise PageError(409, "invoice_paid") from None
    answer = {"status": outcome.status, "error_message": outcome.error_message}
    return web.json_response(answer, status=201)


async def upload(request: web.Request) -> web.Response:
    """A photo or a document from the visitor, with an optional caption."""
    page = _page(request)
    persona = page.persona(request)
    if not request.content_type.startswith("multipart/"):
        raise PageError(400, "multipart_expected")
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        raise PageError(400, "file_missing")
    as_photo = form.get("as") == "photo"
    limit = MAX_PHOTO_BYTES if as_photo else MAX_DOCUMENT_BYTES
    content = upload.file.read(limit + 1)
    if not content:
        raise PageError(400, "file_empty")
    if len(content) > limit:
        raise PageError(413, "file_too_large", max=limit)
    caption = form.get("caption")
    caption_text = caption.strip() if isinstance(caption, str) else ""
    user = page.user(persona)
    if as_photo:
        if image_size(content) is None:
            raise PageError(400, "not_an_image")
        message = await user.send_photo(content, caption_text or None)
    else:
        name = Path(upload.filename or "file").name or "file"
        message = await user.send_document(name, content, caption_text or None)
    return web.json_response({"message_id": message.message_id}, status=201)


async def download(request: web.Request) -> web.Response:
    """A file attached to a message of that persona's chat (and no other file)."""
    page = _page(request)
    persona = page.persona(request)
    file_id = request.match_info["file_id"]
    chat = page.telegram.state.chats[persona.telegram_id]
    for message in chat.messages.values():
        record = message.document or message.photo
        if record is not None and record.file_id == file_id:
            break
    else:
        raise PageError(404, "file_not_found")
    if record.kind == "photo":
        kind = mimetypes.guess_type(f"x.{_image_extension(record.content)}")[0] or "image/png"
        return web.Response(body=record.content, content_type=kind)
    name = record.name or record.file_id
    return web.Response(
        body=record.content,
        content_type="application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quoted(name)}"},
    )


def _image_extension(content: bytes) -> str:
    if content.startswith(b"\x89PNG"):
        return "png"
    if content[:3] == b"GIF":
        return "gif"
    if content[:4] == b"RIFF":
        return "webp"
    return "jpg"


def _quoted(name: str) -> str:
    return quote(name, safe="")


# -- wiring ---------------------------------------------------------------------------


def build_chat_app(
    telegram: FakeTelegramServer, platform: Platform, personas: Sequence[Persona], api: ApiLink
) -> web.Application:
    """The chat page over ``telegram`` for ``personas`` (each registered as a user of the
    fake server; only the newcomer has never written to the bot). Binds nothing."""
    page = ChatPage(telegram, platform, personas, api)
    app = web.Application(
        middlewares=[_errors_and_headers], client_max_size=MAX_DOCUMENT_BYTES + 64 * 1024
    )
    app[CHAT] = page
    page.feed.start()  # from now: the bot may already be talking while the runner binds

    async def end_streams(app: web.Application) -> None:
        page.feed.stop()

    app.on_shutdown.append(end_streams)
    app.router.add_get("/", index)
    app.router.add_get("/api-docs", api_docs)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.router.add_get("/api/personas", persona_list)
    app.router.add_get("/api/personas/{key}/state", state)
    app.router.add_get("/api/personas/{key}/events", events)
    app.router.add_get("/api/personas/{key}/panel", panel_of)
    app.router.add_post("/api/personas/{key}/messages", send_message)
    app.router.add_post("/api/personas/{key}/press", press)
    app.router.add_post("/api/personas/{key}/files", upload)
    app.router.add_post("/api/personas/{key}/pay", pay)
    app.router.add_get("/api/personas/{key}/files/{file_id}", download)
    return app

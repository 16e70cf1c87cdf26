"""The Bot API methods the fake server implements, acting on :class:`FakeState`.

Each handler receives the call's already validated, natively typed parameters (see
:mod:`sandbox.fake_telegram.api_spec`) and returns the ``result`` of the answer, or raises
:class:`ApiError` with Telegram's own text.
"""

from __future__ import annotations

import json
import mimetypes
import re
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.fake_telegram import limits
from sandbox.fake_telegram.api_spec import UploadedFile
from sandbox.fake_telegram.formatting import FormattedText, format_text
from sandbox.fake_telegram.limits import ApiError
from sandbox.fake_telegram.state import (
    Chat,
    ChatMessage,
    FakeState,
    FileRecord,
    WebhookConfig,
)

Params = dict[str, Any]
Handler = Callable[["BotApi", Params], Awaitable[Any]]

_HANDLERS: dict[str, Handler] = {}
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LONG_POLL_CAP = 50.0
#: parameters of InlineKeyboardButton that are not its action
_BUTTON_NON_ACTION = frozenset({"text", "icon_custom_emoji_id", "style"})
#: methods that send or change messages; they count against the flood limit
SENDING_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendInvoice",
        "copyMessage",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        _HANDLERS[name] = function
        return function

    return register


def implemented_methods() -> frozenset[str]:
    return frozenset(_HANDLERS)


def _json_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def image_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG/JPEG/GIF/WebP/BMP image, or None if it is not one."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(content):
            if content[index] != 0xFF:
                index += 1
                continue
            marker = content[index + 1]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", content[index + 5 : index + 9])
                return int(width), int(height)
            (segment,) = struct.unpack(">H", content[index + 2 : index + 4])
            index += 2 + int(segment)
        return 512, 512
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return 512, 512
    if content.startswith(b"BM") and len(content) >= 26:
        width, height = struct.unpack("<ii", content[18:26])
        return int(width), abs(int(height))
    return None


class BotApi:
    """Executes Bot API calls against a :class:`FakeState`."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        self.callback_answer_timeout = limits.CALLBACK_QUERY_ANSWER_TIMEOUT

    async def call(self, method: str, params: Params) -> Any:
        function = _HANDLERS.get(method)
        if function is None:
            raise ApiError.fake_only(
                f"fake server: method {method} is not implemented by the fake Telegram server"
            )
        return await function(self, params)

    # -- shared checks ------------------------------------------------------------------

    def formatted(
        self, params: Params, text_key: str, mode_key: str, entities_key: str
    ) -> FormattedText:
        return format_text(params.get(text_key, ""), params.get(mode_key), params.get(entities_key))

    def message_text(self, params: Params) -> FormattedText:
        formatted = self.formatted(params, "text", "parse_mode", "entities")
        if not formatted.text:
            raise ApiError(400, limits.MESSAGE_TEXT_EMPTY)
        if len(formatted.text) > limits.MAX_MESSAGE_TEXT:
            raise ApiError(400, limits.MESSAGE_TOO_LONG)
        return formatted

    def caption(self, params: Params) -> FormattedText:
        formatted = self.formatted(params, "caption", "parse_mode", "caption_entities")
        if len(formatted.text) > limits.MAX_CAPTION:
            raise ApiError(400, limits.CAPTION_TOO_LONG)
        return formatted

    def reply_markup(self, params: Params) -> dict[str, Any] | None:
        markup: dict[str, Any] | None = params.get("reply_markup")
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                self.check_inline_button(button)
        return markup

    @staticmethod
    def check_inline_button(button: dict[str, Any]) -> None:
        actions = sorted(key for key in button if key not in _BUTTON_NON_ACTION)
        if not actions:
            raise ApiError(400, limits.TEXT_BUTTONS_UNALLOWED)
        if len(actions) > 1:
            raise ApiError(
                400,
                limits.cant_parse_button(
                    f"fake server: button {button['text']!r} has more than one action field "
                    f"({', '.join(actions)}); Telegram would silently use only one"
                ),
            )
        if "callback_data" in button:
            size = len(button["callback_data"].encode("utf-8"))
            if not 1 <= size <= limits.MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, limits.BUTTON_DATA_INVALID)
        if "url" in button and not re.match(r"(https?|tg)://\S+$", button["url"]):
            raise ApiError(400, limits.BUTTON_URL_INVALID)

    def reply_to(self, chat: Chat, params: Params) -> int | None:
        reply = params.get("reply_parameters")
        message_id = reply["message_id"] if reply else params.get("reply_to_message_id")
        if message_id is None:
            return None
        allow_missing = bool(
            (reply or {}).get("allow_sending_without_reply")
            or params.get("allow_sending_without_reply")
        )
        if message_id not in chat.messages:
            if allow_missing:
                return None
            raise ApiError(400, limits.REPLY_MESSAGE_NOT_FOUND)
        return int(message_id)

    def edited_message(self, params: Params) -> ChatMessage:
        if params.get("inline_message_id") is not None:
            raise ApiError.fake_only(
                "fake server: inline messages are not supported by the fake Telegram server"
            )
        if params.get("chat_id") is None:
            raise ApiError(400, limits.CHAT_ID_EMPTY)
        if params.get("message_id") is None:
            raise ApiError.bad_request("message identifier is not specified")
        chat = self.state.chat(params["chat_id"], writing=True)
        message = chat.messages.get(params["message_id"])
        if message is None:
            raise ApiError(400, limits.MESSAGE_TO_EDIT_NOT_FOUND)
        if not message.from_bot:
            raise ApiError(400, limits.MESSAGE_CANT_BE_EDITED)
        return message

    @staticmethod
    def markup_after_edit(message: ChatMessage, params: Params) -> dict[str, Any] | None:
        """Editing without reply_markup removes the inline keyboard (as in Telegram)."""
        new: dict[str, Any] | None = params.get("reply_markup")
        if new is not None:
            return new
        old = message.reply_markup
        if old is not None and "inline_keyboard" not in old:
            return old  # a reply keyboard belongs to the chat, editing does not touch it
        return None

    @staticmethod
    def ensure_modified(before: ChatMessage, after: dict[str, Any]) -> None:
        unchanged = all(getattr(before, key) == value for key, value in after.items())
        if unchanged:
            raise ApiError(400, limits.MESSAGE_NOT_MODIFIED)

    def input_file(self, value: UploadedFile | str, kind: str) -> FileRecord:
        if isinstance(value, UploadedFile):
            return self.upload(value, kind)
        record = self.state.files.get(value)
        if record is None:
            if value.startswith(("http://", "https://")):
                raise ApiError.fake_only(
                    "fake server: sending files by URL is not supported by the fake Telegram "
                    "server; upload the file or use a file_id"
                )
            raise ApiError(400, limits.WRONG_FILE_ID)
        if record.kind != kind:
            raise ApiError(400, limits.wrong_file_type(record.kind.capitalize(), kind.capitalize()))
        return record

    def upload(self, upload: UploadedFile, kind: str) -> FileRecord:
        content = upload.content
        if not content:
            raise ApiError(400, limits.FILE_EMPTY)
        if kind == "photo":
            if len(content) > limits.MAX_UPLOAD_PHOTO_BYTES:
                raise ApiError(413, limits.REQUEST_ENTITY_TOO_LARGE)
            size = image_size(content)
            if size is None:
                raise ApiError(400, limits.IMAGE_PROCESS_FAILED)
            return self.state.store_file(
                content, "photo", mime_type="image/jpeg", width=size[0], height=size[1]
            )
        if len(content) > limits.MAX_UPLOAD_DOCUMENT_BYTES:
            raise ApiError(413, limits.REQUEST_ENTITY_TOO_LARGE)
        mime_type = mimetypes.guess_type(upload.filename)[0] or upload.content_type
        return self.state.store_file(
            content, "document", file_name=upload.filename, mime_type=mime_type
        )

    def send(self, chat: Chat, params: Params, **fields: Any) -> dict[str, Any]:
        message = self.state.add_message(
            chat,
            from_bot=True,
            reply_markup=self.reply_markup(params),
            reply_to_message_id=self.reply_to(chat, params),
            **fields,
        )
        return self.state.message_to_api(message)

    @staticmethod
    def commands_key(params: Params) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return _json_key(scope), params.get("language_code") or ""


# -- updates and bot info -------------------------------------------------------------


@handler("getMe")
async def get_me(api: BotApi, params: Params) -> Any:
    return {
        **api.state.bot.to_api(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@handler("getUpdates")
async def get_updates(api: BotApi, params: Params) -> Any:
    state = api.state
    if state.webhook is not None:
        raise ApiError(409, limits.WEBHOOK_ACTIVE)
    offset: int | None = params.get("offset")
    limit = min(max(int(params.get("limit", limits.MAX_UPDATES_PER_CALL)), 1), 100)
    timeout = min(max(float(params.get("timeout", 0)), 0.0), _LONG_POLL_CAP)
    allowed = params.get("allowed_updates")
    if allowed is not None:
        state.allowed_updates = frozenset(allowed) or limits.DEFAULT_ALLOWED_UPDATES
    if offset is not None:
        if offset < 0:
            state.updates = state.updates[offset:]
        else:
            state.updates = [u for u in state.updates if u.update_id >= offset]
    state.poll_generation += 1
    generation = state.poll_generation
    state.updates_signal.notify()  # a competing long poll ends with 409 Conflict
    deadline = time.monotonic() + timeout
    while True:
        state.updates = [u for u in state.updates if u.kind in state.allowed_updates]
        if state.updates or state.closing:
            return [update.to_api() for update in state.updates[:limit]]
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return []
        await state.updates_signal.wait(remaining)
        if state.poll_generation != generation:
            raise ApiError(409, limits.GET_UPDATES_CONFLICT)


_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: hosts the fake posts to over plain http (Telegram itself wants https on 443/80/88/8443)
_LOCAL_HOSTS = ("http://127.0.0.1:", "http://localhost:")


@handler("setWebhook")
async def set_webhook(api: BotApi, params: Params) -> Any:
    url = str(params.get("url") or "")
    state = api.state
    if not url:  # an empty url removes the webhook, as deleteWebhook does
        return await delete_webhook(api, params)
    if not url.startswith(("https://", *_LOCAL_HOSTS)):
        raise ApiError.bad_request(limits.WEBHOOK_URL_INVALID)
    secret = params.get("secret_token")
    if secret is not None and not _SECRET_TOKEN_RE.fullmatch(str(secret)):
        raise ApiError.bad_request(limits.SECRET_TOKEN_INVALID)
    allowed = params.get("allowed_updates")
    if allowed is not None:
        state.allowed_updates = frozenset(allowed) or limits.DEFAULT_ALLOWED_UPDATES
    if params.get("drop_pending_updates"):
        state.updates.clear()
    state.webhook = WebhookConfig(
        url=url,
        secret_token=None if secret is None else str(secret),
        max_connections=min(max(int(params.get("max_connections") or 40), 1), 100),
    )
    state.webhook_last_error = None
    state.poll_generation += 1  # a long poll still waiting ends with 409 Conflict
    state.updates_signal.notify()  # and the delivery starts
    return True


@handler("deleteWebhook")
async def delete_webhook(api: BotApi, params: Params) -> Any:
    api.state.webhook = None
    if params.get("drop_pending_updates"):
        api.state.updates.clear()
    api.state.updates_signal.notify()
    return True


@handler("getWebhookInfo")
async def get_webhook_info(api: BotApi, params: Params) -> Any:
    state = api.state
    info: dict[str, Any] = {
        "url": "" if state.webhook is None else state.webhook.url,
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if state.webhook is not None:
        info["max_connections"] = state.webhook.max_connections
        info["allowed_updates"] = sorted(state.allowed_updates)
        if state.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = state.webhook_last_error
    return info


@handler("setMyCommands")
async def set_my_commands(api: BotApi, params: Params) -> Any:
    commands: list[dict[str, Any]] = params["commands"]
    if len(commands) > limits.MAX_COMMANDS:
        raise ApiError(400, limits.BOT_COMMANDS_TOO_MUCH)
    for command in commands:
        if not _COMMAND_RE.fullmatch(command["command"]):
            raise ApiError(400, limits.BOT_COMMAND_INVALID)
        if not 1 <= len(command["description"]) <= limits.MAX_COMMAND_DESCRIPTION:
            raise ApiError(400, limits.BOT_COMMAND_DESCRIPTION_INVALID)
    scope = params.get("scope") or {}
    if "chat_id" in scope:
        api.state.started_chat(scope["chat_id"])
    api.state.commands[api.commands_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


@handler("getMyCommands")
async def get_my_commands(api: BotApi, params: Params) -> Any:
    return api.state.commands.get(api.commands_key(params), [])


@handler("deleteMyCommands")
async def delete_my_commands(api: BotApi, params: Params) -> Any:
    api.state.commands.pop(api.commands_key(params), None)
    return True


@handler("setMyDescription")
async def set_my_description(api: BotApi, params: Params) -> Any:
    api.state.descriptions[("description", params.get("language_code") or "")] = params.get(
        "description", ""
    )
    return True


@handler("getMyDescription")
async def get_my_description(api: BotApi, params: Params) -> Any:
    key = ("description", params.get("language_code") or "")
    return {"description": api.state.descriptions.get(key, "")}


@handler("setMyShortDescription")
async def set_my_short_description(api: BotApi, params: Params) -> Any:
    key = ("short_description", params.get("language_code") or "")
    api.state.descriptions[key] = params.get("short_description", "")
    return True


@handler("getMyShortDescription")
async def get_my_short_description(api: BotApi, params: Params) -> Any:
    key = ("short_description", params.get("language_code") or "")
    return {"short_description": api.state.descriptions.get(key, "")}


@handler("setChatMenuButton")
async def set_chat_menu_button(api: BotApi, params: Params) -> Any:
    button = params.get("menu_button") or {"type": "default"}
    if params.get("chat_id") is None:
        api.state.default_menu_button = button
    else:
        api.state.started_chat(params["chat_id"]).menu_button = button
    return True


@handler("getChatMenuButton")
async def get_chat_menu_button(api: BotApi, params: Params) -> Any:
    if params.get("chat_id") is None:
        return api.state.default_menu_button
    chat = api.state.chat(params["chat_id"])
    return chat.menu_button or api.state.default_menu_button


# -- messages -------------------------------------------------------------------------


@handler("sendMessage")
async def send_message(api: BotApi, params: Params) -> Any:
    chat = api.state.chat(params["chat_id"], writing=True)
    text = api.message_text(params)
    return api.send(chat, params, text=text.text, entities=text.entities)


@handler("sendDocument")
async def send_document(api: BotApi, params: Params) -> Any:
    chat = api.state.chat(params["chat_id"], writing=True)
    caption = api.caption(params)
    record = api.input_file(params["document"], "document")
    return api.send(
        chat, params, document=record, caption=caption.text, caption_entities=caption.entities
    )


@handler("sendPhoto")
async def send_photo(api: BotApi, params: Params) -> Any:
    chat = api.state.chat(params["chat_id"], writing=True)
    caption = api.caption(params)
    record = api.input_file(params["photo"], "photo")
    return api.send(
        chat, params, photo=record, caption=caption.text, caption_entities=caption.entities
    )


@handler("copyMessage")
async def copy_message(api: BotApi, params: Params) -> Any:
    source_chat = api.state.chat(params["from_chat_id"])
    source = source_chat.messages.get(params["message_id"])
    if source is None:
        raise ApiError(400, limits.MESSAGE_TO_COPY_NOT_FOUND)
    chat = api.state.chat(params["chat_id"], writing=True)
    fields: dict[str, Any] = {
        "text": source.text,
        "entities": source.entities,
        "document": source.document,
        "photo": source.photo,
        "caption": source.caption,
        "caption_entities": source.caption_entities,
    }
    if "caption" in params and (source.document or source.photo):
        caption = api.caption(params)
        fields.update(caption=caption.text, caption_entities=caption.entities)
    result = api.send(chat, params, **fields)
    return {"message_id": result["message_id"]}


@handler("editMessageText")
async def edit_message_text(api: BotApi, params: Params) -> Any:
    message = api.edited_message(params)
    if message.document is not None or message.photo is not None or not message.text:
        raise ApiError(400, limits.NO_TEXT_TO_EDIT)
    text = api.message_text(params)
    markup = api.reply_markup(params)
    changes = {
        "text": text.text,
        "entities": text.entities,
        "reply_markup": api.markup_after_edit(message, {"reply_markup": markup}),
    }
    api.ensure_modified(message, changes)
    return api.state.message_to_api(api.state.edit_message(message, **changes))


@handler("editMessageCaption")
async def edit_message_caption(api: BotApi, params: Params) -> Any:
    message = api.edited_message(params)
    if message.document is None and message.photo is None:
        raise ApiError(400, limits.NO_CAPTION_TO_EDIT)
    caption = api.caption(params)
    markup = api.reply_markup(params)
    changes = {
        "caption": caption.text,
        "caption_entities": caption.entities,
        "reply_markup": api.markup_after_edit(message, {"reply_markup": markup}),
    }
    api.ensure_modified(message, changes)
    return api.state.message_to_api(api.state.edit_message(message, **changes))


@handler("editMessageReplyMarkup")
async def edit_message_reply_markup(api: BotApi, params: Params) -> Any:
    message = api.edited_message(params)
    markup = api.reply_markup(params)
    changes = {"reply_markup": api.markup_after_edit(message, {"reply_markup": markup})}
    api.ensure_modified(message, changes)
    return api.state.message_to_api(api.state.edit_message(message, **changes))


@handler("deleteMessage")
async def delete_message(api: BotApi, params: Params) -> Any:
    chat = api.state.chat(params["chat_id"])
    message = chat.messages.get(params["message_id"])
    if message is None:
        raise ApiError(400, limits.MESSAGE_TO_DELETE_NOT_FOUND)
    api.state.delete_message(message)
    return True


@handler("deleteMessages")
async def delete_messages(api: BotApi, params: Params) -> Any:
    chat = api.state.chat(params["chat_id"])
    for message_id in params["message_ids"]:
        message = chat.messages.get(message_id)
        if message is not None:
            api.state.delete_message(message)
    return True


@handler("sendChatAction")
async def send_chat_action(api: BotApi, params: Params) -> Any:
    chat = api.state.chat(params["chat_id"], writing=True)
    if params["action"] not in limits.CHAT_ACTIONS:
        raise ApiError(400, limits.WRONG_CHAT_ACTION)
    chat.chat_actions.append(params["action"])
    return True


@handler("answerCallbackQuery")
async def answer_callback_query(api: BotApi, params: Params) -> Any:
    text: str = params.get("text", "")
    if len(text) > limits.MAX_CALLBACK_ANSWER_TEXT:
        raise ApiError(400, limits.CALLBACK_ANSWER_TOO_LONG)
    query = api.state.callback_queries.get(params["callback_query_id"])
    if (
        query is None
        or query.answered
        or time.monotonic() - query.created_at > api.callback_answer_timeout
    ):
        raise ApiError(400, limits.QUERY_TOO_OLD)
    query.answered = True
    query.answer_text = text or None
    query.show_alert = bool(params.get("show_alert"))
    query.url = params.get("url")
    api.state.notify(api.state.chats.get(query.chat_id))
    return True


# -- files ----------------------------------------------------------------------------


@handler("getFile")
async def get_file(api: BotApi, params: Params) -> Any:
    record = api.state.files.get(params["file_id"])
    if record is None:
        raise ApiError(400, limits.INVALID_FILE_ID)
    if record.size > limits.MAX_DOWNLOAD_BYTES:
        raise ApiError(400, limits.FILE_TOO_BIG)
    return record.to_file()

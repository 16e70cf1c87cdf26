"""Telegram's limits and Telegram's own error texts.

Texts that Telegram really returns are spelled exactly as Telegram spells them, so
that code which matches on them (aiogram's ``TelegramBadRequest.message``) behaves the
same against the fake and against the real Bot API. Texts that only the fake server
produces (it is stricter than Telegram in a few places) say ``fake server`` in them.
"""

from __future__ import annotations

from typing import Any

MAX_MESSAGE_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_TEXT = 200
MAX_COMMANDS = 100
MAX_COMMAND_LENGTH = 32
MAX_COMMAND_DESCRIPTION = 256
MAX_UPLOAD_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_UPLOAD_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_UPDATES_PER_CALL = 100
#: Telegram stops accepting answers to a callback query after roughly this many seconds.
CALLBACK_QUERY_ANSWER_TIMEOUT = 15.0

MESSAGE_TEXT_EMPTY = "Bad Request: message text is empty"
MESSAGE_TOO_LONG = "Bad Request: message is too long"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
CALLBACK_ANSWER_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
MESSAGE_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
CHAT_NOT_FOUND = "Bad Request: chat not found"
CHAT_ID_EMPTY = "Bad Request: chat_id is empty"
MESSAGE_TO_EDIT_NOT_FOUND = "Bad Request: message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "Bad Request: message to delete not found"
MESSAGE_TO_COPY_NOT_FOUND = "Bad Request: message to copy not found"
REPLY_MESSAGE_NOT_FOUND = "Bad Request: message to be replied not found"
MESSAGE_CANT_BE_EDITED = "Bad Request: message can't be edited"
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
NO_CAPTION_TO_EDIT = "Bad Request: there is no caption in the message to edit"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
INVALID_FILE_ID = "Bad Request: invalid file_id"
FILE_TOO_BIG = "Bad Request: file is too big"
FILE_EMPTY = "Bad Request: file must be non-empty"
IMAGE_PROCESS_FAILED = "Bad Request: IMAGE_PROCESS_FAILED"
WRONG_CHAT_ACTION = "Bad Request: wrong parameter action in request"
UNSUPPORTED_PARSE_MODE = "Bad Request: unsupported parse_mode"
BOT_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
BOT_COMMAND_DESCRIPTION_INVALID = "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"
BOT_COMMANDS_TOO_MUCH = "Bad Request: BOT_COMMANDS_TOO_MUCH"
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)
BOT_BLOCKED = "Forbidden: bot was blocked by the user"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
UNAUTHORIZED = "Unauthorized"
NOT_FOUND = "Not Found"
REQUEST_ENTITY_TOO_LARGE = "Request Entity Too Large"
GET_UPDATES_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
WEBHOOK_URL_INVALID = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
SECRET_TOKEN_INVALID = "Bad Request: secret token contains unallowed characters"

#: ``sendChatAction`` actions Telegram accepts.
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

#: Update types delivered when ``allowed_updates`` was never specified (or is empty).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)


def too_many_requests(retry_after: int) -> str:
    return f"Too Many Requests: retry after {retry_after}"


def cant_parse_entities(detail: str) -> str:
    return f"Bad Request: can't parse entities: {detail}"


def cant_parse_button(detail: str) -> str:
    return f"Bad Request: can't parse inline keyboard button: {detail}"


def wrong_file_type(actual: str, expected: str) -> str:
    return f"Bad Request: can't use file of type {actual} as {expected}"


#: Default description of an injected failure, by HTTP status.
DEFAULT_FAILURE_TEXTS: dict[int, str] = {
    400: "Bad Request: fake server: injected failure",
    401: UNAUTHORIZED,
    403: BOT_BLOCKED,
    404: NOT_FOUND,
    409: GET_UPDATES_CONFLICT,
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    @classmethod
    def bad_request(cls, description: str) -> ApiError:
        if not description.startswith("Bad Request: "):
            description = f"Bad Request: {description}"
        return cls(400, description)

    @classmethod
    def fake_only(cls, detail: str) -> ApiError:
        """A 400 the real Telegram would not give; the fake is stricter on purpose."""
        return cls(400, f"Bad Request: {detail}")

    @classmethod
    def flood(cls, retry_after: int) -> ApiError:
        return cls(429, too_many_requests(retry_after), retry_after=retry_after)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body

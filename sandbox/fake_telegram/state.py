"""What the fake Telegram knows: users, private chats, messages, files, pending updates.

Messages are immutable snapshots (:class:`ChatMessage`); an edit replaces the snapshot
and records an event, so a reader can wait for "the next new or edited bot message".
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sandbox.fake_telegram.formatting import Entity, to_html
from sandbox.fake_telegram.limits import (
    BOT_BLOCKED,
    CANT_INITIATE,
    CHAT_NOT_FOUND,
    DEFAULT_ALLOWED_UPDATES,
    ApiError,
)

if TYPE_CHECKING:
    from sandbox.fake_telegram.payments import Invoice, PaymentsState


class Signal:
    """Wakes every waiter on each :meth:`notify` (no lock needed, no polling)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait for the next notification or ``timeout`` seconds, whichever comes first."""
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), timeout=max(timeout, 0.0))
        except TimeoutError:
            pass


@dataclass(frozen=True)
class UserInfo:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
        }
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                result[key] = value
        return result


@dataclass(frozen=True)
class FileRecord:
    """A file known to the fake Telegram (uploaded by the bot or by a user)."""

    file_id: str
    file_unique_id: str
    file_path: str
    kind: str  # "document" | "photo"
    content: bytes
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def name(self) -> str:
        """The file name ("" for photos and nameless documents)."""
        return self.file_name or ""

    def to_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def to_document(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name is not None:
            result["file_name"] = self.file_name
        if self.mime_type is not None:
            result["mime_type"] = self.mime_type
        return result

    def to_photo_sizes(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "width": self.width,
                "height": self.height,
            }
        ]


@dataclass(frozen=True)
class ChatMessage:
    """One message of a private chat as it is now (a new snapshot replaces it on edit).

    ``text`` and ``caption`` are plain text ("" when absent); ``entities`` and
    ``caption_entities`` carry the formatting; ``html``/``caption_html`` render it back.
    """

    message_id: int
    chat_id: int
    date: int
    from_bot: bool
    sender_id: int
    text: str = ""
    entities: tuple[Entity, ...] = ()
    caption: str = ""
    caption_entities: tuple[Entity, ...] = ()
    reply_markup: dict[str, Any] | None = None
    document: FileRecord | None = None
    photo: FileRecord | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    edit_date: int | None = None
    #: an invoice the bot sent (``sendInvoice``)
    invoice: Invoice | None = None
    #: service messages of a payment in Stars: ``SuccessfulPayment`` / ``RefundedPayment``
    successful_payment: dict[str, Any] | None = None
    refunded_payment: dict[str, Any] | None = None

    @property
    def content(self) -> str:
        """The text, or the caption of a document/photo."""
        return self.text or self.caption

    @property
    def html(self) -> str:
        return to_html(self.text, self.entities)

    @property
    def caption_html(self) -> str:
        return to_html(self.caption, self.caption_entities)

    @property
    def codes(self) -> list[str]:
        """Texts of monospace (``code``/``pre``) entities, in order."""
        return [
            entity.text
            for entity in (*self.entities, *self.caption_entities)
            if entity.type in ("code", "pre")
        ]

    def entity_texts(self, entity_type: str) -> list[str]:
        return [
            entity.text
            for entity in (*self.entities, *self.caption_entities)
            if entity.type == entity_type
        ]

    @property
    def inline_keyboard(self) -> list[list[dict[str, Any]]]:
        if self.reply_markup is None:
            return []
        rows: list[list[dict[str, Any]]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def button_rows(self) -> list[list[str]]:
        """Labels of the inline keyboard, row by row."""
        return [[button["text"] for button in row] for row in self.inline_keyboard]

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline keyboard, flattened."""
        return [label for row in self.button_rows for label in row]

    @property
    def reply_buttons(self) -> list[str]:
        """Labels of the reply keyboard this message set (empty for inline/none)."""
        if self.reply_markup is None:
            return []
        rows = self.reply_markup.get("keyboard", [])
        return [button["text"] for row in rows for button in row]

    def find_button(self, label: str) -> dict[str, Any] | None:
        for row in self.inline_keyboard:
            for button in row:
                if button["text"] == label:
                    return button
        return None

    def callback_data(self, label: str) -> str | None:
        button = self.find_button(label)
        return None if button is None else button.get("callback_data")

    def short(self) -> str:
        """A one-line description for error messages."""
        content = self.content.replace("\n", " ")
        if len(content) > 60:
            content = content[:57] + "..."
        extra = f" buttons={self.buttons}" if self.buttons else ""
        attached = " [document]" if self.document else " [photo]" if self.photo else ""
        if self.invoice is not None:
            attached = f" [invoice {self.invoice.total_amount} {self.invoice.currency}]"
        return (
            f"#{self.message_id}{' (edited)' if self.edited else ''}: {content!r}{attached}{extra}"
        )


@dataclass
class Chat:
    """A private chat between the bot and one user (chat id == user id)."""

    user: UserInfo
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    #: bot message snapshots in the order they appeared or changed (new or edited)
    events: list[ChatMessage] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    blocked: bool = False
    #: the user has written to the bot (a message or a button press): until then Telegram
    #: has no chat for the bot to write to or to set a menu in
    started: bool = False
    chat_actions: list[str] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    menu_button: dict[str, Any] | None = None
    next_message_id: int = 1
    #: notified with FakeState.changed for changes in this chat only: a user waiting for
    #: the bot wakes for its own chat, not for every other user's (hundreds in a bench)
    changed: Signal = field(default_factory=Signal, repr=False, compare=False)

    @property
    def id(self) -> int:
        return self.user.id

    def to_api(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "type": "private",
            "first_name": self.user.first_name,
        }
        if self.user.last_name is not None:
            result["last_name"] = self.user.last_name
        if self.user.username is not None:
            result["username"] = self.user.username
        return result


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass(frozen=True)
class WebhookConfig:
    """What ``setWebhook`` set: where updates are posted and the secret header they carry."""

    url: str
    secret_token: str | None
    max_connections: int = 40


@dataclass(frozen=True)
class PendingUpdate:
    update_id: int
    kind: str
    payload: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        return {"update_id": self.update_id, self.kind: self.payload}


class FakeState:
    """All state of one fake bot: its chats, files and update queue."""

    def __init__(self, bot: UserInfo) -> None:
        self.bot = bot
        self.chats: dict[int, Chat] = {}
        self.files: dict[str, FileRecord] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.updates: list[PendingUpdate] = []
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.descriptions: dict[tuple[str, str], str] = {}
        self.default_menu_button: dict[str, Any] = {"type": "commands"}
        #: notified when an update is enqueued (and on shutdown / competing polls)
        self.updates_signal = Signal()
        #: notified when a message appears, is edited or deleted, or a query is answered
        self.changed = Signal()
        #: called with the chat's id (None: no chat) on each of those changes, at once and
        #: on the event loop: how the sandbox's chat page learns of them without polling
        self.watchers: list[Callable[[int | None], None]] = []
        self.closing = False
        self.poll_generation = 0
        #: set by ``setWebhook``: updates are then posted to it, and getUpdates is refused
        self.webhook: WebhookConfig | None = None
        #: the last failed delivery (``getWebhookInfo``'s last_error_date / _message)
        self.webhook_last_error: tuple[int, str] | None = None
        from sandbox.fake_telegram.payments import PaymentsState

        #: invoices paid, pre-checkout queries, Stars payments and refunds
        self.payments: PaymentsState = PaymentsState()
        self._update_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._query_ids = itertools.count(1)

    # -- chats and users ----------------------------------------------------------------

    def add_user(self, user: UserInfo) -> Chat:
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = Chat(user=user)
        else:
            chat.user = user
        return chat

    def chat(self, chat_id: int | str, *, writing: bool = False) -> Chat:
        """The chat ``chat_id`` or Telegram's ``chat not found``; if writing: 403 when the
        user never started the bot or blocked it."""
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise ApiError(400, CHAT_NOT_FOUND)
        if writing and not chat.started:
            raise ApiError(403, CANT_INITIATE)
        if writing and chat.blocked:
            raise ApiError(403, BOT_BLOCKED)
        return chat

    def started_chat(self, chat_id: int | str) -> Chat:
        """The chat ``chat_id`` of a user who wrote to the bot, else ``chat not found``
        (``setMyCommands`` for a ``BotCommandScopeChat``, a chat's menu button)."""
        chat = self.chat(chat_id)
        if not chat.started:
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat

    # -- messages -----------------------------------------------------------------------

    def add_message(self, chat: Chat, *, from_bot: bool, **fields: Any) -> ChatMessage:
        message = ChatMessage(
            message_id=chat.next_message_id,
            chat_id=chat.id,
            date=int(time.time()),
            from_bot=from_bot,
            sender_id=self.bot.id if from_bot else chat.id,
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if from_bot:
            chat.events.append(message)
            markup = message.reply_markup or {}
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self.notify(chat)
        return message

    def edit_message(self, message: ChatMessage, **changes: Any) -> ChatMessage:
        edited = replace(message, edited=True, edit_date=int(time.time()), **changes)
        chat = self.chats[message.chat_id]
        chat.messages[message.message_id] = edited
        chat.events.append(edited)
        self.notify(chat)
        return edited

    def delete_message(self, message: ChatMessage) -> None:
        chat = self.chats[message.chat_id]
        del chat.messages[message.message_id]
        chat.deleted.append(message.message_id)
        self.notify(chat)

    def notify(self, chat: Chat | None) -> None:
        """Something changed in ``chat`` (``None``: in no chat the fake knows)."""
        if chat is not None:
            chat.changed.notify()
        self.changed.notify()
        for watcher in self.watchers:
            watcher(None if chat is None else chat.id)

    def message_to_api(self, message: ChatMessage) -> dict[str, Any]:
        chat = self.chats[message.chat_id]
        sender = self.bot if message.from_bot else chat.user
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": sender.to_api(),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.reply_to_message_id is not None:
            replied = chat.messages.get(message.reply_to_message_id)
            if replied is not None:
                result["reply_to_message"] = self.message_to_api(
                    replace(replied, reply_to_message_id=None)
                )
        if message.text:
            result["text"] = message.text
            if message.entities:
                result["entities"] = [entity.to_api() for entity in message.entities]
        if message.document is not None:
            result["document"] = message.document.to_document()
        if message.photo is not None:
            result["photo"] = message.photo.to_photo_sizes()
        if message.invoice is not None:
            result["invoice"] = message.invoice.to_api()
        if message.successful_payment is not None:
            result["successful_payment"] = message.successful_payment
        if message.refunded_payment is not None:
            result["refunded_payment"] = message.refunded_payment
        if message.caption:
            result["caption"] = message.caption
            if message.caption_entities:
                result["caption_entities"] = [e.to_api() for e in message.caption_entities]
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            result["reply_markup"] = message.reply_markup
        return result

    # -- files --------------------------------------------------------------------------

    def store_file(
        self,
        content: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> FileRecord:
        number = next(self._file_ids)
        folder, extension = ("photos", ".jpg") if kind == "photo" else ("documents", "")
        if kind == "document" and file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1]
        record = FileRecord(
            file_id=f"fake-{kind}-{number:06d}",
            file_unique_id=hashlib.sha256(content).hexdigest()[:16],
            file_path=f"{folder}/file_{number}{extension}",
            kind=kind,
            content=content,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[record.file_id] = record
        self.files_by_path[record.file_path] = record
        return record

    # -- updates and callback queries ---------------------------------------------------

    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> PendingUpdate:
        update = PendingUpdate(next(self._update_ids), kind, payload)
        self.updates.append(update)
        self.updates_signal.notify()
        return update

    def new_callback_query(
        self, chat: Chat, message: ChatMessage, data: str
    ) -> CallbackQueryRecord:
        query = CallbackQueryRecord(
            id=f"{chat.id}{next(self._query_ids):08d}",
            user_id=chat.id,
            chat_id=chat.id,
            message_id=message.message_id,
            data=data,
            created_at=time.monotonic(),
        )
        self.callback_queries[query.id] = query
        self.enqueue_update(
            "callback_query",
            {
                "id": query.id,
                "from": chat.user.to_api(),
                "message": self.message_to_api(message),
                "chat_instance": str(chat.id),
                "data": data,
            },
        )
        return query

    def unanswered_callback_queries(self) -> list[CallbackQueryRecord]:
        return [query for query in self.callback_queries.values() if not query.answered]

    def iter_bot_messages(self, chat: Chat) -> Iterator[ChatMessage]:
        return (message for message in chat.messages.values() if message.from_bot)

"""A Telegram user talking to the bot: what tests (and the local sandbox) drive.

A user sends text, documents and photos, presses inline buttons by their label, and
reads or waits for what the bot sent back. Every action enqueues an update the bot
receives through ``getUpdates``, exactly as from Telegram.

Waiting is relative to a *mark* (a position in the chat's stream of new and edited bot
messages). By default a wait looks at what the bot sent after the user's last action,
so ``await user.press("Confirm"); await user.wait_for_message()`` is "the reply to
pressing Confirm", with no race against a fast bot.
"""

from __future__ import annotations

import mimetypes
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sandbox.fake_telegram.formatting import Entity, parse_html, utf16_len
from sandbox.fake_telegram.methods import image_size
from sandbox.fake_telegram.payments import PaymentOutcome, pay_invoice, payable_invoice
from sandbox.fake_telegram.state import (
    CallbackQueryRecord,
    Chat,
    ChatMessage,
    FakeState,
    UserInfo,
)

MessagePredicate = Callable[[ChatMessage], bool]
DEFAULT_TIMEOUT = 5.0


class ButtonNotFoundError(LookupError):
    """No bot message has a button with the requested label."""


class FakeUser:
    """One user and their private chat with the bot (chat id == user id)."""

    def __init__(self, state: FakeState, chat: Chat) -> None:
        self._state = state
        self._chat = chat
        self._last_action_mark = 0

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.info.first_name!r})"

    @property
    def id(self) -> int:
        return self._chat.id

    @property
    def chat_id(self) -> int:
        return self._chat.id

    @property
    def info(self) -> UserInfo:
        return self._chat.user

    # -- reading the chat ---------------------------------------------------------------

    @property
    def messages(self) -> list[ChatMessage]:
        """All bot messages in the chat (current state, deleted ones left out), in order."""
        return list(self._state.iter_bot_messages(self._chat))

    @property
    def history(self) -> list[ChatMessage]:
        """All messages in the chat, the user's included, in order."""
        return list(self._chat.messages.values())

    @property
    def last_message(self) -> ChatMessage | None:
        """The newest bot message, or None."""
        messages = self.messages
        return messages[-1] if messages else None

    @property
    def deleted_message_ids(self) -> list[int]:
        return list(self._chat.deleted)

    @property
    def chat_actions(self) -> list[str]:
        """Chat actions (``typing``, ``upload_document``...) the bot sent, in order."""
        return list(self._chat.chat_actions)

    @property
    def is_blocked(self) -> bool:
        return self._chat.blocked

    @property
    def chat_started(self) -> bool:
        """The user has written to the bot: only then may the bot write to them."""
        return self._chat.started

    @chat_started.setter
    def chat_started(self, value: bool) -> None:
        self._chat.started = value

    def mark(self) -> int:
        """The current position in the stream of new/edited bot messages (for ``after=``)."""
        return len(self._chat.events)

    def current(self, message: ChatMessage) -> ChatMessage:
        """The current state of ``message`` (after edits); raises if it was deleted."""
        current = self._chat.messages.get(message.message_id)
        if current is None:
            raise LookupError(f"message #{message.message_id} was deleted")
        return current

    async def reply_keyboard_labels(self) -> list[str]:
        """Labels of the reply keyboard the user currently sees (empty if none)."""
        markup = self._chat.reply_keyboard
        if markup is None:
            return []
        return [button["text"] for row in markup["keyboard"] for button in row]

    async def download(self, message: ChatMessage) -> bytes:
        """Bytes of the document (or photo) attached to a message."""
        record = message.document or message.photo
        if record is None:
            raise ValueError(f"message {message.short()} has no document or photo")
        return record.content

    # -- acting -------------------------------------------------------------------------

    async def send_text(self, text: str) -> ChatMessage:
        """Send a text message; a leading ``/command`` gets a bot_command entity."""
        entities: tuple[Entity, ...] = ()
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            entities = (Entity("bot_command", 0, utf16_len(command), text=command),)
        if self._chat.reply_keyboard and self._chat.reply_keyboard.get("one_time_keyboard"):
            self._chat.reply_keyboard = None
        return self._send(text=text, entities=entities)

    async def send_html(self, source: str) -> ChatMessage:
        """Send a formatted text message, written as Bot API HTML (``<b>``, ``<a href>``…):
        what a Telegram client sends when the user formats text."""
        formatted = parse_html(source)
        return self._send(text=formatted.text, entities=tuple(formatted.entities))

    async def press_reply(self, label: str) -> ChatMessage:
        """Tap a button of the current reply keyboard (sends its label as text)."""
        labels = await self.reply_keyboard_labels()
        if label not in labels:
            raise ButtonNotFoundError(
                f"{self!r}: no reply keyboard button {label!r}; current labels: {labels}"
            )
        return await self.send_text(label)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        caption: str | None = None,
        *,
        mime_type: str | None = None,
    ) -> ChatMessage:
        mime_type = mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        record = self._state.store_file(
            content, "document", file_name=filename, mime_type=mime_type
        )
        return self._send(document=record, caption=caption or "")

    async def send_photo(self, content: bytes, caption: str | None = None) -> ChatMessage:
        width, height = image_size(content) or (100, 100)
        record = self._state.store_file(
            content, "photo", mime_type="image/jpeg", width=width, height=height
        )
        return self._send(photo=record, caption=caption or "")

    async def press(self, label: str, *, message: ChatMessage | None = None) -> str:
        """Press the inline button labelled exactly ``label``; return the callback query id.

        The button is looked up on ``message`` (its current state) or else on the newest
        bot message that has such a button.
        """
        target = self._message_with_button(label, message)
        button = target.find_button(label)
        assert button is not None
        if "callback_data" not in button:
            actions = {k: v for k, v in button.items() if k != "text"}
            raise ButtonNotFoundError(
                f"{self!r}: button {label!r} on {target.short()} is not a callback button: "
                f"{actions}"
            )
        return self._callback(target, button["callback_data"])

    async def press_data(self, data: str, *, message: ChatMessage | None = None) -> str:
        """Send a callback query with arbitrary ``data`` (a forged press, for security tests).

        It appears to come from ``message`` (default: the newest bot message).
        """
        target = self.current(message) if message is not None else self.last_message
        if target is None:
            raise LookupError(f"{self!r}: the bot has sent no message to press a button on")
        return self._callback(target, data)

    async def pay(self, message: ChatMessage | None = None, **tampered: Any) -> PaymentOutcome:
        """Press Pay on an invoice (``message``, default: the newest unpaid one the bot
        sent) and confirm, as a Telegram client does: the bot gets a pre-checkout query and
        has until the deadline to answer; on ``ok`` the payment is made and the bot gets
        the ``successful_payment`` message. Raises ``InvoiceNotPayable`` for a message
        without an invoice or one paid already. ``tampered`` fields of the invoice
        (``total_amount=1``, ``payload=…``): what a modified client would claim."""
        target = self.current(message) if message is not None else self._newest_invoice()
        self._last_action_mark = self.mark()
        self._chat.started = True
        forged = None
        if tampered:
            forged = replace(payable_invoice(self._state, self._chat, target), **tampered)
        return await pay_invoice(self._state, self._chat, target, tampered=forged)

    def _newest_invoice(self) -> ChatMessage:
        paid = self._state.payments.paid_invoices
        for candidate in reversed(self.messages):
            if candidate.invoice is not None and (self.id, candidate.message_id) not in paid:
                return candidate
        raise ButtonNotFoundError(f"{self!r}: the bot has sent no unpaid invoice")

    # -- waiting ------------------------------------------------------------------------

    async def wait_for_message(
        self,
        predicate: MessagePredicate | None = None,
        *,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> ChatMessage:
        """The first new or edited bot message after ``after`` (default: the user's last
        action) that matches ``predicate``; waits up to ``timeout`` seconds for it."""
        (message,) = await self.wait_for_messages(1, predicate, after=after, timeout=timeout)
        return message

    async def wait_for_messages(
        self,
        count: int,
        predicate: MessagePredicate | None = None,
        *,
        after: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> list[ChatMessage]:
        """The first ``count`` matching new or edited bot messages after ``after``."""
        start = self._last_action_mark if after is None else after
        deadline = time.monotonic() + timeout
        while True:
            events = self._chat.events[start:]
            matches = [m for m in events if predicate is None or predicate(m)]
            if len(matches) >= count:
                return matches[:count]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = "\n  ".join(m.short() for m in events) or "(none)"
                wanted = "message" if count == 1 else f"{count} messages"
                raise TimeoutError(
                    f"{self!r}: no bot {wanted} matching {_describe(predicate)} within "
                    f"{timeout}s (found {len(matches)}); bot messages since mark {start}:\n  "
                    f"{seen}"
                )
            await self._chat.changed.wait(remaining)

    def callback_answer(self, query_id: str) -> CallbackQueryRecord:
        """The callback query ``query_id``: ``.answered``, ``.answer_text``, ``.show_alert``."""
        return self._state.callback_queries[query_id]

    async def wait_for_callback_answer(
        self,
        query_id: str,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> CallbackQueryRecord:
        """Wait until the bot answers the callback query ``query_id``."""
        query = self._state.callback_queries[query_id]
        deadline = time.monotonic() + timeout
        while not query.answered:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"{self!r}: the bot did not answer callback query {query_id} "
                    f"(data={query.data!r}) within {timeout}s"
                )
            await self._chat.changed.wait(remaining)
        return query

    # -- internals ----------------------------------------------------------------------

    def _send(self, **fields: Any) -> ChatMessage:
        self._last_action_mark = self.mark()
        self._chat.started = True
        message = self._state.add_message(self._chat, from_bot=False, **fields)
        self._state.enqueue_update("message", self._state.message_to_api(message))
        return message

    def _callback(self, message: ChatMessage, data: str) -> str:
        self._last_action_mark = self.mark()
        self._chat.started = True
        return self._state.new_callback_query(self._chat, message, data).id

    def _message_with_button(self, label: str, message: ChatMessage | None) -> ChatMessage:
        if message is not None:
            current = self.current(message)
            if current.find_button(label) is None:
                raise ButtonNotFoundError(
                    f"{self!r}: no button {label!r} on {current.short()}; "
                    f"its buttons: {current.buttons}"
                )
            return current
        with_keyboards = [m for m in reversed(self.messages) if m.buttons]
        for candidate in with_keyboards:
            if candidate.find_button(label) is not None:
                return candidate
        available = "; ".join(f"#{m.message_id}: {m.buttons}" for m in with_keyboards[:5])
        raise ButtonNotFoundError(
            f"{self!r}: no bot message has a button {label!r}. "
            f"Buttons on the newest messages: {available or '(no inline keyboards)'}"
        )


def _describe(predicate: MessagePredicate | None) -> str:
    if predicate is None:
        return "(any)"
    return getattr(predicate, "__qualname__", repr(predicate))

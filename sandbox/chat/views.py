"""What the page shows of a persona's chat, as JSON: messages, keyboards, menu, log.

A :class:`ChatView` belongs to one open stream (one browser tab): it remembers what it sent
and answers only what changed since (:meth:`ChatView.changes`), so an edited message is
replaced in place and a deleted one removed, without sending the whole chat again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.chat.feed import ChatFeed
from sandbox.chat.render import message_html
from sandbox.fake_telegram import ChatMessage, FakeTelegramServer, FileRecord
from sandbox.personas import Persona


def file_url(persona: Persona, record: FileRecord) -> str:
    return f"/api/personas/{persona.key}/files/{record.file_id}"


def _button(button: dict[str, Any]) -> dict[str, Any]:
    if button.get("pay"):
        return {"text": button["text"], "kind": "pay"}
    if "callback_data" in button:
        return {"text": button["text"], "kind": "callback"}
    if "url" in button:
        return {"text": button["text"], "kind": "url", "url": button["url"]}
    return {"text": button["text"], "kind": "other"}


def message_view(persona: Persona, message: ChatMessage, paid: bool = False) -> dict[str, Any]:
    """One message as the page draws it (its HTML is escaped and safe to insert); ``paid``:
    its invoice was paid (the page then shows it paid, without the Pay button)."""
    view: dict[str, Any] = {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "date": message.date,
        "edited": message.edited,
        "html": message_html(message.text, message.entities)
        if message.text
        else message_html(message.caption, message.caption_entities),
        "buttons": [[_button(b) for b in row] for row in message.inline_keyboard],
        "reply_to": message.reply_to_message_id,
        "photo": None,
        "document": None,
        "invoice": None,
    }
    for service, mark in ((message.successful_payment, "✅"), (message.refunded_payment, "↩️")):
        if service is not None:  # Telegram's service message about a payment in Stars
            view["html"] = f"{mark} ⭐{int(service['total_amount'])}"
    if message.invoice is not None:
        invoice = message.invoice
        view["invoice"] = {
            "title": invoice.title,
            "description": invoice.description,
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
            "paid": paid,
        }
        if not view["buttons"]:  # Telegram draws its own Pay button
            view["buttons"] = [[{"text": f"Pay ⭐{invoice.total_amount}", "kind": "pay"}]]
    if message.photo is not None:
        view["photo"] = {
            "url": file_url(persona, message.photo),
            "width": message.photo.width,
            "height": message.photo.height,
        }
    if message.document is not None:
        view["document"] = {
            "url": file_url(persona, message.document),
            "name": message.document.name or message.document.file_id,
            "size": message.document.size,
        }
    return view


def reply_keyboard_view(markup: dict[str, Any] | None) -> list[list[str]] | None:
    if markup is None:
        return None
    return [[button["text"] for button in row] for row in markup.get("keyboard", [])]


@dataclass
class ChatView:
    """What one tab has been sent of one persona's chat."""

    persona: Persona
    telegram: FakeTelegramServer
    feed: ChatFeed
    _messages: dict[int, ChatMessage] = field(default_factory=dict)
    _calls: int = 0
    _refused: int = 0
    _queries: set[str] = field(default_factory=set)
    _extras: dict[str, Any] = field(default_factory=dict)
    _paid_sent: set[int] = field(default_factory=set)

    def snapshot(self) -> dict[str, Any]:
        """Everything, for a tab that just opened (old button answers are not toasted)."""
        self._messages.clear()
        self._paid_sent.clear()
        self._calls = self._refused = 0
        self._extras.clear()
        self._queries = {q.id for q in self._answered_queries()}
        return self.changes()

    def changes(self) -> dict[str, Any]:
        """What changed since the last call (keys with nothing new are left out)."""
        chat = self.telegram.state.chats[self.persona.telegram_id]
        update: dict[str, Any] = {}
        current = dict(chat.messages)
        chat_id = self.persona.telegram_id
        paid = {m for c, m in self.telegram.payments.paid_invoices if c == chat_id}
        changed = [
            m
            for i, m in current.items()
            if self._messages.get(i) is not m or (i in paid and i not in self._paid_sent)
        ]
        if changed:
            update["messages"] = [
                message_view(self.persona, m, m.message_id in paid) for m in changed
            ]
            self._paid_sent.update(m.message_id for m in changed if m.message_id in paid)
        deleted = [i for i in self._messages if i not in current]
        if deleted:
            update["deleted"] = deleted
        self._messages = current
        log = self.feed.log(self.persona.telegram_id)
        if len(log.calls) > self._calls:
            update["calls"] = [c.to_json() for c in log.calls[self._calls :]]
            self._calls = len(log.calls)
        if len(log.refused) > self._refused:
            update["refused"] = [r.to_json() for r in log.refused[self._refused :]]
            self._refused = len(log.refused)
        toasts = [q for q in self._answered_queries() if q.id not in self._queries]
        if toasts:
            self._queries.update(q.id for q in toasts)
            update["toasts"] = [
                {"text": q.answer_text, "alert": q.show_alert} for q in toasts if q.answer_text
            ]
        extras = {
            "reply_keyboard": reply_keyboard_view(chat.reply_keyboard),
            "commands": self.telegram.commands_for(self.persona.telegram_id),
            "started": chat.started,
        }
        for key, value in extras.items():
            if key not in self._extras or self._extras[key] != value:
                update[key] = self._extras[key] = value
        return update

    def _answered_queries(self) -> list[Any]:
        chat_id = self.persona.telegram_id
        return [
            query
            for query in self.telegram.state.callback_queries.values()
            if query.chat_id == chat_id and query.answered
        ]

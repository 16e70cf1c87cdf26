"""What the chat page learns from the fake Telegram server as it happens.

The feed watches the server (``FakeState.watchers`` for messages, edits, deletions and
answered button presses; ``FakeTelegramServer.call_watchers`` for every call the bot makes)
and keeps, per chat, the "what Telegram saw" log and the calls Telegram refused. Each
change replaces the chat's :class:`asyncio.Event`, so every open tab of that chat (one
server-sent event stream each) wakes at once; nothing polls.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sandbox.fake_telegram import AnsweredCall, FakeTelegramServer
from sandbox.fake_telegram.api_spec import UploadedFile

#: calls about every chat at once (the default command menus): every chat's menu may change
_EVERY_CHAT = frozenset({"setMyCommands", "deleteMyCommands", "setChatMenuButton"})
#: calls the log leaves out: the bot asks for updates all the time, about no chat
_UNLOGGED = frozenset({"getUpdates"})
_TEXT_PREVIEW = 80


@dataclass(frozen=True)
class LoggedCall:
    """One line of "what Telegram saw": a call of the bot about one chat."""

    index: int
    method: str
    params: str  # its key parameters, in one line
    error_code: int | None = None
    description: str | None = None
    injected: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "method": self.method,
            "params": self.params,
            "error": None
            if self.error_code is None
            else {
                "code": self.error_code,
                "description": self.description,
                "injected": self.injected,
            },
        }


@dataclass(frozen=True)
class RefusedCall:
    """A call Telegram refused, shown as a red line in the chat after message ``after``."""

    call: LoggedCall
    after: int  # the id of the chat's newest message when it was refused (0: none)

    def to_json(self) -> dict[str, Any]:
        return {"after": self.after, **self.call.to_json()}


@dataclass
class ChatLog:
    calls: list[LoggedCall] = field(default_factory=list)
    refused: list[RefusedCall] = field(default_factory=list)


def _short(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return f"<file {value.filename!r}, {len(value.content)} bytes>"
    if isinstance(value, dict):
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            return f"inline_keyboard[{'+'.join(str(len(row)) for row in rows)}]"
        if "keyboard" in value:
            return f"keyboard[{sum(len(row) for row in value['keyboard'])}]"
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return f"[{len(value)}]"
    text = str(value).replace("\n", "⏎")
    return text if len(text) <= _TEXT_PREVIEW else text[: _TEXT_PREVIEW - 1] + "…"


def key_params(params: dict[str, Any]) -> str:
    """A call's parameters in one readable line (texts cut short, files and keyboards
    summed up, the chat left out: the log is the chat's own)."""
    return ", ".join(
        f"{name}={_short(value)}"
        for name, value in params.items()
        if name not in ("chat_id", "entities", "caption_entities")
    )


class ChatFeed:
    """Per chat: the calls the bot made about it, the refused ones, and a wake-up event."""

    def __init__(self, telegram: FakeTelegramServer) -> None:
        self._telegram = telegram
        self._logs: dict[int, ChatLog] = {}
        self._events: dict[int, asyncio.Event] = {}
        self.closing = False

    def start(self) -> None:
        self._telegram.state.watchers.append(self._chat_changed)
        self._telegram.call_watchers.append(self._call_answered)

    def stop(self) -> None:
        """Stop watching and end every open stream."""
        if self._chat_changed in self._telegram.state.watchers:
            self._telegram.state.watchers.remove(self._chat_changed)
        if self._call_answered in self._telegram.call_watchers:
            self._telegram.call_watchers.remove(self._call_answered)
        self.closing = True
        for chat_id in list(self._events):
            self._wake(chat_id)

    def log(self, chat_id: int) -> ChatLog:
        return self._logs.setdefault(chat_id, ChatLog())

    def event(self, chat_id: int) -> asyncio.Event:
        """Set at the next change of the chat: take it BEFORE reading what to show."""
        return self._events.setdefault(chat_id, asyncio.Event())

    def _wake(self, chat_id: int) -> None:
        event = self._events.pop(chat_id, None)
        if event is not None:
            event.set()

    def _chat_changed(self, chat_id: int | None) -> None:
        if chat_id is not None:
            self._wake(chat_id)

    def _call_answered(self, call: AnsweredCall) -> None:
        method = call.request.method
        if call.chat_id is None:
            if method in _EVERY_CHAT:
                for chat_id in list(self._events):
                    self._wake(chat_id)
            return
        if method in _UNLOGGED:
            return
        error = call.error
        logged = LoggedCall(
            index=call.position,
            method=method,
            params=key_params(call.request.params),
            error_code=None if error is None else error.error_code,
            description=None if error is None else error.description,
            injected=False if error is None else error.injected,
        )
        log = self.log(call.chat_id)
        log.calls.append(logged)
        if error is not None:
            chat = self._telegram.state.chats.get(call.chat_id)
            newest = max(chat.messages, default=0) if chat is not None else 0
            log.refused.append(RefusedCall(logged, newest))
        self._wake(call.chat_id)

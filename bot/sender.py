"""The one way the bot sends on its own initiative: sale notices and notices from the outbox,
broadcasts, promotion announcements, admin notices, a decision told to a user. Replies to a
user's own update (a handler answering a message or a button) do not come through here.

One budget for the whole bot (``Budget``), measured where each request starts:

* bot-wide: at most ``telegram_sends_per_second`` (30) in any second, evenly spaced;
* per chat: one message a second in a private chat, 20 a minute in a group;
* every window is a tenth longer than Telegram's (``SAFETY``), so the jitter between our
  clock and Telegram's never puts one request too many into Telegram's window.

Whoever waits longest does not go first: the most urgent does (``Priority``: a buyer's codes
and a sale notice before an admin notice, before an announcement, before a broadcast),
among those whose chat may receive now.

One policy for Telegram's answers (``Sender.send``):

* 429: ``retry_after`` pauses the whole budget (every sender of this process, and of every
  instance when they share a budget in Redis: ``bot/redis_budget.py``), then the
  message is tried again — or handed back (``RETRY_LATER``) to a caller that retries from
  the database (the outbox);
* 403 (blocked the bot): ``BLOCKED``; 400 ``chat not found``: ``CHAT_NOT_FOUND``; any other
  refusal: ``REFUSED`` — never tried again; the caller marks it (a broadcast recipient
  ``blocked``, an outbox row ``undeliverable``, a job skips the user);
* 5xx and network errors: tried again with exponential backoff, ``tries`` times in all,
  then ``FAILED`` (or ``RETRY_LATER`` at once for a caller that retries from the database).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any, Generic, Protocol, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from core.settings import Settings

log = logging.getLogger("kameng.sender")

T = TypeVar("T")
Clock = Callable[[], float]
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

#: every window is this much longer than Telegram's (see the module's docstring)
SAFETY = 1.1
#: how many sends between two sweeps of the per-chat windows no longer needed
SWEEP_EVERY = 1000
TRANSIENT = (TelegramServerError, TelegramNetworkError, OSError, TimeoutError)


class Priority(IntEnum):
    """Lower goes first."""

    CODES = 0  # a buyer's codes delivered later, a sale notice
    NOTICE = 1  # an admin notice, a decision told to a user, a digest, a report
    ANNOUNCEMENT = 2  # a promotion's announcement and reminder
    BROADCAST = 3  # an admin's broadcast and its progress


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the user blocked the bot
    CHAT_NOT_FOUND = "chat_not_found"  # 400 chat not found
    REFUSED = "refused"  # another 400 (or 4xx): this message can never go
    FAILED = "failed"  # 5xx or network errors, every try
    RETRY_LATER = "retry_later"  # 429, 5xx or network, for a caller that retries itself
    UNSENT = "unsent"  # the caller stopped while the message waited for its turn


UNDELIVERABLE = frozenset({Outcome.BLOCKED, Outcome.CHAT_NOT_FOUND, Outcome.REFUSED})


@dataclass(frozen=True)
class Delivery(Generic[T]):
    """What became of one message."""

    outcome: Outcome
    result: T | None = None  # what Telegram answered (the sent Message)
    calls: int = 0  # requests made, 429s and retries included
    error: Exception | None = None  # Telegram's last refusal or failure
    retry_after: int | None = None  # with RETRY_LATER after a 429
    retry_afters: int = 0
    transient_errors: int = 0

    @property
    def sent(self) -> bool:
        return self.outcome is Outcome.SENT

    @property
    def reason(self) -> str:
        """Telegram's words for the failure (``bot was blocked by the user``), else its type."""
        if self.error is None:
            return self.outcome.value
        return getattr(self.error, "message", None) or type(self.error).__name__


def _default(name: str) -> Any:
    """A rate's default is the setting's: written once, in ``core/settings.py``."""
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class Rates:
    per_second: float = _default("telegram_sends_per_second")
    private_chat_per_second: float = _default("telegram_private_chat_per_second")
    group_chat_per_minute: int = _default("telegram_group_chat_per_minute")

    @classmethod
    def of(cls, settings: Settings) -> Rates:
        return cls(
            settings.telegram_sends_per_second,
            settings.telegram_private_chat_per_second,
            settings.telegram_group_chat_per_minute,
        )


class Window:
    """At most ``limit`` starts in any ``seconds``: the last ``limit`` start times."""

    def __init__(self, limit: int, seconds: float) -> None:
        self._limit = limit
        self._seconds = seconds
        self._starts: deque[float] = deque(maxlen=limit)

    def ready_at(self) -> float:
        if len(self._starts) < self._limit:
            return -math.inf
        return self._starts[0] + self._seconds

    def take(self, now: float) -> None:
        self._starts.append(now)

    def idle(self, now: float) -> bool:
        return not self._starts or self._starts[-1] + self._seconds <= now


class Budget:
    """The bot's sending budget, with a clock you can inject; no waiting in here:
    ``ready_at`` says when a send to a chat may start, ``take`` records that it did."""

    def __init__(self, rates: Rates, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._rates = rates
        self._interval = 1.0 / rates.per_second
        self._next_slot = -math.inf
        self._bot = Window(max(1, math.floor(rates.per_second)), SAFETY)
        self._chats: dict[int, Window] = {}
        self._paused_until = -math.inf
        self._takes = 0

    def now(self) -> float:
        return self._clock()

    @property
    def rates(self) -> Rates:
        return self._rates

    def bot_ready_at(self) -> float:
        return max(self._paused_until, self._next_slot, self._bot.ready_at())

    def ready_at(self, chat_id: int) -> float:
        chat = self._chats.get(chat_id)
        return max(self.bot_ready_at(), -math.inf if chat is None else chat.ready_at())

    def take(self, chat_id: int) -> None:
        now = self._clock()
        # evenly spaced slots; one taken late (event-loop jitter) may be caught up, no more
        self._next_slot = max(self._next_slot, now - self._interval) + self._interval
        self._bot.take(now)
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = self._chat_window(chat_id)
        chat.take(now)
        self._takes += 1
        if self._takes % SWEEP_EVERY == 0:
            self._chats = {c: w for c, w in self._chats.items() if not w.idle(now)}

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nothing goes before ``seconds`` from now."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _chat_window(self, chat_id: int) -> Window:
        if chat_id > 0:  # a user's private chat; groups and channels have negative ids
            return Window(1, SAFETY / self._rates.private_chat_per_second)
        return Window(self._rates.group_chat_per_minute, 60.0 * SAFETY)


class SharedBudget(Protocol):
    """The budget every instance of the bot spends together (``bot/redis_budget.py``)."""

    async def acquire(self, chat_id: int, stopping: asyncio.Event | None = None) -> bool: ...

    async def pause(self, seconds: float) -> None: ...


@dataclass(order=True)
class _Turn:
    priority: int
    seq: int
    chat_id: int = field(compare=False)
    granted: asyncio.Future[None] = field(compare=False)


class Sender:
    """Sends within the budget and applies the one policy for Telegram's answers."""

    def __init__(
        self,
        bot: Bot,
        rates: Rates,
        *,
        clock: Clock = time.monotonic,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        tries: int = 3,
        shared: SharedBudget | None = None,
    ) -> None:
        self.bot = bot
        self.budget = Budget(rates, clock)
        #: several instances: each granted send also takes a slot of the shared budget
        self.shared = shared
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._tries = tries
        self._waiting: list[_Turn] = []  # by priority, then arrival
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def for_settings(cls, bot: Bot, settings: Settings, **options: Any) -> Sender:
        return cls(bot, Rates.of(settings), **options)

    @property
    def waiting(self) -> int:
        """How many sends wait for their turn now."""
        return sum(1 for turn in self._waiting if not turn.granted.done())

    async def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        priority: Priority,
        reply_markup: Markup | None = None,
        retry: bool = True,
        stopping: asyncio.Event | None = None,
    ) -> Delivery[Message]:
        return await self.send(
            chat_id,
            lambda: self.bot.send_message(chat_id, text, reply_markup=reply_markup),
            priority=priority,
            retry=retry,
            stopping=stopping,
        )

    async def send(
        self,
        chat_id: int,
        call: Callable[[], Awaitable[T]],
        *,
        priority: Priority,
        retry: bool = True,
        stopping: asyncio.Event | None = None,
    ) -> Delivery[T]:
        """Make ``call`` (one request to ``chat_id``) when the budget allows; see the module's
        docstring for what each answer means. ``retry=False``: the caller retries from the
        database, so a 429, 5xx or network error comes back at once as ``RETRY_LATER``.
        ``stopping`` set while waiting (for a turn or a backoff): ``UNSENT``."""
        calls = retry_afters = transient = 0

        def delivery(outcome: Outcome, error: Exception | None = None, **more: Any) -> Delivery[T]:
            return Delivery(
                outcome,
                calls=calls,
                error=error,
                retry_afters=retry_afters,
                transient_errors=transient,
                **more,
            )

        while True:
            if not await self._turn(chat_id, priority, stopping):
                return delivery(Outcome.UNSENT)
            if self.shared is not None and not await self.shared.acquire(chat_id, stopping):
                return delivery(Outcome.UNSENT)
            calls += 1
            try:
                result = await call()
            except TelegramRetryAfter as error:
                retry_afters += 1
                log.info("flood control: every send waits %ss", error.retry_after)
                self.budget.pause(error.retry_after)
                if self.shared is not None:
                    await self.shared.pause(error.retry_after)
                if not retry:
                    return delivery(Outcome.RETRY_LATER, error, retry_after=error.retry_after)
            except TelegramForbiddenError as error:
                return delivery(Outcome.BLOCKED, error)
            except TelegramBadRequest as error:
                if "chat not found" in error.message.lower():
                    return delivery(Outcome.CHAT_NOT_FOUND, error)
                return delivery(Outcome.REFUSED, error)
            except TRANSIENT as error:
                transient += 1
                if not retry:
                    return delivery(Outcome.RETRY_LATER, error)
                if transient >= self._tries:
                    return delivery(Outcome.FAILED, error)
                delay = min(self._backoff * 2 ** (transient - 1), self._max_backoff)
                if not await _sleep(delay, stopping):
                    return delivery(Outcome.UNSENT, error)
            except TelegramAPIError as error:  # 401, 404, 409, 413: nothing a retry mends
                return delivery(Outcome.REFUSED, error)
            else:
                return delivery(Outcome.SENT, result=result)

    # waiting for a turn ------------------------------------------------------------------

    async def _turn(self, chat_id: int, priority: Priority, stopping: asyncio.Event | None) -> bool:
        """Wait until this send may start; False if ``stopping`` was set first."""
        if stopping is not None and stopping.is_set():
            return False
        turn = _Turn(priority, next(self._seq), chat_id, asyncio.get_running_loop().create_future())
        bisect.insort(self._waiting, turn)
        self._grant()
        try:
            if stopping is None:
                await turn.granted
                return True
            stop = asyncio.ensure_future(stopping.wait())
            try:
                await asyncio.wait((turn.granted, stop), return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
            return turn.granted.done() and not turn.granted.cancelled()
        finally:
            if not turn.granted.done():
                turn.granted.cancel()
            if turn in self._waiting:
                self._waiting.remove(turn)
                self._grant()

    def _grant(self) -> None:
        """Start every waiting send the budget allows now, most urgent first; then sleep
        until the next one could start."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting = [turn for turn in self._waiting if not turn.granted.done()]
        soonest = math.inf
        while self._waiting:
            now = self.budget.now()
            soonest = self.budget.bot_ready_at()
            if soonest > now:
                break
            soonest = math.inf
            chosen = None
            for index, turn in enumerate(self._waiting):
                at = self.budget.ready_at(turn.chat_id)
                if at <= now:
                    chosen = index
                    break
                soonest = min(soonest, at)
            if chosen is None:
                break
            turn = self._waiting.pop(chosen)
            self.budget.take(turn.chat_id)
            turn.granted.set_result(None)
        if self._waiting:
            delay = max(0.0, soonest - self.budget.now())
            self._timer = asyncio.get_running_loop().call_later(delay, self._grant)


async def _sleep(seconds: float, stopping: asyncio.Event | None) -> bool:
    """Sleep; False (at once) when ``stopping`` is set meanwhile."""
    if stopping is None:
        await asyncio.sleep(seconds)
        return True
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)
    return not stopping.is_set()

"""Who a Telegram user is, as read a moment ago: the bot asks on every update.

A per-process cache of ``UserView`` by Telegram id, for presentation and routing only
(language, menus, the banned gate). Nothing that spends money or needs a role trusts it:
quotes and purchases read the buyer's status, admin actions the admin's role, inside their
own transactions.

How fresh an entry is:

* a user (or any level) changed through this process's ORM sessions on the cache's engine
  (``scope``) is dropped when that change commits; an ORM event sees every such write, so
  no writer has to remember the cache;
* a change committed by another process (the CLI, the HTTP API) is seen within ``ttl``
  seconds — or at once where ``bot/shared_state.py`` tells every bot instance through Redis:
  it listens to this cache's committed drops (``on_committed_drop``) and calls ``forget`` /
  ``clear`` on the other instances' caches;
* a read that overlapped a commit does not store what it read: ``put`` takes the
  generation observed before the read and declines if anything was dropped since.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterable
from itertools import chain
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from core.models import Level, User

if TYPE_CHECKING:
    from core.catalogue import UserView

_CHANGED_USERS = "kameng_changed_users"  # Session.info key: Telegram ids flushed this txn
_CHANGED_LEVELS = "kameng_changed_levels"  # Session.info key: a level was flushed this txn
_CACHES: weakref.WeakSet[UserCache] = weakref.WeakSet()

#: told what a committed change dropped: the Telegram ids, or None for every user
DropListener = Callable[[frozenset[int] | None], None]


class UserCache:
    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
        scope: object | None = None,
    ) -> None:
        self._ttl = ttl
        #: the (sync) engine whose commits concern this cache; None: every session's. Two
        #: platforms on two engines in one process behave like two processes.
        self.scope = scope
        self._listeners: list[DropListener] = []
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[int, tuple[float, UserView]] = {}  # id → (stored at, view)
        #: bumped by every drop; a read started before a drop must not be stored
        self.generation = 0
        _CACHES.add(self)

    def get(self, telegram_id: int) -> UserView | None:
        entry = self._entries.get(telegram_id)
        if entry is None:
            return None
        stored_at, view = entry
        if self._clock() - stored_at >= self._ttl:
            del self._entries[telegram_id]
            return None
        return view

    def put(self, view: UserView, generation: int) -> None:
        """Store ``view``, read after ``generation`` was observed, unless a drop happened
        since (the read may predate that commit)."""
        if self._ttl <= 0 or generation != self.generation:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # a crude bound; the next updates refill it
        self._entries[view.telegram_id] = (self._clock(), view)

    def forget(self, telegram_ids: Iterable[int]) -> None:
        self.generation += 1
        for telegram_id in telegram_ids:
            self._entries.pop(telegram_id, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def on_committed_drop(self, listener: DropListener) -> None:
        """Call ``listener`` (synchronously, inside the ORM's commit event: it must only
        hand the ids on) whenever a change committed in this cache's scope drops entries."""
        self._listeners.append(listener)

    def committed(self, telegram_ids: frozenset[int], levels: bool) -> None:
        if levels:
            self.clear()  # every view carries its level's name
        else:
            self.forget(telegram_ids)
        for listener in self._listeners:
            listener(None if levels else telegram_ids)


@event.listens_for(Session, "after_flush")
def _note_changes(session: Session, _flush_context: Any) -> None:
    # new, dirty and deleted still hold what this flush wrote
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, User):
            session.info.setdefault(_CHANGED_USERS, set()).add(instance.telegram_id)
        elif isinstance(instance, Level):
            session.info[_CHANGED_LEVELS] = True


@event.listens_for(Session, "after_commit")
def _drop_committed(session: Session) -> None:
    users: set[int] = session.info.pop(_CHANGED_USERS, set())
    levels = session.info.pop(_CHANGED_LEVELS, False)
    if not users and not levels:
        return
    bind = session.bind
    for cache in list(_CACHES):
        if cache.scope is None or bind is None or cache.scope is bind:
            cache.committed(frozenset(users), levels)


@event.listens_for(Session, "after_rollback")
def _discard_changes(session: Session) -> None:
    session.info.pop(_CHANGED_USERS, None)
    session.info.pop(_CHANGED_LEVELS, None)

"""How one outbox round shares the bot between chats: pure rules, no I/O.

A round's claimed rows are split into lanes, one per chat, each sent in order (a chat reads
its notices in the order they were promised) while the lanes run side by side, so a backlog
to one chat waits on that chat's own pace (about one a second in a private chat) and never
holds up another chat's rows. Telegram's limits stay the one ``Sender``'s business; the
lanes only make sure every chat with something to send is waiting for its turn there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

#: a round claims for each chat about what it can take in this many seconds, so a round
#: (and every other chat's next claim) never waits long behind one busy chat
ROUND_SECONDS = 3.0


def lanes(
    rows: Sequence[T], chat: Callable[[T], int], urgency: Callable[[T], int]
) -> list[list[T]]:
    """One lane per chat, rows in their claimed order; the lanes ordered by their most
    urgent row (lower ``urgency`` first), then by which chat's first row came first."""
    by_chat: dict[int, list[T]] = {}
    for row in rows:
        by_chat.setdefault(chat(row), []).append(row)
    order = {key: index for index, key in enumerate(by_chat)}
    return sorted(
        by_chat.values(),
        key=lambda lane: (min(urgency(row) for row in lane), order[chat(lane[0])]),
    )


def per_chat_claim(private_chat_per_second: float, batch: int) -> int:
    """How many rows of one chat a round claims: what a private chat takes in
    ``ROUND_SECONDS``, at least one, never more than the batch."""
    if private_chat_per_second <= 0:
        return 1
    fits = math.ceil(private_chat_per_second * ROUND_SECONDS)
    return max(1, min(batch, fits))

"""How one outbox round shares the bot between chats: pure rules, no I/O.

A round's claimed rows are split into lanes, one per chat, each sent in order (a chat reads
its notices in the order they were promised) while the lanes run side by side, so a backlog
to one chat waits on that chat's own pace (about one a second in a private chat) and never
holds up another chat's rows. Telegram's limits stay the one ``Sender``'s business; the
lanes only make sure every chat with something to send is waiting for its turn there.

Within a lane, a burst of sale notices (more than ``FOLD_OVER``) becomes one message
(``fold_sales``): a supplier selling faster than his chat takes messages reads one summary
now rather than every notice a second apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TypeVar

from core.decisions.sale_burst import FOLD_OVER, fold_due

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


def fold_sales(
    lane: Sequence[T], is_sale: Callable[[T], bool], over: int = FOLD_OVER
) -> list[list[T]]:
    """A lane's messages, in order: each row its own, except that more than ``over`` sale
    rows go out together as one, where the first of them stood."""
    sales = [row for row in lane if is_sale(row)]
    if not fold_due(len(sales), over):
        return [[row] for row in lane]
    messages: list[list[T]] = []
    for row in lane:
        if not is_sale(row):
            messages.append([row])
        elif row is sales[0]:
            messages.append(sales)
    return messages

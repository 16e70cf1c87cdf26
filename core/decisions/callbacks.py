"""An HTTP callback attempt, decided: what one POST's answer means, and what happens next.
Pure. The one retry schedule of every callback to a shop's system, whichever protocol
(Kameng's signed JSON, Dujiao-Next's) the body speaks.

    accepted_kameng(status, body)    -> bool   any 2xx
    accepted_dujiao(status, body)    -> bool   2xx and a JSON ``{"ok": true}`` (the document)
    decide_attempt(accepted=, reachable=, attempts=, created_at=, now=) -> Attempt

A refused or failed attempt is retried with the outbox's backoff (5 s, 10 s … 30 min) while
the next try would still fall within ``GIVE_UP_AFTER`` of the state change; a callback with
nowhere to go (the shop removed its callback, the order or its key is gone) is given up at
once: retrying cannot make it deliverable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from core.outbox import backoff

GIVE_UP_AFTER = timedelta(days=1)


class Outcome(StrEnum):  # the delivery log's ``outcome`` column
    DELIVERED = "delivered"
    RETRYING = "retrying"
    GIVEN_UP = "given_up"


@dataclass(frozen=True)
class Attempt:
    outcome: Outcome
    next_at: datetime | None = None  # when RETRYING


def accepted_kameng(status: int | None, _body: bytes) -> bool:
    """Kameng's callbacks: any 2xx is taken (the README tells the receiver so)."""
    return status is not None and 200 <= status < 300


def accepted_dujiao(status: int | None, body: bytes) -> bool:
    """Dujiao-Next (section 5): the shop took the callback when it answered 2xx with
    ``{"ok": true}``; anything else is retried."""
    if not accepted_kameng(status, body):
        return False
    try:
        said = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(said, dict) and said.get("ok") is True


def decide_attempt(
    *, accepted: bool, reachable: bool, attempts: int, created_at: datetime, now: datetime
) -> Attempt:
    """``attempts``: the attempts before this one; ``reachable``: the callback had somewhere
    to go (a URL and a secret) when this attempt was made."""
    if accepted:
        return Attempt(Outcome.DELIVERED)
    if not reachable:
        return Attempt(Outcome.GIVEN_UP)
    next_at = now + backoff(attempts + 1)
    if next_at - created_at > GIVE_UP_AFTER:
        return Attempt(Outcome.GIVEN_UP)
    return Attempt(Outcome.RETRYING, next_at)

"""The one retry schedule of callbacks to shops' systems, by worked examples: what an answer
means in each protocol, and when an attempt that failed is tried again or given up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.decisions.callbacks import (
    Attempt,
    Outcome,
    accepted_dujiao,
    accepted_kameng,
    decide_attempt,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "body", "kameng", "dujiao"),
    [
        (200, b"ok", True, False),  # Dujiao-Next wants its envelope
        (200, b'{"ok": true}', True, True),
        (204, b"", True, False),
        (201, b'{"ok": true, "message": "received"}', True, True),
        (200, b'{"ok": "true"}', True, False),  # a string is not true
        (200, b'{"ok": false}', True, False),
        (200, b"[true]", True, False),
        (200, b"\xff\xfe", True, False),  # not text
        (503, b'{"ok": true}', False, False),  # the status decides first
        (301, b"", False, False),  # redirects are not followed
        (199, b"", False, False),
        (None, b"", False, False),  # no answer: a network error or a timeout
    ],
)
def test_what_an_answer_means(status: int | None, body: bytes, kameng: bool, dujiao: bool) -> None:
    assert accepted_kameng(status, body) is kameng
    assert accepted_dujiao(status, body) is dujiao


@pytest.mark.parametrize(
    ("accepted", "reachable", "attempts", "age", "expected"),
    [
        (True, True, 0, timedelta(0), Attempt(Outcome.DELIVERED)),
        (True, True, 9, timedelta(hours=23), Attempt(Outcome.DELIVERED)),
        # refused: the outbox's backoff, 5 s after the first failure, doubling
        (False, True, 0, timedelta(0), Attempt(Outcome.RETRYING, T0 + timedelta(seconds=5))),
        (False, True, 1, timedelta(0), Attempt(Outcome.RETRYING, T0 + timedelta(seconds=10))),
        (False, True, 3, timedelta(0), Attempt(Outcome.RETRYING, T0 + timedelta(seconds=40))),
        (False, True, 30, timedelta(0), Attempt(Outcome.RETRYING, T0 + timedelta(minutes=30))),
        # the next try would still fall within a day of the state change: tried again
        (
            False,
            True,
            30,
            timedelta(hours=23, minutes=30),
            Attempt(Outcome.RETRYING, T0 + timedelta(minutes=30)),
        ),
        # … one second later it would not: given up
        (False, True, 30, timedelta(hours=23, minutes=30, seconds=1), Attempt(Outcome.GIVEN_UP)),
        # nowhere to send it (no callback set, the order gone): given up at once
        (False, False, 0, timedelta(0), Attempt(Outcome.GIVEN_UP)),
    ],
)
def test_what_happens_after_an_attempt(
    accepted: bool, reachable: bool, attempts: int, age: timedelta, expected: Attempt
) -> None:
    assert (
        decide_attempt(
            accepted=accepted,
            reachable=reachable,
            attempts=attempts,
            created_at=T0 - age,
            now=T0,
        )
        == expected
    )

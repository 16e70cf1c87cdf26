"""The rule that splits an outbox round into one lane per chat, and how much of one chat a
round claims: table-driven, no I/O."""

from __future__ import annotations

import pytest

from bot.outbox_lanes import lanes, per_chat_claim

# (row name, chat, urgency): urgency as Priority, lower first
Row = tuple[str, int, int]


def _lanes(rows: list[Row]) -> list[list[str]]:
    return [[name for name, _, _ in lane] for lane in lanes(rows, lambda r: r[1], lambda r: r[2])]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], []),
        ([("a1", 1, 1)], [["a1"]]),
        # one chat's backlog stays in its claimed order, in one lane
        ([("a1", 1, 1), ("a2", 1, 1), ("a3", 1, 1)], [["a1", "a2", "a3"]]),
        # another chat's row gets a lane of its own, however late it was claimed
        ([("a1", 1, 1), ("a2", 1, 1), ("b1", 2, 1)], [["a1", "a2"], ["b1"]]),
        # interleaved rows: each chat keeps its order; lanes in order of first appearance
        (
            [("b1", 2, 1), ("a1", 1, 1), ("b2", 2, 1), ("a2", 1, 1)],
            [["b1", "b2"], ["a1", "a2"]],
        ),
        # the lane with the more urgent row starts first (a sale before a notice)
        ([("a1", 1, 1), ("b1", 2, 0)], [["b1"], ["a1"]]),
        # a lane's urgency is its most urgent row, but its rows are never reordered
        ([("a1", 1, 1), ("b1", 2, 1), ("b2", 2, 0)], [["b1", "b2"], ["a1"]]),
    ],
)
def test_lanes(rows: list[Row], expected: list[list[str]]) -> None:
    assert _lanes(rows) == expected


@pytest.mark.parametrize(
    ("per_second", "batch", "expected"),
    [
        (1.0, 20, 3),  # Telegram's private-chat pace: about three seconds' worth
        (0.5, 20, 2),
        (0.1, 20, 1),  # at least one
        (0.0, 20, 1),
        (1000.0, 20, 20),  # never more than the batch
        (1e9, 50, 50),  # a budget lifted (the bench): the whole batch, as before
    ],
)
def test_per_chat_claim(per_second: float, batch: int, expected: int) -> None:
    assert per_chat_claim(per_second, batch) == expected

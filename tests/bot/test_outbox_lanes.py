"""The rule that splits an outbox round into one lane per chat, and how much of one chat a
round claims: table-driven, no I/O."""

from __future__ import annotations

import pytest

from bot.outbox_lanes import fold_sales, lanes, per_chat_claim

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


@pytest.mark.parametrize(
    ("rows", "over", "expected"),
    [
        ([], 3, []),
        (["s1"], 3, [["s1"]]),  # one sale: its own message
        (["s1", "s2", "s3"], 3, [["s1"], ["s2"], ["s3"]]),  # N: one by one
        (["s1", "s2", "s3", "s4"], 3, [["s1", "s2", "s3", "s4"]]),  # N + 1: one summary
        # other rows keep their place; the summary stands where the first sale stood
        (
            ["c1", "s1", "s2", "c2", "s3", "s4"],
            3,
            [["c1"], ["s1", "s2", "s3", "s4"], ["c2"]],
        ),
        (["c1", "c2", "c3", "c4", "s1"], 3, [["c1"], ["c2"], ["c3"], ["c4"], ["s1"]]),
    ],
)
def test_a_burst_of_sale_rows_becomes_one_message(
    rows: list[str], over: int, expected: list[list[str]]
) -> None:
    assert fold_sales(rows, lambda row: row.startswith("s"), over) == expected

"""An upstream SKU's price from its cost: worked examples, table by table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.pricing.upstream import MarkupRule, Priced, Unpriceable, price_from_cost


@pytest.mark.parametrize(
    ("cost", "face", "rule", "expected"),
    [
        # 8 % over 92.00 = 99.36; face 100.00 leaves it alone
        (92_00, 100_00, MarkupRule(markup_bps=800), Priced(99_36, capped=False)),
        # 10 % over 92.00 = 101.20 is above the face value: held to 100.00
        (92_00, 100_00, MarkupRule(markup_bps=1000), Priced(100_00, capped=True)),
        # a fixed 1.50 over 45.00
        (45_00, 50_00, MarkupRule(markup_fixed=1_50), Priced(46_50, capped=False)),
        # percent and fixed add up: 5 % of 10.00 = 0.50, + 0.20
        (10_00, None, MarkupRule(markup_bps=500, markup_fixed=20), Priced(10_70, capped=False)),
        # the percent is rounded half-up once, to the fen: 3.33 % of 1.00 = 3.33 fen → 3
        (1_00, None, MarkupRule(markup_bps=333), Priced(1_03, capped=False)),
        # 2.5 % of 1.00 = 2.5 fen → 3 (half-up)
        (1_00, None, MarkupRule(markup_bps=250), Priced(1_03, capped=False)),
        # 2.5 % of 0.99 = 2.475 fen → 2
        (99, None, MarkupRule(markup_bps=250), Priced(1_01, capped=False)),
        # rounded up to whole yuan: 92.00 + 8 % = 99.36 → 100.00
        (92_00, None, MarkupRule(markup_bps=800, round_to=100), Priced(100_00, capped=False)),
        # rounding up past the face value is held to it
        (92_00, 99_50, MarkupRule(markup_bps=800, round_to=100), Priced(99_50, capped=True)),
        # no markup: sold at cost (never below)
        (30_00, 30_00, MarkupRule(), Priced(30_00, capped=False)),
        # a face value under the cost cannot be sold without a loss
        (101_00, 100_00, MarkupRule(markup_bps=500), Unpriceable("face_below_cost")),
        # a free product with no markup would sell for 0
        (0, None, MarkupRule(), Unpriceable("zero")),
        (0, None, MarkupRule(markup_fixed=10), Priced(10, capped=False)),
    ],
)
def test_worked_examples(
    cost: int, face: int | None, rule: MarkupRule, expected: Priced | Unpriceable
) -> None:
    assert price_from_cost(cost, face, rule) == expected


@given(
    cost=st.integers(0, 10**8),
    face_extra=st.one_of(st.none(), st.integers(0, 10**8)),
    bps=st.integers(0, 50_000),
    fixed=st.integers(0, 10**5),
    round_to=st.integers(1, 1000),
)
def test_never_below_cost_never_above_face(
    cost: int, face_extra: int | None, bps: int, fixed: int, round_to: int
) -> None:
    face = None if face_extra is None else cost + face_extra
    result = price_from_cost(cost, face, MarkupRule(bps, fixed, round_to))
    if isinstance(result, Priced):
        assert cost <= result.price
        assert face is None or result.price <= face
        assert result.price > 0

"""An upstream SKU's sale price from the upstream's cost, pure.

``cost`` + ``markup_bps`` of it (rounded half-up to the fen, once) + ``markup_fixed``, then
rounded *up* to a multiple of ``round_to`` fen, then held to the face value when the
upstream says one. Never below cost: a face value under the cost (or a price of 0) makes
the product unsellable, and the sync suspends its SKU instead of selling at a loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from core.money import BPS


@dataclass(frozen=True)
class MarkupRule:
    markup_bps: int = 0
    markup_fixed: int = 0
    round_to: int = 1  # fen: 100 prices in whole yuan


@dataclass(frozen=True)
class Priced:
    price: int
    capped: bool  # held to the face value


@dataclass(frozen=True)
class Unpriceable:
    reason: str  # "face_below_cost" | "zero"


def price_from_cost(cost: int, face_value: int | None, rule: MarkupRule) -> Priced | Unpriceable:
    if face_value is not None and face_value < cost:
        return Unpriceable("face_below_cost")
    markup = Decimal(cost) * rule.markup_bps / BPS
    price = cost + int(markup.quantize(Decimal(1), rounding=ROUND_HALF_UP)) + rule.markup_fixed
    step = max(rule.round_to, 1)
    price = -(-price // step) * step
    capped = face_value is not None and price > face_value
    if capped:
        assert face_value is not None
        price = face_value
    if price <= 0:
        return Unpriceable("zero")
    return Priced(price, capped)

"""Who wins a sealed-bid placement auction and what he pays, pure (second price).

Bids below the reserve do not take part. The highest bid wins; equal bids go to the one
placed first (then the lower bid id). The winner pays the next eligible bid's amount, or
the reserve when he is alone: never more than his own bid. A winner whose payable cannot
cover that price is passed over (``unpaid``) and the auction is decided again without him.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SealedBid:
    bid_id: int
    supplier_id: int
    amount: int
    placed_at: datetime
    payable: int  # what the supplier can pay from (his payable at settlement)


@dataclass(frozen=True)
class Won:
    bid_id: int
    price: int
    lost: tuple[int, ...]  # the other eligible and below-reserve bids
    unpaid: tuple[int, ...]  # winners passed over: their payable could not cover the price


@dataclass(frozen=True)
class Unsold:
    lost: tuple[int, ...]
    unpaid: tuple[int, ...]


def ranked(bids: list[SealedBid]) -> list[SealedBid]:
    """Highest first; a tie goes to the earliest bid."""
    return sorted(bids, key=lambda b: (-b.amount, b.placed_at, b.bid_id))


def settle(bids: list[SealedBid], reserve: int) -> Won | Unsold:
    eligible = ranked([b for b in bids if b.amount >= reserve])
    below = tuple(b.bid_id for b in bids if b.amount < reserve)
    unpaid: list[int] = []
    for place, bid in enumerate(eligible):
        runner_up = eligible[place + 1].amount if place + 1 < len(eligible) else reserve
        price = max(reserve, min(runner_up, bid.amount))
        if bid.payable < price:
            unpaid.append(bid.bid_id)
            continue
        lost = tuple(b.bid_id for b in eligible[place + 1 :]) + below
        return Won(bid.bid_id, price, tuple(sorted(lost)), tuple(unpaid))
    return Unsold(tuple(sorted(below)), tuple(unpaid))

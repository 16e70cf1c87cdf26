"""Who wins a sealed-bid placement auction and what he pays, pure (second price); and
which bids may be placed at all (``check_bid``).

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


@dataclass(frozen=True)
class BidRefused:
    """``reason``: ``reserve`` (below the slot's reserve, ``limit``), ``payable`` (more than
    the supplier's payable can pay, ``limit``), ``cap`` (above the platform's maximum bid,
    ``limit``)."""

    reason: str
    limit: int


def check_bid(amount: int, *, reserve: int, payable: int, max_bid: int) -> BidRefused | None:
    """Whether a supplier may bid ``amount`` now; None: he may.

    A bid is paid from his payable when he wins (``settle``: never more than the bid), so
    a bid above what his payable holds now could not be paid and would only push the real
    bidders' second price up: refused, as is a bid above the platform's maximum (an extra
    zero typed by a supplier with a large payable). The bids stay sealed: the bound never
    depends on the others' bids."""
    if amount < reserve:
        return BidRefused("reserve", reserve)
    if amount > max_bid:
        return BidRefused("cap", max_bid)
    if amount > payable:
        return BidRefused("payable", max(payable, 0))
    return None

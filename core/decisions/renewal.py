"""Whether a bought service runs another period, and where a second purchase of it
starts; pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.models import ServiceBilling, ServiceKind


@dataclass(frozen=True)
class Renew:
    price: int


@dataclass(frozen=True)
class Expire:
    """A one-off service ran its days."""


@dataclass(frozen=True)
class Stop:
    """A monthly service whose buyer cannot pay the next period: it stops, he is told."""

    shortfall: int


def decide_renewal(
    billing: ServiceBilling, price: int, balance: int, floor: int
) -> Renew | Expire | Stop:
    """``balance`` is what the payer's account holds, ``floor`` how low it may go."""
    if billing is ServiceBilling.ONCE:
        return Expire()
    if balance - price < floor:
        return Stop(shortfall=floor - (balance - price))
    return Renew(price)


# --- buying a service again while one runs ---

# The kinds one buyer holds at most once per target, so that buying again extends the one
# running: a boost ranks its SKU first whether bought once or twice (two overlapping boosts
# would charge twice for one ranking), and two analytics subscriptions would send the same
# weekly report twice. Broadcast credits are a pack: a second purchase adds its own credits
# (each purchase keeps its own, /promote); a demand report is one report per Buy
# (core/demand.py). Both are fresh purchases.
EXTENDABLE = frozenset({ServiceKind.SEARCH_BOOST, ServiceKind.ANALYTICS_REPORT})


@dataclass(frozen=True)
class Fresh:
    """A new purchase: its first period starts now."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Extend:
    """The running service gets one more period, starting when its current one ends."""

    current_end: datetime
    ends_at: datetime


def decide_purchase(
    kind: ServiceKind, days: int, now: datetime, running_until: datetime | None
) -> Fresh | Extend:
    """``running_until``: the end of the buyer's service of this kind on this target still
    active at ``now``, or None. One that has lapsed (its end passed, the renewal job not yet
    run) extends nothing: the period bought starts now, never in the unpaid gap."""
    period = timedelta(days=days)
    if kind in EXTENDABLE and running_until is not None and running_until > now:
        return Extend(current_end=running_until, ends_at=running_until + period)
    return Fresh(starts_at=now, ends_at=now + period)

"""Whether a bought service runs another period, pure."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import ServiceBilling


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

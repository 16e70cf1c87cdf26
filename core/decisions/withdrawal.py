"""A supplier's withdrawal request, decided: how much he may ask to be paid. Pure.

Paying a request out posts the withdrawal with the payable's floor
(``SUPPLIER_PAYABLE_FLOOR``), which the ledger keeps under any concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.decisions.refusal import Refusal
from core.errors import InsufficientPayable


@dataclass(frozen=True)
class PayableContext:
    """What a withdrawal request reads: the supplier's payable and what he already asked
    for in requests still waiting for an admin."""

    supplier_id: int
    payable: int
    pending: int


def withdrawable(payable: int, pending: int) -> int:
    """What may be requested now: the payable less requests still waiting, never below 0."""
    return max(payable - pending, 0)


@dataclass(frozen=True)
class Ask:
    """Store a request for ``amount`` and tell the admins."""

    amount: int


def decide_withdrawal_request(ctx: PayableContext, amount: int) -> Ask | Refusal:
    """``amount`` (already a valid amount, ``check_amount``) if the supplier has it."""
    unrequested = ctx.payable - ctx.pending  # below 0 when refunds took back what he asked
    if amount > unrequested:
        return Refusal(
            InsufficientPayable(
                shortfall=amount - unrequested,
                available=withdrawable(ctx.payable, ctx.pending),
                needed=amount,
            )
        )
    return Ask(amount)

"""How far a balance may go down, pure."""

from __future__ import annotations

from core.errors import InsufficientBalance

# A supplier's payable never goes below zero: he is paid what he earned, no more.
SUPPLIER_PAYABLE_FLOOR = 0


def reseller_floor(credit_limit: int) -> int:
    """The lowest balance a reseller may reach: minus his credit line (0 without one)."""
    return -credit_limit


def shortfall(balance: int, credit_limit: int, amount: int) -> int:
    """How much more money spending ``amount`` needs (0: balance and credit cover it)."""
    return max(0, reseller_floor(credit_limit) - (balance - amount))


def insufficient_balance(balance: int, floor: int, amount: int) -> InsufficientBalance:
    """Spending ``amount`` from ``balance`` would end below ``floor``: by how much, what
    may be spent, what was needed."""
    return InsufficientBalance(
        shortfall=floor - (balance - amount), spendable=balance - floor, needed=amount
    )

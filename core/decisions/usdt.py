"""USDT on TRON (TRC20), decided: what a payer must send, and which payment a transfer
pays. Pure: no database, no clock, no chain.

Amounts are integers of the token's smallest unit (TRC20 USDT has 6 decimals, so
``12_347_000`` is 12.347000 USDT); money in our currency stays in fen. A payment's payable
amount is its nominal amount (fen at the admins' rate, rounded up to a whole cent of USDT)
plus a few thousandths that no other payment still able to be paid expects, so a transfer
names its payment by its amount alone.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

USDT_DECIMALS = 6
UNITS_PER_USDT = 1_000_000  # 10 ** USDT_DECIMALS
NOMINAL_STEP = 10_000  # the nominal amount is a whole 0.01 USDT
PAYABLE_STEP = 1_000  # what tells payments apart: 0.001 USDT
MAX_SLOTS = 99  # at most 0.099 USDT above the nominal amount


def nominal_units(amount_fen: int, rate_fen_per_usdt: int) -> int:
    """``amount_fen`` in USDT units at ``rate_fen_per_usdt`` (fen per 1 USDT), rounded up
    to a whole 0.01 USDT, so the platform never receives less than it credits."""
    if amount_fen <= 0:
        raise ValueError("amount_fen must be positive")
    if rate_fen_per_usdt <= 0:
        raise ValueError("rate_fen_per_usdt must be positive")
    units = -(-amount_fen * UNITS_PER_USDT // rate_fen_per_usdt)  # ceiling division
    return -(-units // NOMINAL_STEP) * NOMINAL_STEP


def fen_for_units(units: int, rate_fen_per_usdt: int) -> int:
    """What ``units`` of USDT are worth in fen at the rate, rounded down (an admin crediting
    a transfer that paid no payment credits no more than arrived)."""
    return units * rate_fen_per_usdt // UNITS_PER_USDT


def payable_units(nominal: int, taken: Collection[int], slots: int = MAX_SLOTS) -> int | None:
    """The nominal amount plus the fewest thousandths (at least one) that no payment in
    ``taken`` (the payable amounts of payments still open or within their grace) expects;
    None when every slot is taken (too many payments of this size at once)."""
    for slot in range(1, slots + 1):
        candidate = nominal + slot * PAYABLE_STEP
        if candidate not in taken:
            return candidate
    return None


# -- the exchange rate an admin sets ------------------------------------------------------

#: A sane price of 1 USDT (a US-dollar stablecoin) in the deployment's currency, in minor
#: units: wide enough for years of market moves, narrow enough that a slipped decimal point
#: (72.50 for 7.25) falls outside. A currency not listed has no absolute range, only the
#: confirmation below.
RATE_RANGES: dict[str, tuple[int, int]] = {
    "CNY": (5_00, 10_00),
    "HKD": (6_00, 10_00),
    "USD": (80, 1_20),
    "EUR": (60, 1_40),
}
#: A new rate further than this from the one in force (basis points of it) is set only once
#: the admin confirms it: a typo inside the range still changes what every top-up credits.
RATE_CONFIRM_BPS = 2_000


@dataclass(frozen=True)
class RateAccepted:
    """Set it."""


@dataclass(frozen=True)
class RateToConfirm:
    """Set it only when the admin confirms: it moves the rate by ``change_bps``."""

    change_bps: int


@dataclass(frozen=True)
class RateOutOfRange:
    """Refused whatever the admin says: outside ``low``..``high`` for the currency."""

    low: int
    high: int


RateDecision = RateAccepted | RateToConfirm | RateOutOfRange


def decide_rate(new: int, current: int | None, currency: str) -> RateDecision:
    """Whether ``new`` fen per USDT may replace ``current`` (None: the first rate) in a
    deployment keeping its money in ``currency``."""
    if new <= 0:
        raise ValueError("a rate must be positive")
    low, high = RATE_RANGES.get(currency.upper(), (1, new))
    if not low <= new <= high:
        return RateOutOfRange(low, high)
    if current is None or current <= 0:
        return RateAccepted()
    change_bps = abs(new - current) * 10_000 // current
    if change_bps > RATE_CONFIRM_BPS:
        return RateToConfirm(change_bps)
    return RateAccepted()


def format_units(units: int) -> str:
    """``12347000`` → ``"12.347000"`` (all six decimals: what the payer types)."""
    whole, frac = divmod(units, UNITS_PER_USDT)
    return f"{whole}.{frac:06d}"


@dataclass(frozen=True)
class ChainRules:
    """What a transfer must be to pay us: to our deposit address, of the USDT contract,
    buried under ``confirmations`` blocks; late by at most ``grace`` after expiry."""

    deposit_address: str
    contract: str
    confirmations: int
    grace: timedelta


@dataclass(frozen=True)
class Transfer:
    """One incoming TRC20 transfer as the chain reports it. ``block`` is None while the
    transaction is not yet in a block; ``succeeded`` is its receipt's result."""

    tx_id: str
    to_address: str
    contract: str
    amount: int
    paid_at: datetime  # the block's timestamp
    block: int | None
    succeeded: bool = True


@dataclass(frozen=True)
class OpenPayment:
    """A USDT payment that a transfer may still pay (created, or expired within grace)."""

    payment_id: str
    payable: int
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class NotOurs:
    """Not a USDT payment to us (another token, another address, a failed transaction):
    ignored, never credited nor listed."""

    reason: str  # "address" | "contract" | "failed"


@dataclass(frozen=True)
class Unconfirmed:
    """Ours, but not yet buried deep enough: looked at again on the next run."""

    have: int
    need: int


@dataclass(frozen=True)
class Credit:
    """Pays ``payment_id``; ``late`` when it came after expiry, within the grace."""

    payment_id: str
    late: bool


@dataclass(frozen=True)
class Mismatched:
    """USDT that reached us and pays no payment: kept and shown to admins."""

    reason: str  # "amount" (no payment expects it) | "late" (after expiry and grace)
    payment_id: str | None = None  # the payment it came too late for


TransferDecision = NotOurs | Unconfirmed | Credit | Mismatched


def confirmations(block: int | None, latest_block: int) -> int:
    """Blocks on top of the transfer's: 0 while unmined or in the latest block."""
    if block is None:
        return 0
    return max(latest_block - block, 0)


def decide_transfer(
    transfer: Transfer,
    latest_block: int,
    payments: Sequence[OpenPayment],
    rules: ChainRules,
) -> TransferDecision:
    """Which payment ``transfer`` pays, if any: the exact payable amount, paid after the
    payment was made and before it expired (or within the grace after)."""
    if transfer.to_address != rules.deposit_address:
        return NotOurs("address")
    if transfer.contract != rules.contract:
        return NotOurs("contract")
    if not transfer.succeeded:
        return NotOurs("failed")
    have = confirmations(transfer.block, latest_block)
    if have < rules.confirmations:
        return Unconfirmed(have, rules.confirmations)
    candidates = sorted(
        (p for p in payments if p.payable == transfer.amount and p.created_at <= transfer.paid_at),
        key=lambda p: p.created_at,
        reverse=True,  # the newest payment of that amount the transfer could be for
    )
    if not candidates:
        return Mismatched("amount")
    for payment in candidates:
        if transfer.paid_at <= payment.expires_at:
            return Credit(payment.payment_id, late=False)
    for payment in candidates:
        if transfer.paid_at <= payment.expires_at + rules.grace:
            return Credit(payment.payment_id, late=True)
    return Mismatched("late", candidates[0].payment_id)

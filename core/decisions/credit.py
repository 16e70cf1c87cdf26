"""Credit lines (账期垫资), pure: the suggested limit, a day's interest, how a top-up repays,
whether a purchase may draw on the line.

    suggest_limit(history)              -> Suggestion (the figures it used, and the limit)
    daily_interest(drawn, rate_bps)     -> ⌈drawn × rate_bps / 10 000⌉ (toward the platform)
    days_to_accrue(starts, through, today) -> the days still to post, oldest first
    allocate_repayment(amount, interest_owed) -> Repayment (interest first, then principal)
    may_draw(balance, total, blocked)   -> a purchase may end below zero only on a usable line
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from core.money import BPS

# The history the suggestion reads: the trailing 90 days.
HISTORY_DAYS = 90
# The suggestion is this share of a typical month's spend ...
MONTH_SHARE_BPS = 5_000
# ... rounded down to whole units of this (100.00)
ROUND_TO = 100_00


@dataclass(frozen=True)
class History:
    """A reseller's own last 90 days, as read from the ledger and the orders."""

    spend_90d: int  # what his orders cost, refunds taken back
    refunds_90d: int  # what was refunded to him
    active_days: int  # days with at least one order
    weeks_active: int  # of the 13 weeks, how many had an order
    top_ups: int  # how many top-ups
    top_up_total: int


@dataclass(frozen=True)
class Suggestion:
    history: History
    monthly_spend: int  # spend_90d / 3
    regularity_bps: int  # weeks_active / 13
    refund_bps: int  # refunds / (spend + refunds)
    top_up_bps: int  # top-ups cover spend (capped at 100%)
    limit: int


def suggest_limit(history: History) -> Suggestion:
    """Half a month's spend, scaled by how regularly he buys, less what he had refunded,
    scaled by how well his top-ups kept up with his spend; rounded down to 100.00."""
    weeks = 13
    monthly = history.spend_90d // 3
    regularity = min(BPS, history.weeks_active * BPS // weeks)
    gross = history.spend_90d + history.refunds_90d
    refund = history.refunds_90d * BPS // gross if gross else 0
    covered = min(BPS, history.top_up_total * BPS // history.spend_90d) if history.spend_90d else 0
    limit = monthly * MONTH_SHARE_BPS // BPS
    limit = limit * regularity // BPS
    limit = limit * (BPS - min(BPS, 2 * refund)) // BPS  # refunds count double
    limit = limit * covered // BPS
    return Suggestion(
        history=history,
        monthly_spend=monthly,
        regularity_bps=regularity,
        refund_bps=refund,
        top_up_bps=covered,
        limit=limit // ROUND_TO * ROUND_TO,
    )


def daily_interest(drawn: int, rate_bps: int) -> int:
    """One day's interest on ``drawn`` (the principal below zero), rounded up."""
    if drawn <= 0 or rate_bps <= 0:
        return 0
    return -(-drawn * rate_bps // BPS)


def days_to_accrue(starts_on: date, accrued_through: date | None, today: date) -> list[date]:
    """The whole days not posted yet: from the day after the last one posted (or the line's
    first day) to yesterday; today is not over."""
    first = starts_on if accrued_through is None else accrued_through + timedelta(days=1)
    return [first + timedelta(days=n) for n in range((today - first).days)]


@dataclass(frozen=True)
class Repayment:
    interest: int  # paid off the interest owed
    principal: int  # the rest, onto the balance

    @property
    def total(self) -> int:
        return self.interest + self.principal


def allocate_repayment(amount: int, interest_owed: int) -> Repayment:
    """A top-up pays the interest owed first, then the balance."""
    to_interest = min(max(0, interest_owed), max(0, amount))
    return Repayment(interest=to_interest, principal=amount - to_interest)


def due_on(starts_on: date, term_days: int) -> date:
    """The last day of the term: a line granted on the 1st for 30 days is due on the 30th."""
    return starts_on + timedelta(days=term_days - 1)


def overdue(due: date, today: date) -> bool:
    return today > due


def usable_limit(credit_limit: int, *, blocked: bool) -> int:
    """The credit a purchase may draw on: none past the due date or while frozen."""
    return 0 if blocked else credit_limit


def would_draw(balance: int, total: int) -> bool:
    """Spending ``total`` would take the balance (further) below zero."""
    return balance - total < 0

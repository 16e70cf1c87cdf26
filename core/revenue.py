"""The platform's revenue by source, read from the ledger's own entries.

Each source is one platform account (owner ``PLATFORM_OWNER``); ``REVENUE_SOURCES`` is the
one place that names them, so a new lever (ads, services, data) adds one line here and its
revenue appears in ``kameng reports revenue``, the admin's /reports and ``kameng ledger
check``. The platform's other accounts are clearing accounts (``CLEARING``): money passing
through, not earned. A report's total is the sum of the revenue accounts' entries in the
window, so it equals the ledger to the fen; the check proves that every platform account
is one or the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.clock import Clock
from core.db import Database
from core.errors import InvalidInput
from core.models import PLATFORM_OWNER, Account, LedgerEntry, LedgerTransaction
from core.rights import require_admin

# source → the platform account kind its revenue is posted to (one line per lever)
REVENUE_SOURCES: dict[str, str] = {
    "spread": "platform_spread",
    "commission": "platform_commission",
    "interest": "platform_interest",
    # a cost, not an income: what payment providers keep of top-ups (negative in a report)
    "payment_fees": "platform_payment_fees",
    "ads": "platform_ads",
    "services": "platform_services",
    "data": "platform_data",
}
# the platform's accounts that hold money passing through, not revenue
CLEARING: frozenset[str] = frozenset(
    {"topup_clearing", "payout_clearing", "fulfilment_hold"}  # fulfilment: paid, not delivered
)
MAX_DAYS = 3_660


@dataclass(frozen=True)
class RevenueLine:
    source: str
    amount: int  # net: refunds taken back
    transactions: int


@dataclass(frozen=True)
class RevenueReport:
    first_day: date
    last_day: date
    lines: tuple[RevenueLine, ...]
    ledger_total: int  # the revenue accounts' movements in the window, summed on their own

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


class Revenue:
    def __init__(self, db: Database, clock: Clock, timezone: str) -> None:
        self._db = db
        self._clock = clock
        self._tz = ZoneInfo(timezone)

    async def report(
        self, first_day: date, last_day: date, *, admin_telegram_id: int | None = None
    ) -> RevenueReport:
        """Revenue per source over the local days ``first_day`` … ``last_day`` (inclusive).
        ``admin_telegram_id`` None: the operator (CLI)."""
        if last_day < first_day or (last_day - first_day).days > MAX_DAYS:
            raise InvalidInput(field="to")
        starts = _midnight(first_day, self._tz)
        ends = _midnight(last_day + timedelta(days=1), self._tz)
        window = (
            Account.owner_id == PLATFORM_OWNER,
            LedgerTransaction.created_at >= starts,
            LedgerTransaction.created_at < ends,
        )
        async with self._db.reading() as session:
            if admin_telegram_id is not None:
                await require_admin(session, admin_telegram_id, "reports.revenue")
            rows = await session.execute(
                select(
                    Account.kind,
                    func.coalesce(func.sum(LedgerEntry.amount), 0),
                    func.count(func.distinct(LedgerEntry.transaction_id)),
                )
                .join(Account, Account.id == LedgerEntry.account_id)
                .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
                .where(*window, Account.kind.in_(list(REVENUE_SOURCES.values())))
                .group_by(Account.kind)
            )
            by_kind = {str(kind): (int(total), int(count)) for kind, total, count in rows}
            ledger_total = await session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0))
                .join(Account, Account.id == LedgerEntry.account_id)
                .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
                .where(*window, Account.kind.not_in(list(CLEARING)))
            )
        lines = tuple(
            RevenueLine(source, *by_kind.get(kind, (0, 0)))
            for source, kind in REVENUE_SOURCES.items()
        )
        return RevenueReport(first_day, last_day, lines, int(ledger_total or 0))

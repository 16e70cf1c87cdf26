"""``kameng ledger check``: proofs that money and stock are consistent.

Each check is one query that returns the offending rows; an empty result is a proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.models import (
    Account,
    AccountKind,
    Code,
    CodeStatus,
    LedgerEntry,
    LedgerTransaction,
    LineStatus,
    Order,
    OrderLine,
    Sku,
    StockKind,
    User,
)

_SHOW = 20  # offenders listed per problem; the count is always complete


@dataclass
class CheckReport:
    problems: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, name: str, offenders: list[str]) -> None:
        if offenders:
            self.problems[name] = offenders

    def render(self) -> str:
        lines = [f"{name}: {count}" for name, count in self.counts.items()]
        if self.ok:
            return "\n".join(
                [*lines, "OK: the ledger balances and every sold code is accounted for"]
            )
        for name, offenders in self.problems.items():
            lines.append(f"FAIL {name}: {len(offenders)} found")
            lines.extend(f"  - {offender}" for offender in offenders[:_SHOW])
        return "\n".join(lines)


async def _rows(session: AsyncSession, statement: object) -> list[str]:
    result = await session.execute(statement)  # type: ignore[call-overload]
    return [", ".join(f"{k}={v}" for k, v in row._mapping.items()) for row in result]


async def check_ledger(db: Database) -> CheckReport:
    report = CheckReport()
    async with db.reading() as session:
        report.counts["transactions"] = int(
            await session.scalar(select(func.count()).select_from(LedgerTransaction)) or 0
        )
        report.counts["sold codes"] = int(
            await session.scalar(select(func.count()).where(Code.status == CodeStatus.SOLD)) or 0
        )
        entry_sum = func.sum(LedgerEntry.amount)
        report.add(
            "transactions whose entries do not sum to zero",
            await _rows(
                session,
                select(LedgerEntry.transaction_id, entry_sum.label("sum"))
                .group_by(LedgerEntry.transaction_id)
                .having(entry_sum != 0),
            ),
        )
        report.add(
            "transactions with fewer than two entries",
            await _rows(
                session,
                select(LedgerTransaction.id, func.count(LedgerEntry.id).label("entries"))
                .outerjoin(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .group_by(LedgerTransaction.id)
                .having(func.count(LedgerEntry.id) < 2),
            ),
        )
        sums = (
            select(LedgerEntry.account_id, func.sum(LedgerEntry.amount).label("total"))
            .group_by(LedgerEntry.account_id)
            .subquery()
        )
        report.add(
            "accounts whose cached balance differs from their entries",
            await _rows(
                session,
                select(
                    Account.id,
                    Account.kind,
                    Account.owner_id,
                    Account.balance,
                    func.coalesce(sums.c.total, 0).label("entries"),
                )
                .outerjoin(sums, sums.c.account_id == Account.id)
                .where(Account.balance != func.coalesce(sums.c.total, 0)),
            ),
        )
        report.add(
            "resellers below their credit limit",
            await _rows(
                session,
                select(User.telegram_id, Account.balance, User.credit_limit)
                .join(Account, Account.owner_id == User.id)
                .where(
                    Account.kind == AccountKind.RESELLER_BALANCE,
                    Account.balance < -User.credit_limit,
                ),
            ),
        )
        delivered = func.sum(case((OrderLine.status == LineStatus.DELIVERED, 1), else_=0))
        unique_codes = (
            select(Code.id, Code.status)
            .join(Sku, Sku.id == Code.sku_id)
            .where(Sku.stock_kind == StockKind.UNIQUE)
            .subquery()
        )
        lines = func.coalesce(delivered, 0)
        sold = unique_codes.c.status == CodeStatus.SOLD
        report.add(
            "unique codes sold but not in exactly one delivered line, or delivered but not sold",
            await _rows(
                session,
                select(
                    unique_codes.c.id.label("code_id"),
                    unique_codes.c.status,
                    lines.label("delivered_lines"),
                )
                .outerjoin(OrderLine, OrderLine.code_id == unique_codes.c.id)
                .group_by(unique_codes.c.id, unique_codes.c.status)
                .having(or_(and_(sold, lines != 1), and_(~sold, lines != 0))),
            ),
        )
        report.add(
            "orders whose lines do not add up to the order",
            await _rows(
                session,
                select(
                    Order.id,
                    Order.quantity,
                    Order.total,
                    func.count(OrderLine.id).label("lines"),
                    func.coalesce(func.sum(OrderLine.price), 0).label("lines_total"),
                )
                .outerjoin(OrderLine, OrderLine.order_id == Order.id)
                .group_by(Order.id, Order.quantity, Order.total)
                .having(
                    (func.count(OrderLine.id) != Order.quantity)
                    | (func.coalesce(func.sum(OrderLine.price), 0) != Order.total)
                ),
            ),
        )
    return report

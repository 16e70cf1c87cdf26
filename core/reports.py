"""Admin reports: sales, the platform's revenue as the ledger has it, payables, the best
sellers, a sales chart (PNG) and a CSV export of orders.

Periods are calendar days in the configured timezone (today, the last 7 or 30 days
including today). Revenue by source is the net of the ledger entries on the platform's
spread and commission accounts in the period, so a report agrees with the ledger to the
fen; refunds in the period count against it.
"""

from __future__ import annotations

import asyncio
import csv
import enum
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock, as_utc
from core.db import Database
from core.errors import InvalidInput
from core.models import (
    Account,
    AccountKind,
    LedgerEntry,
    LedgerTransaction,
    LineStatus,
    Order,
    OrderLine,
    Sku,
    Supplier,
    User,
)
from core.money import format_amount
from core.promotions import zone
from core.rights import require_admin

TOP = 5
MAX_EXPORT_DAYS = 366


class Period(enum.StrEnum):
    TODAY = "today"
    WEEK = "7d"
    MONTH = "30d"

    @property
    def days(self) -> int:
        return {"today": 1, "7d": 7, "30d": 30}[self.value]


@dataclass(frozen=True)
class Ranked:
    key: str  # SKU code, or the reseller's Telegram id
    name: str
    units: int
    gmv: int


@dataclass(frozen=True)
class Bucket:
    starts_at: datetime  # local time
    orders: int
    units: int
    gmv: int


@dataclass(frozen=True)
class SalesReport:
    period: Period
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC (now)
    timezone: str
    orders: int
    units: int
    gmv: int
    refunds: int
    spread: int
    commission: int
    supplier_earned: int
    supplier_payable: int  # owed to suppliers now, all periods
    top_skus: list[Ranked]
    top_resellers: list[Ranked]
    buckets: list[Bucket]
    hourly: bool

    @property
    def platform_revenue(self) -> int:
        return self.spread + self.commission


@dataclass(frozen=True)
class CsvExport:
    filename: str
    content: bytes
    rows: int


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return as_utc(datetime.combine(day, time(0), tzinfo=tz))


async def _ledger_sum(
    session: AsyncSession,
    kind: AccountKind,
    starts_at: datetime,
    ends_at: datetime,
    *,
    transaction_kinds: tuple[str, ...] = (),
    positive_only: bool = False,
) -> int:
    query = (
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(Account, Account.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(
            Account.kind == kind,
            LedgerTransaction.created_at >= starts_at,
            LedgerTransaction.created_at < ends_at,
        )
    )
    if transaction_kinds:
        query = query.where(LedgerTransaction.kind.in_(transaction_kinds))
    if positive_only:
        query = query.where(LedgerEntry.amount > 0)
    return int(await session.scalar(query) or 0)


def _in_period(starts_at: datetime, ends_at: datetime) -> list[Any]:
    return [Order.created_at >= starts_at, Order.created_at < ends_at]


class Reports:
    def __init__(self, db: Database, clock: Clock, timezone: str) -> None:
        self._db = db
        self._clock = clock
        self._timezone = timezone

    @property
    def tz(self) -> ZoneInfo:
        return zone(self._timezone)

    async def summary(self, admin_telegram_id: int, period: Period) -> SalesReport:
        tz = self.tz
        now = self._clock.now()
        today = as_utc(now).astimezone(tz).date()
        first_day = today - timedelta(days=period.days - 1)
        starts_at = local_midnight(first_day, tz)
        hourly = period is Period.TODAY
        if hourly:
            boundaries = [starts_at + timedelta(hours=h) for h in range(25)]
        else:
            boundaries = [
                local_midnight(first_day + timedelta(days=d), tz) for d in range(period.days + 1)
            ]
        ends_at = now + timedelta(microseconds=1)  # include an order made this instant
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id)
            totals = (
                await session.execute(
                    select(
                        func.count(Order.id),
                        func.coalesce(func.sum(Order.quantity), 0),
                        func.coalesce(func.sum(Order.total), 0),
                    ).where(*_in_period(starts_at, ends_at))
                )
            ).one()
            report = SalesReport(
                period=period,
                starts_at=starts_at,
                ends_at=now,
                timezone=self._timezone,
                orders=int(totals[0]),
                units=int(totals[1]),
                gmv=int(totals[2]),
                refunds=await _ledger_sum(
                    session,
                    AccountKind.RESELLER_BALANCE,
                    starts_at,
                    ends_at,
                    transaction_kinds=("refund",),
                    positive_only=True,
                ),
                spread=await _ledger_sum(session, AccountKind.PLATFORM_SPREAD, starts_at, ends_at),
                commission=await _ledger_sum(
                    session, AccountKind.PLATFORM_COMMISSION, starts_at, ends_at
                ),
                supplier_earned=await _ledger_sum(
                    session,
                    AccountKind.SUPPLIER_PAYABLE,
                    starts_at,
                    ends_at,
                    transaction_kinds=("purchase", "refund"),
                ),
                supplier_payable=int(
                    await session.scalar(
                        select(func.coalesce(func.sum(Account.balance), 0)).where(
                            Account.kind == AccountKind.SUPPLIER_PAYABLE
                        )
                    )
                    or 0
                ),
                top_skus=await self._top_skus(session, starts_at, ends_at),
                top_resellers=await self._top_resellers(session, starts_at, ends_at),
                buckets=await self._buckets(session, boundaries, ends_at, tz),
                hourly=hourly,
            )
            return report

    async def _top_skus(
        self, session: AsyncSession, starts_at: datetime, ends_at: datetime
    ) -> list[Ranked]:
        gmv = func.sum(Order.total)
        rows = await session.execute(
            select(Sku.code, Sku.name, func.sum(Order.quantity), gmv)
            .join(Sku, Sku.id == Order.sku_id)
            .where(*_in_period(starts_at, ends_at))
            .group_by(Sku.id, Sku.code, Sku.name)
            .order_by(gmv.desc(), Sku.code)
            .limit(TOP)
        )
        return [Ranked(code, name, int(units), int(total)) for code, name, units, total in rows]

    async def _top_resellers(
        self, session: AsyncSession, starts_at: datetime, ends_at: datetime
    ) -> list[Ranked]:
        gmv = func.sum(Order.total)
        rows = await session.execute(
            select(
                User.telegram_id,
                User.username,
                User.display_name,
                func.sum(Order.quantity),
                gmv,
            )
            .join(User, User.id == Order.user_id)
            .where(*_in_period(starts_at, ends_at))
            .group_by(User.id, User.telegram_id, User.username, User.display_name)
            .order_by(gmv.desc(), User.telegram_id)
            .limit(TOP)
        )
        return [
            Ranked(str(tid), f"@{username}" if username else display, int(units), int(total))
            for tid, username, display, units, total in rows
        ]

    async def _buckets(
        self, session: AsyncSession, boundaries: list[datetime], ends_at: datetime, tz: ZoneInfo
    ) -> list[Bucket]:
        slots = len(boundaries) - 1
        slot = case(
            *[(Order.created_at < edge, index) for index, edge in enumerate(boundaries[1:])],
            else_=slots,
        ).label("slot")
        rows = await session.execute(
            select(
                slot,
                func.count(Order.id),
                func.coalesce(func.sum(Order.quantity), 0),
                func.coalesce(func.sum(Order.total), 0),
            )
            .where(*_in_period(boundaries[0], ends_at))
            .group_by(slot)
        )
        found = {int(index): (int(n), int(units), int(gmv)) for index, n, units, gmv in rows}
        return [
            Bucket(boundaries[i].astimezone(tz), *found.get(i, (0, 0, 0))) for i in range(slots)
        ]

    async def orders_csv(self, admin_telegram_id: int, first: date, last: date) -> CsvExport:
        """Every order made on the local days ``first``..``last``, one row each."""
        if last < first or (last - first).days >= MAX_EXPORT_DAYS:
            raise InvalidInput(field="date_range", value=f"{first}..{last}")
        tz = self.tz
        starts_at = local_midnight(first, tz)
        ends_at = local_midnight(last + timedelta(days=1), tz)
        refunded = func.sum(case((OrderLine.status == LineStatus.REFUNDED, 1), else_=0))
        lines = (
            select(
                OrderLine.order_id.label("order_id"),
                func.sum(OrderLine.supplier_amount).label("supplier"),
                func.sum(OrderLine.platform_spread).label("spread"),
                func.sum(OrderLine.platform_commission).label("commission"),
                refunded.label("refunded"),
            )
            .group_by(OrderLine.order_id)
            .subquery()
        )
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id)
            rows = (
                await session.execute(
                    select(
                        Order,
                        User.telegram_id,
                        User.username,
                        Sku.code,
                        Sku.name,
                        Supplier.name,
                        lines.c.supplier,
                        lines.c.spread,
                        lines.c.commission,
                        lines.c.refunded,
                    )
                    .join(User, User.id == Order.user_id)
                    .join(Sku, Sku.id == Order.sku_id)
                    .join(Supplier, Supplier.id == Order.supplier_id)
                    .outerjoin(lines, lines.c.order_id == Order.id)
                    .where(*_in_period(starts_at, ends_at))
                    .order_by(Order.created_at, Order.id)
                )
            ).all()
        # formatting many rows is CPU work: keep it off the event loop
        content = await asyncio.to_thread(_csv_bytes, list(rows), tz)
        return CsvExport(f"orders-{first.isoformat()}-{last.isoformat()}.csv", content, len(rows))


def _csv_bytes(rows: list[Any], tz: ZoneInfo) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for order, tid, username, code, name, supplier, s_amount, spread, comm, ref in rows:
        created = as_utc(order.created_at)
        writer.writerow(
            [
                order.id,
                created.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
                created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                tid,
                _cell(username or ""),
                code,
                _cell(name),
                _cell(supplier),
                order.quantity,
                format_amount(order.unit_price),
                format_amount(order.total),
                order.status.value,
                int(ref or 0),
                format_amount(int(s_amount or 0)),
                format_amount(int(spread or 0)),
                format_amount(int(comm or 0)),
            ]
        )
    # a BOM so that spreadsheet programs read the Chinese names as UTF-8
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


CSV_COLUMNS = (
    "order_id",
    "created_local",
    "created_utc",
    "reseller_telegram_id",
    "reseller_username",
    "sku_code",
    "sku_name",
    "supplier",
    "quantity",
    "unit_price",
    "total",
    "status",
    "refunded_units",
    "supplier_amount",
    "platform_spread",
    "platform_commission",
)


def _cell(text: str) -> str:
    """Neutralises a spreadsheet formula in a user-written field (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def render_sales_chart(report: SalesReport) -> bytes:
    """A PNG bar chart of GMV per hour (today) or per day; CPU work, run it off the loop.

    Only numbers and dates are drawn (no words), so no CJK font is needed; the caption
    sent with it says what it is in the reader's language."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    labels = [b.starts_at.strftime("%H" if report.hourly else "%m-%d") for b in report.buckets]
    values = [b.gmv / 100 for b in report.buckets]  # drawing only: money stays in int fen
    figure = Figure(figsize=(8, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.bar(range(len(values)), values, color="#2b7bb9")
    step = max(1, len(labels) // 12)
    axes.set_xticks(range(0, len(labels), step), labels[::step], rotation=0, fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    axes.set_ylim(bottom=0)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()

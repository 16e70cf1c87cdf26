"""Demand reports (数据服务): what a category sells, anonymised, sold to its suppliers.

A report covers the 8 weeks before it is bought: units sold by local hour of day, by
weekday, by reseller level, and per week with a forecast of the next (Holt's linear trend);
and, for the buyer's own SKUs in the category, days of stock left at his recent rate and a
restock suggestion. No bucket covering fewer than ``k`` distinct resellers shows a figure
(``None``), and no reseller is ever named. Paid from the supplier's payable to
``platform_data``, once per idempotency key; delivered as a PNG chart and a CSV.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.balance import SUPPLIER_PAYABLE_FLOOR, insufficient_balance
from core.errors import Forbidden, NotFound
from core.ledger import Posting, balance_of, find_transaction, platform, post
from core.models import (
    AccountKind,
    Category,
    Level,
    Order,
    OrderStatus,
    ServiceKind,
    ServiceOffer,
    Sku,
    SkuStatus,
    Supplier,
    User,
)
from core.storefront import stock_counts

WEEKS = 8
K_DEFAULT = 5
RESTOCK_DAYS = 14  # a suggestion covers two weeks at the forecast rate
OWN_RATE_DAYS = 28


@dataclass(frozen=True)
class Bucket:
    label: str
    units: int | None  # None: fewer than k distinct resellers bought here
    resellers: int | None


@dataclass(frozen=True)
class Restock:
    sku: str
    stock: int | None  # None: cyclic
    daily_rate: float  # units a day, over the last 28 days (the supplier's own sales)
    days_left: float | None  # None: no recent sales or cyclic
    suggest: int  # units to add for two weeks at that rate


@dataclass(frozen=True)
class DemandReport:
    category: str
    starts_at: datetime
    ends_at: datetime
    k: int
    by_hour: tuple[Bucket, ...]
    by_weekday: tuple[Bucket, ...]
    by_level: tuple[Bucket, ...]
    by_week: tuple[Bucket, ...]
    forecast: int | None  # units next week; None when the category has fewer than k buyers
    restock: tuple[Restock, ...]


def bucket(label: str, units: int, resellers: int, k: int) -> Bucket:
    """A figure only where at least ``k`` distinct resellers stand behind it."""
    if resellers < k:
        return Bucket(label, None, None)
    return Bucket(label, units, resellers)


def holt_forecast(series: list[int], alpha: float = 0.5, beta: float = 0.3) -> int:
    """Holt's linear trend, one step ahead, rounded and never below zero."""
    if not series:
        return 0
    level, trend = float(series[0]), 0.0
    if len(series) > 1:
        trend = float(series[1] - series[0])
    for value in series[1:]:
        previous = level
        level = alpha * value + (1 - alpha) * (level + trend)
        trend = beta * (level - previous) + (1 - beta) * trend
    return max(0, round(level + trend))


def restock(sku: str, stock: int | None, units_28d: int) -> Restock:
    rate = units_28d / OWN_RATE_DAYS
    if stock is None:
        return Restock(sku, None, rate, None, 0)
    days_left = stock / rate if rate > 0 else None
    suggest = max(0, round(rate * RESTOCK_DAYS) - stock)
    return Restock(sku, stock, rate, days_left, suggest)


@dataclass(frozen=True)
class Bought:
    report: DemandReport
    price: int
    replayed: bool


class DemandReports:
    def __init__(self, db: Database, clock: Clock, timezone: str) -> None:
        self._db = db
        self._clock = clock
        self._tz = ZoneInfo(timezone)

    async def buy(
        self,
        supplier_telegram_id: int,
        offer_code: str,
        category_id: int,
        *,
        idempotency_key: str,
        k: int = K_DEFAULT,
    ) -> Bought:
        """Charges the offer's price to the supplier's payable and builds the report of the
        category as of now. The same key (the bot's Buy button, pressed again) charges
        nothing and returns the report as it was bought: ``replayed``. Two presses at once
        charge once (the second sees the first's transaction)."""
        try:
            return await self._buy_once(
                supplier_telegram_id, offer_code, category_id, idempotency_key, k
            )
        except IntegrityError:  # a concurrent press with this key committed first: replay it
            return await self._buy_once(
                supplier_telegram_id, offer_code, category_id, idempotency_key, k
            )

    async def _buy_once(
        self,
        supplier_telegram_id: int,
        offer_code: str,
        category_id: int,
        idempotency_key: str,
        k: int,
    ) -> Bought:
        now = self._clock.now()
        # the category is part of the key: a button's key sent with another category (a
        # forged press) is another purchase, never a free copy of another category's report
        key = f"data:{supplier_telegram_id}:{category_id}:{idempotency_key}"
        async with self._db.transaction() as session:
            user = await load_user(session, supplier_telegram_id)
            supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
            if supplier is None or not user.is_supplier:
                raise Forbidden(action="demand.buy")
            offer = await session.scalar(
                select(ServiceOffer).where(ServiceOffer.code == offer_code)
            )
            if offer is None or not offer.active or offer.kind is not ServiceKind.DEMAND_REPORT:
                raise NotFound(kind="service", ref=offer_code)
            category = await session.get(Category, category_id)
            if category is None:
                raise NotFound(kind="category", ref=str(category_id))
            # a purchase made before the key named the category (an old Buy button) is
            # still found: pressing that button again must not charge a second time
            first = await find_transaction(session, key) or await find_transaction(
                session, f"data:{supplier_telegram_id}:{idempotency_key}"
            )
            if first is not None:  # bought before: the report as of then, free
                bought_at = as_utc(first.created_at)
            else:
                bought_at = now
                payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
                if payable - offer.price < SUPPLIER_PAYABLE_FLOOR:
                    raise insufficient_balance(payable, SUPPLIER_PAYABLE_FLOOR, offer.price)
                await post(
                    session,
                    key=key,
                    kind="demand_report",
                    postings=[
                        Posting(
                            AccountKind.SUPPLIER_PAYABLE,
                            supplier.id,
                            -offer.price,
                            floor=SUPPLIER_PAYABLE_FLOOR,
                        ),
                        platform(AccountKind.PLATFORM_DATA, offer.price),
                    ],
                    now=now,
                    memo=f"demand report: {category.name}",
                )
            price = offer.price
        report = await self.report(supplier.id, category_id, bought_at, k)
        return Bought(report, price, replayed=first is not None)

    async def report(
        self, supplier_id: int, category_id: int, now: datetime, k: int = K_DEFAULT
    ) -> DemandReport:
        starts_at = now - timedelta(weeks=WEEKS)
        async with self._db.reading() as session:
            category = await session.get(Category, category_id)
            if category is None:
                raise NotFound(kind="category", ref=str(category_id))
            rows = (
                await session.execute(
                    select(Order.created_at, Order.quantity, Order.user_id, Level.name)
                    .join(Sku, Sku.id == Order.sku_id)
                    .join(User, User.id == Order.user_id)
                    .join(Level, Level.id == User.level_id)
                    .where(
                        Sku.category_id == category_id,
                        Order.created_at >= starts_at,
                        Order.created_at < now,
                        Order.status != OrderStatus.REFUNDED,
                    )
                )
            ).all()
            own = list(
                await session.scalars(
                    select(Sku)
                    .where(
                        Sku.supplier_id == supplier_id,
                        Sku.category_id == category_id,
                        Sku.status == SkuStatus.ACTIVE,
                    )
                    .order_by(Sku.code)
                )
            )
            stock = await stock_counts(session, own)
            recent = dict(
                (
                    await session.execute(
                        select(Order.sku_id, func.sum(Order.quantity))
                        .where(
                            Order.sku_id.in_([s.id for s in own] or [0]),
                            Order.created_at >= now - timedelta(days=OWN_RATE_DAYS),
                        )
                        .group_by(Order.sku_id)
                    )
                ).all()
            )
        units: dict[tuple[str, str], int] = {}
        buyers: dict[tuple[str, str], set[int]] = {}
        everyone: set[int] = set()
        for created, quantity, user_id, level in rows:
            local = as_utc(created).astimezone(self._tz)
            week = min(WEEKS - 1, int((as_utc(created) - starts_at) / timedelta(weeks=1)))
            for place in (
                ("hour", f"{local.hour:02d}"),
                ("weekday", str(local.isoweekday())),
                ("level", level),
                ("week", str(week + 1)),
            ):
                units[place] = units.get(place, 0) + int(quantity)
                buyers.setdefault(place, set()).add(int(user_id))
            everyone.add(int(user_id))

        def series(kind: str, labels: list[str]) -> tuple[Bucket, ...]:
            return tuple(
                bucket(label, units.get((kind, label), 0), len(buyers.get((kind, label), ())), k)
                for label in labels
            )

        levels = sorted({str(level) for *_, level in rows})
        weekly = [units.get(("week", str(w)), 0) for w in range(1, WEEKS + 1)]
        return DemandReport(
            category=category.name,
            starts_at=starts_at,
            ends_at=now,
            k=k,
            by_hour=series("hour", [f"{h:02d}" for h in range(24)]),
            by_weekday=series("weekday", [str(d) for d in range(1, 8)]),
            by_level=series("level", levels),
            by_week=series("week", [str(w) for w in range(1, WEEKS + 1)]),
            forecast=holt_forecast(weekly) if len(everyone) >= k else None,
            restock=tuple(
                restock(s.code, stock.get(s.id), int(recent.get(s.id, 0) or 0)) for s in own
            ),
        )


def report_csv(report: DemandReport) -> bytes:
    """section, bucket, units, resellers; a hidden figure is empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(("section", "bucket", "units", "resellers"))
    for section, buckets in (
        ("hour", report.by_hour),
        ("weekday", report.by_weekday),
        ("level", report.by_level),
        ("week", report.by_week),
    ):
        for b in buckets:
            writer.writerow(
                (section, b.label, "" if b.units is None else b.units, b.resellers or "")
            )
    writer.writerow(
        ("forecast", "next week", "" if report.forecast is None else report.forecast, "")
    )
    for r in report.restock:
        writer.writerow(("restock", r.sku, r.suggest, ""))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def render_demand_chart(report: DemandReport) -> bytes:
    """Two panels: units by local hour, and the 8 weeks with the forecast as a ninth bar.
    A hidden bucket is drawn as nothing. Numbers only, so no CJK font is needed."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 5), dpi=100)
    FigureCanvasAgg(figure)
    hours, weeks = figure.subplots(2, 1)
    hours.bar(range(24), [b.units or 0 for b in report.by_hour], color="#2b7bb9")
    hours.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)], fontsize=8)
    weekly = [b.units or 0 for b in report.by_week]
    colors = ["#2b7bb9"] * len(weekly)
    if report.forecast is not None:
        weekly.append(report.forecast)
        colors.append("#f0a030")
    weeks.bar(range(1, len(weekly) + 1), weekly, color=colors)
    weeks.set_xticks(range(1, len(weekly) + 1))
    for axes in (hours, weeks):
        axes.grid(axis="y", alpha=0.3)
        axes.set_ylim(bottom=0)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()

"""A supplier's view of their sales: how they hear about them (a message per order, or an
hourly or daily digest), their products with stock and units sold, and low-stock alerts.

The purchase writes one ``sale`` outbox row per order. The outbox worker hands each one to
``route_sale``, which in one transaction checks the SKU's low-stock alert and then either
returns the instant notice to send, or folds the sale into the supplier's open digest and
finishes the row. ``close_due_digests`` turns each digest whose period has ended into one
``sale_digest`` outbox row. Notices carry SKU, quantity, earning and stock — never a code
and never who bought.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import load_sku, load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.errors import Forbidden, InvalidInput, NotFound
from core.models import (
    LineStatus,
    Order,
    OrderLine,
    SalesDigest,
    SalesDigestLine,
    SalesNotify,
    Sku,
    StockAlert,
    Supplier,
    SupplierSettings,
)
from core.outbox import Envelope, Outcome, enqueue, finish
from core.storefront import _stock as stock_by_sku

SALE = "sale"
SALE_DIGEST = "sale_digest"
LOW_STOCK = "low_stock"
PERIODS = {SalesNotify.HOURLY: timedelta(hours=1), SalesNotify.DAILY: timedelta(days=1)}
MAX_THRESHOLD = 1_000_000


def period_bounds(moment: datetime, period: SalesNotify) -> tuple[datetime, datetime]:
    """The UTC hour or day that ``moment`` falls in."""
    moment = as_utc(moment)
    if period is SalesNotify.HOURLY:
        start = moment.replace(minute=0, second=0, microsecond=0)
    else:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + PERIODS[period]


async def supplier_of(session: AsyncSession, telegram_id: int) -> Supplier:
    """The caller's supplier record; only suppliers may use the supplier menu."""
    user = await load_user(session, telegram_id)
    supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
    if not user.is_supplier or supplier is None:
        raise Forbidden(action="supplier")
    return supplier


async def owned_sku(session: AsyncSession, supplier: Supplier, sku_code: str) -> Sku:
    sku = await load_sku(session, sku_code)
    if sku.supplier_id != supplier.id:
        raise NotFound(kind="sku", ref=sku_code)
    return sku


@dataclass(frozen=True)
class SaleNotice:
    order_id: int
    sku_code: str
    sku_name: str
    quantity: int
    earning: int
    stock: int | None  # left to sell now; None: cyclic stock never runs out


@dataclass(frozen=True)
class ProductLine:
    code: str
    name: str
    status: str
    stock: int | None
    sold_today: int
    sold_7d: int
    sold_30d: int
    threshold: int | None  # low-stock alert below this; None: no alert


@dataclass(frozen=True)
class ProductsPage:
    lines: list[ProductLine]
    total: int


@dataclass(frozen=True)
class ThresholdSet:
    sku_code: str
    threshold: int  # 0: alerts off
    stock: int | None


class SupplierSales:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    # notification settings -------------------------------------------------

    async def notify_mode(self, telegram_id: int) -> SalesNotify:
        async with self._db.reading() as session:
            supplier = await supplier_of(session, telegram_id)
            settings = await session.get(SupplierSettings, supplier.id)
            return settings.sales_notify if settings else SalesNotify.INSTANT

    async def set_notify_mode(self, telegram_id: int, mode: SalesNotify) -> SalesNotify:
        async with self._db.transaction() as session:
            supplier = await supplier_of(session, telegram_id)
            settings = await session.get(SupplierSettings, supplier.id)
            if settings is None:
                session.add(
                    SupplierSettings(
                        supplier_id=supplier.id, sales_notify=mode, updated_at=self._clock.now()
                    )
                )
            else:
                settings.sales_notify = mode
                settings.updated_at = self._clock.now()
            return mode

    # the outbox worker's side ----------------------------------------------

    async def route_sale(self, envelope: Envelope) -> SaleNotice | None:
        """Check the SKU's low-stock alert, then: the notice to send now (instant), or
        ``None`` when the sale went into a digest (the row is finished here, once)."""
        order_id = int(envelope.payload["order_id"])
        earning = int(envelope.payload["earning"])
        async with self._db.reading() as session:  # the common case writes nothing
            order, sku, stock = await _sale(session, order_id)
            settings = await session.get(SupplierSettings, order.supplier_id)
            alert = await session.get(StockAlert, sku.id)
            if (settings is None or settings.sales_notify is SalesNotify.INSTANT) and not (
                _alert_due(alert, stock)
            ):
                return SaleNotice(order.id, sku.code, sku.name, order.quantity, earning, stock)
        now = self._clock.now()
        async with self._db.transaction() as session:
            order, sku, stock = await _sale(session, order_id)
            await _check_alert(session, sku, envelope.user_id, stock, now)
            # Locking the settings row serialises one supplier's digest updates.
            settings = await session.get(SupplierSettings, order.supplier_id, with_for_update=True)
            mode = settings.sales_notify if settings else SalesNotify.INSTANT
            if mode is SalesNotify.INSTANT:
                return SaleNotice(order.id, sku.code, sku.name, order.quantity, earning, stock)
            await _fold(session, order, mode, earning, now)
            await finish(session, envelope, Outcome.ABSORBED, now)
            return None

    async def route_sales(self, envelopes: list[Envelope]) -> list[SaleNotice | None]:
        """``route_sale`` for a burst of one supplier's sales, in one read and one stock
        count per SKU when all are instant notices and no low-stock alert is due; else
        row by row (a digest to fold into or an alert to write)."""
        order_ids = [int(envelope.payload["order_id"]) for envelope in envelopes]
        async with self._db.reading() as session:
            orders = {
                order.id: order
                for order in await session.scalars(select(Order).where(Order.id.in_(order_ids)))
            }
            skus = {
                sku.id: sku
                for sku in await session.scalars(
                    select(Sku).where(Sku.id.in_({order.sku_id for order in orders.values()}))
                )
            }
            stock = await stock_by_sku(session, list(skus.values()))
            modes = await session.scalars(
                select(SupplierSettings.sales_notify).where(
                    SupplierSettings.supplier_id.in_({o.supplier_id for o in orders.values()})
                )
            )
            alerts = await session.scalars(select(StockAlert).where(StockAlert.sku_id.in_(skus)))
            quick = (
                len(orders) == len(set(order_ids))
                and all(mode is SalesNotify.INSTANT for mode in modes)
                and not any(_alert_due(alert, stock[alert.sku_id]) for alert in alerts)
            )
            if quick:
                notices: list[SaleNotice | None] = []
                for envelope, order_id in zip(envelopes, order_ids, strict=True):
                    order = orders[order_id]
                    sku = skus[order.sku_id]
                    earning = int(envelope.payload["earning"])
                    notices.append(
                        SaleNotice(
                            order.id, sku.code, sku.name, order.quantity, earning, stock[sku.id]
                        )
                    )
                return notices
        return [await self.route_sale(envelope) for envelope in envelopes]

    async def close_due_digests(self) -> int:
        """Every digest whose period has ended becomes one outbox message; returns how many."""
        now = self._clock.now()
        due = (SalesDigest.closed_at.is_(None), SalesDigest.period_end <= now)
        async with self._db.reading() as session:  # idle rounds take no write lock
            if await session.scalar(select(SalesDigest.id).where(*due).limit(1)) is None:
                return 0
        async with self._db.transaction() as session:
            closed = (
                await session.execute(
                    update(SalesDigest)
                    .where(*due)
                    .values(closed_at=now)
                    .returning(
                        SalesDigest.id,
                        SalesDigest.supplier_id,
                        SalesDigest.period,
                        SalesDigest.period_start,
                        SalesDigest.period_end,
                    )
                    .execution_options(synchronize_session=False)
                )
            ).all()
            for digest in sorted(closed, key=lambda d: d.id):
                supplier = await session.get(Supplier, digest.supplier_id)
                assert supplier is not None
                await enqueue(
                    session,
                    kind=SALE_DIGEST,
                    user_id=supplier.user_id,
                    payload=await _digest_payload(session, digest),
                    now=now,
                )
            return len(closed)

    async def rearm_alerts(self) -> int:
        """Re-arm fired alerts whose SKU is back at or above its threshold (restocked)."""
        async with self._db.reading() as session:
            fired = list(
                await session.execute(
                    select(Sku, StockAlert.threshold)
                    .join(StockAlert, StockAlert.sku_id == Sku.id)
                    .where(StockAlert.armed.is_(False))
                )
            )
            if not fired:
                return 0
            stock = await stock_by_sku(session, [sku for sku, _ in fired])
        restocked = [sku.id for sku, threshold in fired if (stock[sku.id] or 0) >= threshold]
        if not restocked:
            return 0
        async with self._db.transaction() as session:
            await session.execute(
                update(StockAlert)
                .where(StockAlert.sku_id.in_(restocked), StockAlert.armed.is_(False))
                .values(armed=True, updated_at=self._clock.now())
                .execution_options(synchronize_session=False)
            )
        return len(restocked)

    # my products -------------------------------------------------------------

    async def products(self, telegram_id: int, *, offset: int = 0, limit: int = 10) -> ProductsPage:
        """The supplier's SKUs with stock, units sold today / 7 / 30 days, alert threshold."""
        now = self._clock.now()
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        async with self._db.reading() as session:
            supplier = await supplier_of(session, telegram_id)
            total = await session.scalar(
                select(func.count()).select_from(Sku).where(Sku.supplier_id == supplier.id)
            )
            skus = list(
                await session.scalars(
                    select(Sku)
                    .where(Sku.supplier_id == supplier.id)
                    .order_by(Sku.code)
                    .offset(offset)
                    .limit(limit)
                )
            )
            stock = await stock_by_sku(session, skus)
            sold = await _units_sold(session, [s.id for s in skus], now, today)
            rows = await session.execute(
                select(StockAlert.sku_id, StockAlert.threshold).where(
                    StockAlert.sku_id.in_([s.id for s in skus])
                )
            )
            thresholds = {sku_id: threshold for sku_id, threshold in rows}
            return ProductsPage(
                [
                    ProductLine(
                        sku.code,
                        sku.name,
                        sku.status.value,
                        stock[sku.id],
                        *sold.get(sku.id, (0, 0, 0)),
                        threshold=thresholds.get(sku.id),
                    )
                    for sku in skus
                ],
                int(total or 0),
            )

    async def set_threshold(self, telegram_id: int, sku_code: str, threshold: int) -> ThresholdSet:
        """Alert the supplier when the SKU's stock falls below ``threshold`` (0: never)."""
        if not 0 <= threshold <= MAX_THRESHOLD:
            raise InvalidInput(field="threshold", value=threshold, max=MAX_THRESHOLD)
        now = self._clock.now()
        async with self._db.transaction() as session:
            supplier = await supplier_of(session, telegram_id)
            sku = await owned_sku(session, supplier, sku_code)
            stock = (await stock_by_sku(session, [sku]))[sku.id]
            alert = await session.get(StockAlert, sku.id)
            if threshold == 0:
                if alert is not None:
                    await session.delete(alert)
                return ThresholdSet(sku.code, 0, stock)
            # Armed only while stock is at or above the line: a SKU already below it alerts
            # after it has been restocked and falls again.
            armed = stock is None or stock >= threshold
            if alert is None:
                session.add(
                    StockAlert(sku_id=sku.id, threshold=threshold, armed=armed, updated_at=now)
                )
            else:
                alert.threshold, alert.armed, alert.updated_at = threshold, armed, now
            return ThresholdSet(sku.code, threshold, stock)


async def _sale(session: AsyncSession, order_id: int) -> tuple[Order, Sku, int | None]:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound(kind="order", ref=str(order_id))
    sku = await session.get(Sku, order.sku_id)
    assert sku is not None
    return order, sku, (await stock_by_sku(session, [sku]))[sku.id]


def _alert_due(alert: StockAlert | None, stock: int | None) -> bool:
    """Whether the alert fires or re-arms at this stock level."""
    if alert is None or stock is None:
        return False
    return (stock < alert.threshold) == alert.armed


async def _check_alert(
    session: AsyncSession, sku: Sku, supplier_user_id: int, stock: int | None, now: datetime
) -> None:
    """Once per crossing: fire when armed and below the threshold; re-arm at or above it."""
    alert = await session.get(StockAlert, sku.id, with_for_update=True)
    if alert is None or not _alert_due(alert, stock):
        return
    assert stock is not None
    if alert.armed:
        alert.armed, alert.alerted_at, alert.updated_at = False, now, now
        await enqueue(
            session,
            kind=LOW_STOCK,
            user_id=supplier_user_id,
            payload={
                "sku": sku.code,
                "name": sku.name,
                "stock": stock,
                "threshold": alert.threshold,
            },
            now=now,
        )
    else:
        alert.armed, alert.updated_at = True, now


async def _fold(
    session: AsyncSession, order: Order, period: SalesNotify, earning: int, now: datetime
) -> None:
    """Add one order to the open digest of the period it was made in."""
    start, end = period_bounds(order.created_at, period)
    digest = await session.scalar(
        select(SalesDigest).where(
            SalesDigest.supplier_id == order.supplier_id,
            SalesDigest.period == period,
            SalesDigest.period_start == start,
            SalesDigest.closed_at.is_(None),
        )
    )
    if digest is None:
        digest = SalesDigest(
            supplier_id=order.supplier_id,
            period=period,
            period_start=start,
            period_end=end,
            created_at=now,
        )
        session.add(digest)
        await session.flush()
    line = await session.get(SalesDigestLine, (digest.id, order.sku_id))
    if line is None:
        line = SalesDigestLine(
            digest_id=digest.id, sku_id=order.sku_id, orders=0, units=0, earnings=0
        )
        session.add(line)
    line.orders += 1
    line.units += order.quantity
    line.earnings += earning


async def _digest_payload(session: AsyncSession, digest: Any) -> dict[str, Any]:
    rows = await session.execute(
        select(
            Sku.code,
            Sku.name,
            SalesDigestLine.orders,
            SalesDigestLine.units,
            SalesDigestLine.earnings,
        )
        .join(Sku, Sku.id == SalesDigestLine.sku_id)
        .where(SalesDigestLine.digest_id == digest.id)
        .order_by(SalesDigestLine.earnings.desc(), Sku.code)
    )
    lines = [
        {"sku": code, "name": name, "orders": orders, "units": units, "earnings": earnings}
        for code, name, orders, units, earnings in rows
    ]
    return {
        "digest_id": digest.id,
        "period": SalesNotify(digest.period).value,
        "start": as_utc(digest.period_start).isoformat(),
        "end": as_utc(digest.period_end).isoformat(),
        "lines": lines,
        "orders": sum(line["orders"] for line in lines),
        "units": sum(line["units"] for line in lines),
        "earnings": sum(line["earnings"] for line in lines),
    }


async def _units_sold(
    session: AsyncSession, sku_ids: list[int], now: datetime, today: datetime
) -> dict[int, tuple[int, int, int]]:
    """Delivered (not refunded) units per SKU: since midnight UTC, in 7 and in 30 days."""
    if not sku_ids:
        return {}

    def since(moment: datetime) -> Any:
        return func.coalesce(func.sum(case((Order.created_at >= moment, 1), else_=0)), 0)

    rows = await session.execute(
        select(
            Order.sku_id,
            since(today),
            since(now - timedelta(days=7)),
            func.count(OrderLine.id),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.sku_id.in_(sku_ids),
            Order.created_at >= now - timedelta(days=30),
            OrderLine.status == LineStatus.DELIVERED,
        )
        .group_by(Order.sku_id)
    )
    return {sku_id: (int(d), int(w), int(m)) for sku_id, d, w, m in rows}

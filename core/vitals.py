"""The numbers an operator watches, read in one go when metrics are scraped.

Stock per SKU on sale (and whether it is low), the outbox's backlog and its oldest notice,
and the progress of the broadcasts being sent. Read only: a few grouped queries in one
read transaction. The fronts turn them into their own format (``web/health.py``:
Prometheus); ``core`` knows nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from core.clock import Clock
from core.db import Database
from core.delivery.claim import upstream_stock
from core.models import (
    BroadcastCampaign,
    BroadcastRecipient,
    CampaignStatus,
    Code,
    CodeStatus,
    Sku,
    SkuStatus,
    StockAlert,
    StockKind,
    UpstreamSku,
)
from core.outbox import Outbox


@dataclass(frozen=True)
class SkuStock:
    sku: str
    available: int
    low_below: int  # the supplier's alert threshold, or the platform's default

    @property
    def low(self) -> bool:
        return self.available < self.low_below


@dataclass(frozen=True)
class BroadcastProgress:
    campaign_id: int
    recipients: dict[str, int]  # status (pending, sending, sent, blocked, failed) → count


@dataclass(frozen=True)
class Vitals:
    stock: tuple[SkuStock, ...]
    outbox_pending: int
    outbox_oldest_age: float  # seconds since the oldest pending notice was written (0: none)
    broadcasts: tuple[BroadcastProgress, ...]  # the campaigns being sent


async def read_vitals(db: Database, clock: Clock, *, low_stock_below: int) -> Vitals:
    """Unique-stock SKUs on sale with their available codes (cyclic SKUs never run out)."""
    outbox = await Outbox(db, clock).stats()
    age = 0.0
    if outbox.oldest is not None:
        age = max(0.0, (clock.now() - outbox.oldest).total_seconds())
    async with db.reading() as session:
        available = and_(Code.sku_id == Sku.id, Code.status == CodeStatus.AVAILABLE)
        stock_rows = await session.execute(
            select(Sku.code, func.count(Code.id), StockAlert.threshold)
            .outerjoin(Code, available)
            .outerjoin(StockAlert, StockAlert.sku_id == Sku.id)
            .where(Sku.status == SkuStatus.ACTIVE, Sku.stock_kind == StockKind.UNIQUE)
            .group_by(Sku.id, Sku.code, StockAlert.threshold)
            .order_by(Sku.code)
        )
        local = [
            SkuStock(code, int(count), int(threshold or low_stock_below))
            for code, count, threshold in stock_rows
        ]
        # an upstream's SKU: the upstream's stock (unlimited: none) and the codes it delivered
        # after our deadline, sold first — counted as the storefront counts them
        late = {s.sku: s.available for s in local}
        mirrored_rows = await session.execute(
            select(Sku.code, UpstreamSku.stock, StockAlert.threshold)
            .join(UpstreamSku, UpstreamSku.sku_id == Sku.id)
            .outerjoin(StockAlert, StockAlert.sku_id == Sku.id)
            .where(Sku.status == SkuStatus.ACTIVE)
        )
        mirrored = {
            code: None if left is None else SkuStock(code, left, int(threshold or low_stock_below))
            for code, left, threshold in (
                (code, upstream_stock(stock, late.get(code, 0)), threshold)
                for code, stock, threshold in mirrored_rows
            )
        }
        stock = tuple(
            sorted(
                [s for s in local if s.sku not in mirrored]
                + [s for s in mirrored.values() if s is not None],
                key=lambda s: s.sku,
            )
        )
        progress_rows = await session.execute(
            select(BroadcastRecipient.campaign_id, BroadcastRecipient.status, func.count())
            .join(BroadcastCampaign, BroadcastCampaign.id == BroadcastRecipient.campaign_id)
            .where(BroadcastCampaign.status == CampaignStatus.SENDING)
            .group_by(BroadcastRecipient.campaign_id, BroadcastRecipient.status)
            .order_by(BroadcastRecipient.campaign_id)
        )
        campaigns: dict[int, dict[str, int]] = {}
        for campaign_id, status, count in progress_rows:
            campaigns.setdefault(int(campaign_id), {})[str(status)] = int(count)
    return Vitals(
        stock=stock,
        outbox_pending=outbox.pending,
        outbox_oldest_age=age,
        broadcasts=tuple(BroadcastProgress(c, n) for c, n in campaigns.items()),
    )

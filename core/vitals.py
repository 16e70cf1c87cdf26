"""The numbers an operator watches, read in one go when metrics are scraped.

Stock per SKU on sale (and whether it is low), the outbox's backlog and its oldest notice,
and the progress of the broadcasts being sent. Read only: a few grouped queries in one
read transaction. The fronts turn them into their own format (``web/health.py``:
Prometheus); ``core`` knows nothing of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core.clock import Clock
from core.db import Database
from core.models import (
    BroadcastCampaign,
    BroadcastRecipient,
    CampaignStatus,
    Sku,
    SkuStatus,
    StockAlert,
)
from core.outbox import Outbox
from core.storefront import stock_counts


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
    """SKUs on sale with the stock a buyer sees (cyclic and unlimited SKUs never run out)."""
    outbox = await Outbox(db, clock).stats()
    age = 0.0
    if outbox.oldest is not None:
        age = max(0.0, (clock.now() - outbox.oldest).total_seconds())
    async with db.reading() as session:
        # counted as the storefront counts them (``stock_counts``): an upstream's SKU has the
        # upstream's stock (unlimited: none) and the codes it delivered after our deadline
        on_sale = await session.execute(
            select(Sku, StockAlert.threshold)
            .outerjoin(StockAlert, StockAlert.sku_id == Sku.id)
            .where(Sku.status == SkuStatus.ACTIVE)
            .order_by(Sku.code)
        )
        rows = [(sku, threshold) for sku, threshold in on_sale]
        counts = await stock_counts(session, [sku for sku, _ in rows])
        stock = tuple(
            SkuStock(sku.code, left, int(threshold or low_stock_below))
            for sku, threshold in rows
            if (left := counts[sku.id]) is not None  # cyclic or unlimited: never runs out
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

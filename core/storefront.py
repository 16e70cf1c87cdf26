"""What a reseller browses: categories, SKU lines with *their* price and stock, SKU cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import load_sku, load_user
from core.clock import Clock
from core.db import Database
from core.errors import SkuNotForSale
from core.models import (
    Category,
    Code,
    CodeStatus,
    Sku,
    SkuStatus,
    StockKind,
    UpstreamSku,
    User,
)
from core.pricing.book import load_price_book
from core.pricing.rules import QuantityBreakRule, price_unit, useful_breaks


@dataclass(frozen=True)
class CategoryLine:
    id: int
    name: str
    skus: int


@dataclass(frozen=True)
class SkuLine:
    code: str
    name: str
    my_price: int
    stock: int | None  # None: cyclic, never runs out

    @property
    def in_stock(self) -> bool:
        return self.stock is None or self.stock > 0


@dataclass(frozen=True)
class SkuCard:
    line: SkuLine
    category: str
    face_value: int
    breaks: tuple[QuantityBreakRule, ...]
    promotion_name: str | None
    promotion_ends_at: datetime | None
    # the unit price without the promotion: shown struck through when the promotion saves
    regular_price: int = 0
    # (break, its unit price) for the breaks that save money over one unit's price
    break_offers: tuple[tuple[QuantityBreakRule, int], ...] = ()

    @property
    def promotion_saves(self) -> bool:
        return self.promotion_name is not None and self.line.my_price < self.regular_price


@dataclass(frozen=True)
class Page:
    lines: list[SkuLine]
    total: int


class Storefront:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def categories(self) -> list[CategoryLine]:
        async with self._db.reading() as session:
            rows = await session.execute(
                select(Category.id, Category.name, func.count(Sku.id))
                .join(Sku, Sku.category_id == Category.id)
                .where(Sku.status == SkuStatus.ACTIVE)
                .group_by(Category.id, Category.name)
                .order_by(Category.name)
            )
            return [CategoryLine(i, n, c) for i, n, c in rows]

    async def skus(
        self,
        telegram_id: int,
        *,
        category_id: int | None = None,
        search: str | None = None,
        offset: int = 0,
        limit: int = 8,
    ) -> Page:
        conditions = [Sku.status == SkuStatus.ACTIVE]
        if category_id is not None:
            conditions.append(Sku.category_id == category_id)
        if search:
            pattern = _like_pattern(search.strip().lower())
            conditions.append(
                func.lower(Sku.name).like(pattern, escape="\\")
                | func.lower(Sku.code).like(pattern, escape="\\")
            )
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            total = await session.scalar(select(func.count()).select_from(Sku).where(*conditions))
            skus = list(
                await session.scalars(
                    select(Sku)
                    .where(*conditions)
                    .order_by(Sku.name, Sku.id)
                    .offset(offset)
                    .limit(limit)
                )
            )
            stock = await _stock(session, skus)
            lines = [await self._line(session, user, sku, stock.get(sku.id)) for sku in skus]
            return Page(lines, int(total or 0))

    async def card(self, telegram_id: int, sku_code: str) -> SkuCard:
        now = self._clock.now()
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            sku = await load_sku(session, sku_code)
            if sku.status is not SkuStatus.ACTIVE:
                raise SkuNotForSale(sku=sku.code, status=sku.status.value)
            book = await load_price_book(session, sku, user.level_id, now)
            price = price_unit(book, 1, now)
            stock = (await _stock(session, [sku])).get(sku.id)
            category = await session.scalar(
                select(Category.name).where(Category.id == sku.category_id)
            )
            return SkuCard(
                line=SkuLine(sku.code, sku.name, price.unit_price, stock),
                category=category or "",
                face_value=sku.face_value,
                breaks=tuple(sorted(book.breaks, key=lambda b: b.min_quantity)),
                promotion_name=price.promotion.name if price.promotion else None,
                promotion_ends_at=price.promotion.ends_at if price.promotion else None,
                regular_price=price.without_promotion,
                break_offers=useful_breaks(book, now),
            )

    async def _line(
        self, session: AsyncSession, user: User, sku: Sku, stock: int | None
    ) -> SkuLine:
        now = self._clock.now()
        price = price_unit(await load_price_book(session, sku, user.level_id, now), 1, now)
        return SkuLine(sku.code, sku.name, price.unit_price, stock)


async def _stock(session: AsyncSession, skus: list[Sku]) -> dict[int, int | None]:
    """Available codes per SKU (one query); cyclic SKUs map to None."""
    unique_ids = [s.id for s in skus if s.stock_kind is StockKind.UNIQUE]
    counts: dict[int, int | None] = {s.id: None for s in skus}
    counts.update({i: 0 for i in unique_ids})
    if unique_ids:
        rows = await session.execute(
            select(Code.sku_id, func.count())
            .where(Code.sku_id.in_(unique_ids), Code.status == CodeStatus.AVAILABLE)
            .group_by(Code.sku_id)
        )
        counts.update({sku_id: int(n) for sku_id, n in rows})
        # an upstream's SKU has no local codes: its stock is the upstream's (None: unlimited)
        mirrored = await session.execute(
            select(UpstreamSku.sku_id, UpstreamSku.stock).where(UpstreamSku.sku_id.in_(unique_ids))
        )
        counts.update({sku_id: stock for sku_id, stock in mirrored})
    return counts


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

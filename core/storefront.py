"""What a reseller browses: categories, SKU lines with *their* price and stock, SKU cards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ads import featured_now, zone_supplier_ids
from core.catalogue import load_sku, load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.delivery.claim import upstream_stock
from core.errors import SkuNotForSale
from core.models import (
    AdPlacement,
    BrandZone,
    Category,
    Code,
    CodeStatus,
    Sku,
    SkuStatus,
    StockKind,
    UpstreamSku,
    User,
)
from core.paid_services import boosted_sku_ids
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
    featured: bool = False  # in a featured slot (推荐) where it is shown now

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


@dataclass(frozen=True)
class ZoneLine:
    id: int
    name: str


@dataclass(frozen=True)
class FirstScreen:
    """The catalogue's first screen: its featured SKUs and the brand zones, then categories."""

    featured: list[SkuLine]
    zones: list[ZoneLine]


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
        now = self._clock.now()
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            total = await session.scalar(select(func.count()).select_from(Sku).where(*conditions))
            # featured first (a slot of this place), then boosted (search), then brand zones
            placement = AdPlacement.SEARCH if search else AdPlacement.CATEGORY
            featured = {
                f.sku_code
                for f in await featured_now(session, now)
                if f.placement is placement
                and (placement is AdPlacement.SEARCH or f.category_id == category_id)
            }
            boosted = await boosted_sku_ids(session, now) if search else set()
            zoned = await zone_supplier_ids(session, now)
            rank = case(
                (Sku.code.in_(featured or {""}), 0),
                (Sku.id.in_(boosted or {0}), 1),
                (Sku.supplier_id.in_(zoned or {0}), 2),
                else_=3,
            )
            skus = list(
                await session.scalars(
                    select(Sku)
                    .where(*conditions)
                    .order_by(rank, Sku.name, Sku.id)
                    .offset(offset)
                    .limit(limit)
                )
            )
            stock = await _stock(session, skus)
            lines = [
                await self._line(session, user, sku, stock.get(sku.id), sku.code in featured)
                for sku in skus
            ]
            return Page(lines, int(total or 0))

    async def first_screen(self, telegram_id: int) -> FirstScreen:
        now = self._clock.now()
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            codes = [
                f.sku_code
                for f in await featured_now(session, now)
                if f.placement is AdPlacement.HOME
            ]
            skus = (
                list(await session.scalars(select(Sku).where(Sku.code.in_(codes)))) if codes else []
            )
            stock = await _stock(session, skus)
            featured = [
                await self._line(session, user, sku, stock.get(sku.id), True) for sku in skus
            ]
            zones = await session.execute(
                select(BrandZone.id, BrandZone.name)
                .where(BrandZone.starts_at <= now, BrandZone.ends_at > now)
                .order_by(BrandZone.name, BrandZone.id)
            )
            return FirstScreen(featured, [ZoneLine(i, n) for i, n in zones])

    async def zone(self, telegram_id: int, zone_id: int) -> tuple[str, list[SkuLine]] | None:
        """A brand zone's page: its name and its supplier's SKUs on sale; None once ended."""
        now = self._clock.now()
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            zone = await session.get(BrandZone, zone_id)
            if zone is None or not as_utc(zone.starts_at) <= now < as_utc(zone.ends_at):
                return None
            skus = list(
                await session.scalars(
                    select(Sku)
                    .where(Sku.supplier_id == zone.supplier_id, Sku.status == SkuStatus.ACTIVE)
                    .order_by(Sku.name, Sku.id)
                    .limit(40)
                )
            )
            stock = await _stock(session, skus)
            lines = [await self._line(session, user, sku, stock.get(sku.id)) for sku in skus]
            return zone.name, lines

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
        self, session: AsyncSession, user: User, sku: Sku, stock: int | None, featured: bool = False
    ) -> SkuLine:
        now = self._clock.now()
        price = price_unit(await load_price_book(session, sku, user.level_id, now), 1, now)
        return SkuLine(sku.code, sku.name, price.unit_price, stock, featured)


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
        # an upstream's SKU: the upstream's stock (None: unlimited) and ours besides — the
        # codes it delivered after our deadline, which a sale hands out first
        mirrored = await session.execute(
            select(UpstreamSku.sku_id, UpstreamSku.stock).where(UpstreamSku.sku_id.in_(unique_ids))
        )
        counts.update(
            {sku_id: upstream_stock(stock, counts[sku_id] or 0) for sku_id, stock in mirrored}
        )
    return counts


async def stock_counts(session: AsyncSession, skus: list[Sku]) -> dict[int, int | None]:
    """Available codes per SKU (None: cyclic), for other parts of the core."""
    return await _stock(session, skus)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

"""Scheduled promotions: a promotion and its jobs (announce at start, remind before the end,
report to the admin at the end), created in one transaction.

Prices never wait for a job: the quote checks the promotion's window itself. The jobs only
talk: who hears about a promotion (``audience``) and what it sold (``results``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import insert_promotion
from core.clock import Clock, as_utc
from core.db import Database
from core.errors import InvalidInput, NotFound
from core.jobs import JobStore, JobView, NewJob, add_jobs
from core.models import (
    Category,
    Level,
    LineStatus,
    Order,
    OrderLine,
    Promotion,
    PromotionKind,
    PromotionLevel,
    PromotionSku,
    Quote,
    Sku,
    User,
    UserStatus,
)
from core.pricing.book import load_price_book
from core.pricing.rules import FlooredPromotion, PromotionRule, floored_promotion
from core.rights import require_admin

ANNOUNCE = "promotion.announce"
REMIND = "promotion.remind"
REPORT = "promotion.report"
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M"
_LOCAL_TIME = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")
NAME_LIMIT = 60


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(field="timezone", value=name) from exc


def parse_local_time(text: str, tz: ZoneInfo) -> datetime:
    """``2026-12-01 10:00`` in ``tz`` → an aware UTC datetime."""
    match = _LOCAL_TIME.match(text)
    if not match:
        raise InvalidInput(field="time", value=text)
    try:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        local = datetime(year, month, day, hour, minute, tzinfo=tz)
    except ValueError as exc:
        raise InvalidInput(field="time", value=text) from exc
    return as_utc(local)


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    return as_utc(moment).astimezone(tz).strftime(LOCAL_TIME_FORMAT)


@dataclass(frozen=True)
class NewPromotion:
    kind: PromotionKind
    starts_at: datetime
    ends_at: datetime
    sku_codes: tuple[str, ...] = ()
    category: str | None = None
    percent_off_bps: int | None = None
    fixed_price: int | None = None
    levels: tuple[str, ...] = ()
    announcement: str = ""
    remind_hours: int | None = None
    name: str = ""

    def display_name(self) -> str:
        if self.name.strip():
            return self.name.strip()[:128]
        first = (self.announcement.strip().splitlines() or [""])[0].strip()
        if first:
            return first[:NAME_LIMIT]
        scope = self.category or " ".join(self.sku_codes)
        return f"{scope} {self.starts_at:%Y-%m-%d}"[:NAME_LIMIT]


@dataclass(frozen=True)
class PromotionView:
    id: int
    name: str
    kind: PromotionKind
    percent_off_bps: int | None
    fixed_price: int | None
    starts_at: datetime
    ends_at: datetime
    announcement: str
    sku_codes: tuple[str, ...]
    category: str | None
    levels: tuple[str, ...]


@dataclass(frozen=True)
class FlooredPrice:
    sku_code: str
    level: str
    price: FlooredPromotion


@dataclass(frozen=True)
class ScheduledPromotion:
    promotion: PromotionView
    jobs: list[JobView]
    replayed: bool = False


@dataclass(frozen=True)
class Recipient:
    telegram_id: int
    language: str


@dataclass(frozen=True)
class PromotionResults:
    promotion: PromotionView
    orders: int
    units: int  # delivered and not refunded
    gmv: int  # what those units sold for, minor units
    resellers: int
    refunded_units: int


async def _promotion_view(session: AsyncSession, promotion_id: int) -> PromotionView:
    promotion = await session.get(Promotion, promotion_id)
    if promotion is None:
        raise NotFound(kind="promotion", ref=str(promotion_id))
    codes = await session.scalars(
        select(Sku.code)
        .join(PromotionSku, PromotionSku.sku_id == Sku.id)
        .where(PromotionSku.promotion_id == promotion_id)
        .order_by(Sku.code)
    )
    levels = await session.scalars(
        select(Level.name)
        .join(PromotionLevel, PromotionLevel.level_id == Level.id)
        .where(PromotionLevel.promotion_id == promotion_id)
        .order_by(Level.rank)
    )
    category = None
    if promotion.category_id is not None:
        category = await session.scalar(
            select(Category.name).where(Category.id == promotion.category_id)
        )
    return PromotionView(
        id=promotion.id,
        name=promotion.name,
        kind=promotion.kind,
        percent_off_bps=promotion.percent_off_bps,
        fixed_price=promotion.fixed_price,
        starts_at=as_utc(promotion.starts_at),
        ends_at=as_utc(promotion.ends_at),
        announcement=promotion.announcement,
        sku_codes=tuple(codes),
        category=category,
        levels=tuple(levels),
    )


def _job_keys(key: str) -> tuple[str, str, str]:
    return f"promo:{key}:announce", f"promo:{key}:remind", f"promo:{key}:report"


class Promotions:
    def __init__(self, db: Database, clock: Clock, jobs: JobStore) -> None:
        self._db = db
        self._clock = clock
        self._jobs = jobs

    async def require_admin(self, telegram_id: int) -> None:
        async with self._db.reading() as session:
            await require_admin(session, telegram_id)

    async def schedule(
        self, admin_telegram_id: int, new: NewPromotion, *, idempotency_key: str
    ) -> ScheduledPromotion:
        """The promotion and its jobs, once per key (a double-tapped Confirm makes one)."""
        now = self._clock.now()
        starts_at, ends_at = as_utc(new.starts_at), as_utc(new.ends_at)
        if ends_at <= now:
            raise InvalidInput(field="ends_at", value="in the past")
        remind_at = None
        if new.remind_hours is not None:
            remind_at = ends_at - timedelta(hours=new.remind_hours)
            if new.remind_hours < 1 or remind_at <= max(starts_at, now):
                raise InvalidInput(field="remind_hours", value=new.remind_hours)
        announce_key, remind_key, report_key = _job_keys(idempotency_key[:60])
        try:
            async with self._db.transaction() as session:
                await require_admin(session, admin_telegram_id)
                if new.category is not None:
                    found = await session.scalar(
                        select(Category.id).where(Category.name == new.category.strip())
                    )
                    if found is None:
                        raise NotFound(kind="category", ref=new.category)
                promotion_id = await insert_promotion(
                    session,
                    name=new.display_name(),
                    kind=new.kind,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    percent_off_bps=new.percent_off_bps,
                    fixed_price=new.fixed_price,
                    sku_codes=new.sku_codes,
                    category=new.category,
                    levels=new.levels,
                    announcement=new.announcement,
                    actor=f"admin:{admin_telegram_id}",
                    now=now,
                )
                payload = {"promotion_id": promotion_id, "admin": admin_telegram_id}
                jobs = [
                    NewJob(announce_key, ANNOUNCE, max(starts_at, now), payload),
                    NewJob(report_key, REPORT, ends_at, payload),
                ]
                if remind_at is not None:
                    jobs.insert(
                        1,
                        NewJob(
                            remind_key, REMIND, remind_at, {**payload, "hours": new.remind_hours}
                        ),
                    )
                add_jobs(session, jobs, now)
            replayed = False
        except IntegrityError:
            replayed = True
        announce = await self._jobs.by_key(announce_key)
        if announce is None:
            raise NotFound(kind="promotion", ref=idempotency_key)
        keys = [announce_key, remind_key, report_key]
        views = [job for job in [await self._jobs.by_key(k) for k in keys] if job is not None]
        return ScheduledPromotion(
            await self.promotion(int(announce.payload["promotion_id"])), views, replayed
        )

    async def floored(self, new: NewPromotion, *, limit: int = 20) -> list[FlooredPrice]:
        """Where the supply-price floor would cut ``new``'s discount: per SKU and level, the
        price without it, what it asks for and what buyers would really pay (one unit, at
        its start). Priced by the same rules as a quote; at most ``limit`` lines."""
        at = as_utc(new.starts_at)
        draft = PromotionRule(
            id=0,
            name=new.display_name(),
            kind=new.kind,
            starts_at=at,
            ends_at=as_utc(new.ends_at),
            percent_off_bps=new.percent_off_bps,
            fixed_price=new.fixed_price,
        )
        async with self._db.reading() as session:
            scope = (
                Sku.category_id.in_(select(Category.id).where(Category.name == new.category))
                if new.category is not None
                else Sku.code.in_(new.sku_codes)
            )
            skus = list(await session.scalars(select(Sku).where(scope).order_by(Sku.code)))
            levels = select(Level.id, Level.name).order_by(Level.rank)
            if new.levels:
                levels = levels.where(Level.name.in_(new.levels))
            level_rows = (await session.execute(levels)).all()
            found: list[FlooredPrice] = []
            for sku in skus:
                for level_id, level_name in level_rows:
                    book = await load_price_book(session, sku, level_id, at)
                    cut = floored_promotion(book, draft, at)
                    if cut is not None:
                        found.append(FlooredPrice(sku.code, level_name, cut))
                    if len(found) >= limit:
                        return found
            return found

    async def promotion(self, promotion_id: int) -> PromotionView:
        async with self._db.reading() as session:
            return await _promotion_view(session, promotion_id)

    async def audience(
        self, promotion_id: int, *, after: int = 0, limit: int = 100
    ) -> list[Recipient]:
        """Active resellers (not admins or suppliers) of the promotion's levels, by Telegram id from
        ``after`` on, so a sender can page and resume."""
        async with self._db.reading() as session:
            level_ids = list(
                await session.scalars(
                    select(PromotionLevel.level_id).where(
                        PromotionLevel.promotion_id == promotion_id
                    )
                )
            )
            query = (
                select(User.telegram_id, User.language)
                .where(
                    User.is_reseller,
                    ~User.is_admin,
                    ~User.is_supplier,
                    User.status == UserStatus.ACTIVE,
                    User.telegram_id > after,
                )
                .order_by(User.telegram_id)
                .limit(limit)
            )
            if level_ids:
                query = query.where(User.level_id.in_(level_ids))
            return [Recipient(tid, language) for tid, language in await session.execute(query)]

    async def results(self, promotion_id: int) -> PromotionResults:
        """Orders priced by this promotion (their quote says so), net of refunds."""
        async with self._db.reading() as session:
            view = await _promotion_view(session, promotion_id)
            rows = await session.execute(
                select(Order.id, Order.user_id, Quote.breakdown)
                .join(Quote, Quote.id == Order.quote_id)
                .where(
                    Order.created_at >= view.starts_at,
                    Order.created_at < view.ends_at,
                    or_(
                        Quote.breakdown.contains(f'"promotion": [{promotion_id},'),
                        Quote.breakdown.contains(f'"promotion":[{promotion_id},'),
                    ),
                )
            )
            orders: dict[int, int] = {}
            for order_id, user_id, breakdown in rows:
                promotion = json.loads(breakdown).get("promotion")
                if promotion and int(promotion[0]) == promotion_id:
                    orders[order_id] = user_id
            units = gmv = refunded = 0
            if orders:
                lines = await session.execute(
                    select(OrderLine.status, OrderLine.price).where(
                        OrderLine.order_id.in_(list(orders))
                    )
                )
                for status, price in lines:
                    if status is LineStatus.REFUNDED:
                        refunded += 1
                    else:
                        units += 1
                        gmv += int(price)
            return PromotionResults(
                promotion=view,
                orders=len(orders),
                units=units,
                gmv=gmv,
                resellers=len(set(orders.values())),
                refunded_units=refunded,
            )

    async def upcoming(self, limit: int = 20) -> list[PromotionView]:
        """Promotions not yet over, soonest first (for the admin's list)."""
        now = self._clock.now()
        async with self._db.reading() as session:
            ids = list(
                await session.scalars(
                    select(Promotion.id)
                    .where(Promotion.ends_at > now)
                    .order_by(Promotion.starts_at, Promotion.id)
                    .limit(limit)
                )
            )
            return [await _promotion_view(session, pid) for pid in ids]

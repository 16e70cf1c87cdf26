"""Loads a SKU's price book from the database for one reseller level."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ScalarSelect,
    SQLColumnExpression,
    String,
    cast,
    exists,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import BindParameter
from sqlalchemy.sql.functions import FunctionElement

from core.clock import as_utc
from core.models import (
    CategoryCommissionTier,
    CommissionTier,
    PlatformPolicy,
    Promotion,
    PromotionLevel,
    PromotionSku,
    QuantityBreak,
    Sku,
    SkuLevelPrice,
    User,
)
from core.pricing.rules import PriceBook, PromotionRule, QuantityBreakRule
from core.pricing.split import LadderTier


async def load_price_book(
    session: AsyncSession, sku: Sku, level_id: int, at: datetime
) -> PriceBook:
    level_price = await session.scalar(
        select(SkuLevelPrice.price).where(
            SkuLevelPrice.sku_id == sku.id, SkuLevelPrice.level_id == level_id
        )
    )
    return PriceBook(
        supply_price=sku.supply_price,
        default_price=sku.default_price,
        level_id=level_id,
        level_price=level_price,
        breaks=await _breaks(session, sku),
        promotions=await _promotions_at(session, sku, at),
    )


async def book_from_signals(
    session: AsyncSession, row: Mapping[str, Any], at: datetime
) -> PriceBook:
    """The price book from what a use case's one statement read: its ``sku_id``,
    ``level_id``, ``supply_price``, ``default_price`` and the ``price_signals`` columns
    ``level_price`` and ``may_have_rules``. The quantity breaks and live promotions are
    loaded only when one might apply."""
    if not row["may_have_rules"]:
        return PriceBook(
            row["supply_price"], row["default_price"], row["level_id"], row["level_price"]
        )
    sku = await session.get(Sku, row["sku_id"])
    assert sku is not None
    return await load_price_book(session, sku, row["level_id"], at)


async def _breaks(session: AsyncSession, sku: Sku) -> tuple[QuantityBreakRule, ...]:
    """A SKU's own breaks; without any, its category's."""
    for scope in (QuantityBreak.sku_id == sku.id, QuantityBreak.category_id == sku.category_id):
        rows = (
            await session.execute(
                select(QuantityBreak.min_quantity, QuantityBreak.discount_bps).where(scope)
            )
        ).all()
        if rows:
            return tuple(QuantityBreakRule(r.min_quantity, r.discount_bps) for r in rows)
    return ()


async def _promotions_at(
    session: AsyncSession, sku: Sku, at: datetime
) -> tuple[PromotionRule, ...]:
    in_scope = or_(
        Promotion.category_id == sku.category_id,
        Promotion.id.in_(select(PromotionSku.promotion_id).where(PromotionSku.sku_id == sku.id)),
    )
    promotions = list(
        await session.scalars(
            select(Promotion).where(in_scope, Promotion.starts_at <= at, Promotion.ends_at > at)
        )
    )
    if not promotions:
        return ()
    levels: dict[int, set[int]] = {p.id: set() for p in promotions}
    for promotion_id, level_id in await session.execute(
        select(PromotionLevel.promotion_id, PromotionLevel.level_id).where(
            PromotionLevel.promotion_id.in_(levels)
        )
    ):
        levels[promotion_id].add(level_id)
    return tuple(
        PromotionRule(
            id=p.id,
            name=p.name,
            kind=p.kind,
            starts_at=as_utc(p.starts_at),
            ends_at=as_utc(p.ends_at),
            percent_off_bps=p.percent_off_bps,
            fixed_price=p.fixed_price,
            level_ids=frozenset(levels[p.id]),
        )
        for p in promotions
    )


async def load_ladder(session: AsyncSession, exclusive: bool) -> list[LadderTier]:
    rows = await session.execute(
        select(CommissionTier.min_units, CommissionTier.rate_bps).where(
            CommissionTier.exclusive == exclusive
        )
    )
    return [LadderTier(r.min_units, r.rate_bps) for r in rows]


class _comma_joined(FunctionElement[str]):
    """The group's strings joined by commas (SQLite ``group_concat``, PostgreSQL
    ``string_agg``; SQLAlchemy's ``aggregate_strings`` binds its separator at execution,
    which a ``Prepared`` statement cannot)."""

    type = String()
    inherit_cache = True


@compiles(_comma_joined, "sqlite")
def _group_concat(element: _comma_joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_comma_joined, "postgresql")
def _string_agg(element: _comma_joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def ladder_column(exclusive: SQLColumnExpression[bool]) -> ScalarSelect[str]:
    """The ladder for SKUs whose ``exclusive`` flag is this, as one text column
    (``"min_units:rate_bps,…"``, see ``parse_ladder``), so a use case's one statement can
    carry it and ``ladder_tier`` decide the rate."""
    tier = cast(CommissionTier.min_units, String) + ":" + cast(CommissionTier.rate_bps, String)
    return (
        select(_comma_joined(tier)).where(CommissionTier.exclusive == exclusive).scalar_subquery()
    )


def category_ladder_column(category_id: SQLColumnExpression[int]) -> ScalarSelect[str]:
    """A category's own ladder as one text column (NULL: it has none, the default applies)."""
    tier = (
        cast(CategoryCommissionTier.min_units, String)
        + ":"
        + cast(CategoryCommissionTier.rate_bps, String)
    )
    return (
        select(_comma_joined(tier))
        .where(CategoryCommissionTier.category_id == category_id)
        .scalar_subquery()
    )


def parse_ladder(text: str | None) -> tuple[LadderTier, ...]:
    tiers = (tier.split(":") for tier in text.split(",")) if text else ()
    return tuple(LadderTier(int(min_units), int(rate_bps)) for min_units, rate_bps in tiers)


async def spread_supplier_bps(session: AsyncSession) -> int:
    value = await session.scalar(select(PlatformPolicy.spread_supplier_bps))
    assert value is not None, "the migrations seed the platform policy"
    return int(value)


@dataclass(frozen=True)
class PriceSignals:
    """Correlated columns (to ``Sku`` and ``User`` in the enclosing query) that price the
    common case in the same statement that reads the buyer and the SKU: the level price,
    and whether any quantity break or live promotion might apply. Only when one might is
    the full price book loaded."""

    level_price: ScalarSelect[int]
    may_have_rules: ColumnElement[bool]


def price_signals(now: BindParameter[datetime]) -> PriceSignals:
    level_price = (
        select(SkuLevelPrice.price)
        .where(SkuLevelPrice.sku_id == Sku.id, SkuLevelPrice.level_id == User.level_id)
        .scalar_subquery()
    )
    breaks = exists().where(
        or_(QuantityBreak.sku_id == Sku.id, QuantityBreak.category_id == Sku.category_id)
    )
    promotions = exists().where(
        or_(
            Promotion.category_id == Sku.category_id,
            Promotion.id.in_(
                select(PromotionSku.promotion_id)
                .where(PromotionSku.sku_id == Sku.id)
                .correlate(Sku)  # the enclosing query's SKU, two levels out
            ),
        ),
        Promotion.starts_at <= now,
        Promotion.ends_at > now,
    )
    return PriceSignals(level_price, or_(breaks, promotions))

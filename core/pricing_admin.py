"""What an admin changes about prices: categories, a SKU's level prices, quantity breaks and
sale status, the commission ladder and the spread ratio. Each change is one transaction
with an audit record, made only by an admin.

"Pricing changed": after every committed change the listeners registered with
``on_change`` are called with a ``PricingChange`` (what changed, and for which SKU if one).
Anything that caches prices, the ladder or the policy subscribes there and drops its copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.catalogue import SkuView, load_level, load_sku, shelf_category, sku_view
from core.clock import Clock
from core.db import Database
from core.errors import InvalidInput, InvalidState, NotFound
from core.models import (
    Category,
    CommissionTier,
    Level,
    PlatformPolicy,
    QuantityBreak,
    Sku,
    SkuLevelPrice,
    SkuStatus,
)
from core.money import BPS
from core.pricing.quotes import available_stock
from core.pricing.rules import check_sale_price
from core.rights import acting_admin, actor_name, require_admin

ChangeKind = Literal["category", "level_price", "quantity_break", "sku_status", "ladder", "spread"]
MAX_CATEGORY_NAME = 64


@dataclass(frozen=True)
class PricingChange:
    kind: ChangeKind
    sku_code: str | None = None  # None: platform-wide (ladder, spread) or a category


PricingListener = Callable[[PricingChange], None]


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    skus: int


@dataclass(frozen=True)
class LevelPrice:
    level: str
    price: int | None  # None: the SKU's default price applies


@dataclass(frozen=True)
class BreakRow:
    id: int
    min_quantity: int
    discount_bps: int


@dataclass(frozen=True)
class SkuPricing:
    sku: SkuView
    level_prices: list[LevelPrice]
    breaks: list[BreakRow]
    stock: int | None


@dataclass(frozen=True)
class TierRow:
    id: int
    exclusive: bool
    min_units: int
    rate_bps: int


@dataclass(frozen=True)
class LadderView:
    normal: list[TierRow]
    exclusive: list[TierRow]
    spread_supplier_bps: int


class PricingAdmin:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._listeners: list[PricingListener] = []

    def on_change(self, listener: PricingListener) -> None:
        """Call ``listener`` after each committed pricing change (cache invalidation)."""
        self._listeners.append(listener)

    def _changed(self, change: PricingChange) -> None:
        for listener in self._listeners:
            listener(change)

    async def _audit(
        self, session: AsyncSession, admin: int, action: str, subject: str, **payload: Any
    ) -> None:
        """One audit record; ``previous`` holds what a change replaced."""
        await audit.append(
            session,
            action=action,
            actor=f"admin:{admin}",
            subject=subject,
            payload=payload,
            now=self._clock.now(),
        )

    # categories --------------------------------------------------------------------

    async def categories(self, admin: int) -> list[CategoryRow]:
        async with self._db.reading() as session:
            await require_admin(session, admin, "category.list")
            rows = await session.execute(
                select(Category.id, Category.name, func.count(Sku.id))
                .outerjoin(Sku, Sku.category_id == Category.id)
                .group_by(Category.id, Category.name)
                .order_by(Category.name)
            )
            return [CategoryRow(i, n, c) for i, n, c in rows]

    async def add_category(self, admin: int, name: str) -> CategoryRow:
        clean = _category_name(name)
        async with self._db.transaction() as session:
            await require_admin(session, admin, "category.add")
            await _name_free(session, clean)
            category = Category(name=clean)
            session.add(category)
            await session.flush()
            await self._audit(session, admin, "category.add", f"category:{category.id}", name=clean)
            row = CategoryRow(category.id, clean, 0)
        self._changed(PricingChange("category"))
        return row

    async def rename_category(self, admin: int, category_id: int, name: str) -> CategoryRow:
        clean = _category_name(name)
        async with self._db.transaction() as session:
            await require_admin(session, admin, "category.rename")
            category = await session.get(Category, category_id)
            if category is None:
                raise NotFound(kind="category", ref=str(category_id))
            if category.name != clean:
                await _name_free(session, clean)
            previous, category.name = category.name, clean
            await self._audit(
                session,
                admin,
                "category.rename",
                f"category:{category_id}",
                name=clean,
                previous=previous,
            )
            skus = await session.scalar(
                select(func.count()).select_from(Sku).where(Sku.category_id == category_id)
            )
            row = CategoryRow(category_id, clean, int(skus or 0))
        self._changed(PricingChange("category"))
        return row

    # one SKU -------------------------------------------------------------------------

    async def sku_pricing(self, admin: int, sku_code: str) -> SkuPricing:
        async with self._db.reading() as session:
            await require_admin(session, admin, "sku.show")
            return await _sku_pricing(session, await load_sku(session, sku_code))

    async def set_level_price(
        self,
        admin: int,
        sku_code: str,
        level_name: str,
        price: int | None,
        *,
        allow_above_face: bool = False,
    ) -> SkuPricing:
        """Set a level's unit price for a SKU (not below its supply price, not above its
        face value nor 0 unless ``allow_above_face``), or clear it."""
        async with self._db.transaction() as session:
            await require_admin(session, admin, "price.level")
            sku = await load_sku(session, sku_code)
            level = await load_level(session, level_name)
            if price is not None and price < sku.supply_price:
                raise InvalidInput(field="price", value=price, min=sku.supply_price)
            if price is not None:
                check_sale_price(price, sku.face_value, allow_above_face=allow_above_face)
            await session.execute(
                delete(SkuLevelPrice).where(
                    SkuLevelPrice.sku_id == sku.id, SkuLevelPrice.level_id == level.id
                )
            )
            if price is not None:
                session.add(SkuLevelPrice(sku_id=sku.id, level_id=level.id, price=price))
            await self._audit(
                session, admin, "price.level", f"sku:{sku.code}", level=level.name, price=price
            )
            await session.flush()
            view = await _sku_pricing(session, sku)
        self._changed(PricingChange("level_price", view.sku.code))
        return view

    async def set_quantity_break(
        self, admin: int, sku_code: str, min_quantity: int, discount_bps: int
    ) -> SkuPricing:
        """From ``min_quantity`` units the unit price is ``discount_bps`` lower; a break at
        the same quantity is replaced."""
        if min_quantity < 2 or not 0 < discount_bps < BPS:
            raise InvalidInput(field="quantity_break", value=f"{min_quantity}:{discount_bps}")
        async with self._db.transaction() as session:
            await require_admin(session, admin, "price.break")
            sku = await load_sku(session, sku_code)
            await session.execute(
                delete(QuantityBreak).where(
                    QuantityBreak.sku_id == sku.id, QuantityBreak.min_quantity == min_quantity
                )
            )
            session.add(
                QuantityBreak(sku_id=sku.id, min_quantity=min_quantity, discount_bps=discount_bps)
            )
            await self._audit(
                session,
                admin,
                "price.break",
                f"sku:{sku.code}",
                min_quantity=min_quantity,
                discount_bps=discount_bps,
            )
            await session.flush()
            view = await _sku_pricing(session, sku)
        self._changed(PricingChange("quantity_break", view.sku.code))
        return view

    async def remove_quantity_break(self, admin: int, sku_code: str, break_id: int) -> SkuPricing:
        async with self._db.transaction() as session:
            await require_admin(session, admin, "price.break.remove")
            sku = await load_sku(session, sku_code)
            rule = await session.get(QuantityBreak, break_id)
            if rule is None or rule.sku_id != sku.id:
                raise NotFound(kind="quantity_break", ref=str(break_id))
            await session.delete(rule)
            await self._audit(
                session,
                admin,
                "price.break.remove",
                f"sku:{sku.code}",
                min_quantity=rule.min_quantity,
                discount_bps=rule.discount_bps,
            )
            await session.flush()
            view = await _sku_pricing(session, sku)
        self._changed(PricingChange("quantity_break", view.sku.code))
        return view

    async def move_sku(
        self, admin: int | None, sku_code: str, category: int | str, *, create: bool = False
    ) -> SkuPricing:
        """Shelve a SKU in another category (by id from a button, by name from the command
        line; an unknown name is refused with the names there are unless ``create``). An
        upstream's sync keeps it there. Moving it where it is changes nothing and writes no
        audit record, so a button pressed twice is harmless. ``admin`` None: the operator."""
        async with self._db.transaction() as session:
            await acting_admin(session, admin, "sku.move")
            sku = await load_sku(session, sku_code)
            if isinstance(category, int):
                target = await session.get(Category, category)
                if target is None:
                    raise NotFound(kind="category", ref=str(category))
            else:
                target = await shelf_category(session, category, create=create)
            if sku.category_id != target.id:
                previous = await session.scalar(
                    select(Category.name).where(Category.id == sku.category_id)
                )
                sku.category_id = target.id
                await audit.append(
                    session,
                    action="sku.move",
                    actor=actor_name(admin),
                    subject=f"sku:{sku.code}",
                    payload={"category": target.name, "previous": previous},
                    now=self._clock.now(),
                )
                await session.flush()
            view = await _sku_pricing(session, sku)
        self._changed(PricingChange("category", view.sku.code))
        return view

    async def set_on_sale(self, admin: int, sku_code: str, on_sale: bool) -> SkuPricing:
        """Suspend an active SKU, or resume a suspended one (review is another desk's)."""
        want, needed = (
            (SkuStatus.ACTIVE, SkuStatus.SUSPENDED)
            if on_sale
            else (SkuStatus.SUSPENDED, SkuStatus.ACTIVE)
        )
        async with self._db.transaction() as session:
            await require_admin(session, admin, "sku.status")
            sku = await load_sku(session, sku_code)
            if sku.status is not needed:
                raise InvalidState(sku=sku.code, status=sku.status.value)
            sku.status = want
            await self._audit(
                session,
                admin,
                "sku.status",
                f"sku:{sku.code}",
                status=want.value,
                previous=needed.value,
            )
            view = await _sku_pricing(session, sku)
        self._changed(PricingChange("sku_status", view.sku.code))
        return view

    # platform-wide -------------------------------------------------------------------

    async def ladder(self, admin: int) -> LadderView:
        async with self._db.reading() as session:
            await require_admin(session, admin, "ladder.show")
            return await _ladder(session)

    async def set_tier(
        self, admin: int, *, exclusive: bool, min_units: int, rate_bps: int
    ) -> LadderView:
        """From ``min_units`` sold in 30 days a supplier pays ``rate_bps``; same threshold
        replaces."""
        if min_units < 0 or not 0 <= rate_bps < BPS:
            raise InvalidInput(field="tier", value=f"{min_units}:{rate_bps}")
        async with self._db.transaction() as session:
            await require_admin(session, admin, "ladder.set")
            tier = await session.scalar(
                select(CommissionTier).where(
                    CommissionTier.exclusive == exclusive, CommissionTier.min_units == min_units
                )
            )
            previous = None if tier is None else tier.rate_bps
            if tier is None:
                session.add(
                    CommissionTier(exclusive=exclusive, min_units=min_units, rate_bps=rate_bps)
                )
            else:
                tier.rate_bps = rate_bps
            await self._audit(
                session,
                admin,
                "ladder.set",
                "ladder:exclusive" if exclusive else "ladder:normal",
                min_units=min_units,
                rate_bps=rate_bps,
                previous=previous,
            )
            await session.flush()
            view = await _ladder(session)
        self._changed(PricingChange("ladder"))
        return view

    async def remove_tier(self, admin: int, tier_id: int) -> LadderView:
        """Remove a tier above the base one (the tier from 0 units can change, not go)."""
        async with self._db.transaction() as session:
            await require_admin(session, admin, "ladder.remove")
            tier = await session.get(CommissionTier, tier_id)
            if tier is None:
                raise NotFound(kind="tier", ref=str(tier_id))
            if tier.min_units == 0:
                raise InvalidInput(field="tier", value="the base tier cannot be removed")
            await session.delete(tier)
            await self._audit(
                session,
                admin,
                "ladder.remove",
                "ladder:exclusive" if tier.exclusive else "ladder:normal",
                min_units=tier.min_units,
                rate_bps=tier.rate_bps,
            )
            await session.flush()
            view = await _ladder(session)
        self._changed(PricingChange("ladder"))
        return view

    async def set_spread(self, admin: int, supplier_bps: int) -> LadderView:
        """The supplier's share of the spread (price − supply price), in basis points."""
        if not 0 <= supplier_bps <= BPS:
            raise InvalidInput(field="spread", value=supplier_bps)
        async with self._db.transaction() as session:
            await require_admin(session, admin, "policy.spread")
            policy = await session.scalar(select(PlatformPolicy))
            assert policy is not None, "the migrations seed the platform policy"
            previous, policy.spread_supplier_bps = policy.spread_supplier_bps, supplier_bps
            await self._audit(
                session,
                admin,
                "policy.spread",
                "policy",
                spread_supplier_bps=supplier_bps,
                previous=previous,
            )
            view = await _ladder(session)
        self._changed(PricingChange("spread"))
        return view


def _category_name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_CATEGORY_NAME:
        raise InvalidInput(field="category", value=name[:80])
    return clean


async def _name_free(session: AsyncSession, name: str) -> None:
    if await session.scalar(select(Category.id).where(Category.name == name)) is not None:
        raise InvalidInput(field="category", value=name, reason="taken")


async def _sku_pricing(session: AsyncSession, sku: Sku) -> SkuPricing:
    category = await session.scalar(select(Category.name).where(Category.id == sku.category_id))
    rows = await session.execute(
        select(Level.name, SkuLevelPrice.price)
        .outerjoin(
            SkuLevelPrice, (SkuLevelPrice.level_id == Level.id) & (SkuLevelPrice.sku_id == sku.id)
        )
        .order_by(Level.rank)
    )
    breaks = await session.execute(
        select(QuantityBreak.id, QuantityBreak.min_quantity, QuantityBreak.discount_bps)
        .where(QuantityBreak.sku_id == sku.id)
        .order_by(QuantityBreak.min_quantity)
    )
    return SkuPricing(
        sku=sku_view(sku, category or ""),
        level_prices=[LevelPrice(name, price) for name, price in rows],
        breaks=[BreakRow(i, q, d) for i, q, d in breaks],
        stock=await available_stock(session, sku),
    )


async def _ladder(session: AsyncSession) -> LadderView:
    tiers = [
        TierRow(t.id, t.exclusive, t.min_units, t.rate_bps)
        for t in await session.scalars(select(CommissionTier).order_by(CommissionTier.min_units))
    ]
    spread = await session.scalar(select(PlatformPolicy.spread_supplier_bps))
    return LadderView(
        normal=[t for t in tiers if not t.exclusive],
        exclusive=[t for t in tiers if t.exclusive],
        spread_supplier_bps=int(spread or 0),
    )

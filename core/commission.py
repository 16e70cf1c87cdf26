"""Commission schedules: the default ladder, the exclusive one, and a category's own.

A schedule is a ladder of tiers (from ``min_units`` sold by the supplier in 30 days, the
rate ``rate_bps``). Which one a sale uses is ``core/pricing/split.py`` ``choose_schedule``
(an exclusive SKU the exclusive ladder; else its category's, if it has tiers; else the
default), read in the sale's one statement; the order keeps the schedule and tier it used
(``orders.commission_schedule``, ``commission_tier``, ``commission_bps``), so a change
applies to sales after it and never to past ones. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import Clock
from core.db import Database
from core.errors import InvalidInput, NotFound
from core.models import Category, CategoryCommissionTier, CommissionTier
from core.money import BPS
from core.pricing.split import DEFAULT_SCHEDULE, EXCLUSIVE_SCHEDULE, category_schedule
from core.rights import require_admin

MAX_UNITS = 1_000_000_000  # a tier's threshold: fits the column (32 bits) with room


@dataclass(frozen=True)
class ScheduleView:
    name: str  # "default", "exclusive", "category:<id>"
    label: str  # the category's name, or the name
    tiers: tuple[tuple[int, int], ...]  # (min_units, rate_bps), lowest first


def _actor(admin: int | None) -> str:
    return "operator:cli" if admin is None else f"admin:{admin}"


class CommissionSchedules:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def schedules(self, admin: int | None = None) -> list[ScheduleView]:
        """Every schedule: the default, the exclusive, then each category that has its own."""
        async with self._db.reading() as session:
            if admin is not None:
                await require_admin(session, admin, "commission.show")
            return await _schedules(session)

    async def set_tier(
        self, admin: int | None, schedule: str, *, min_units: int, rate_bps: int
    ) -> ScheduleView:
        """From ``min_units`` a supplier pays ``rate_bps`` on this schedule (the same
        threshold replaces). ``schedule``: "default", "exclusive", or a category's name."""
        if not 0 <= min_units <= MAX_UNITS or not 0 <= rate_bps < BPS:
            raise InvalidInput(field="tier", value=f"{min_units}:{rate_bps}")
        async with self._db.transaction() as session:
            if admin is not None:
                await require_admin(session, admin, "commission.set")
            name, category = await _resolve(session, schedule)
            previous = await _set(session, category, name, min_units, rate_bps)
            await audit.append(
                session,
                action="commission.set",
                actor=_actor(admin),
                subject=f"commission:{name}",
                payload={"min_units": min_units, "rate_bps": rate_bps, "previous": previous},
                now=self._clock.now(),
            )
            await session.flush()
            return _one(await _schedules(session), name)

    async def remove_tier(
        self, admin: int | None, schedule: str, *, min_units: int
    ) -> ScheduleView:
        """Remove a tier. A category may lose all of its tiers (the default applies again);
        the default and exclusive ladders keep their tier from 0 units."""
        if not 0 <= min_units <= MAX_UNITS:  # a typo, and more than the column holds
            raise InvalidInput(field="tier", value=str(min_units))
        async with self._db.transaction() as session:
            if admin is not None:
                await require_admin(session, admin, "commission.remove")
            name, category = await _resolve(session, schedule)
            if category is None:
                if min_units == 0:
                    raise InvalidInput(field="tier", value="the base tier cannot be removed")
                row = await session.scalar(
                    select(CommissionTier).where(
                        CommissionTier.exclusive == (name == EXCLUSIVE_SCHEDULE),
                        CommissionTier.min_units == min_units,
                    )
                )
            else:
                row = await session.scalar(
                    select(CategoryCommissionTier).where(
                        CategoryCommissionTier.category_id == category.id,
                        CategoryCommissionTier.min_units == min_units,
                    )
                )
            if row is None:
                raise NotFound(kind="tier", ref=f"{schedule}:{min_units}")
            await audit.append(
                session,
                action="commission.remove",
                actor=_actor(admin),
                subject=f"commission:{name}",
                payload={"min_units": min_units, "rate_bps": row.rate_bps},
                now=self._clock.now(),
            )
            await session.delete(row)
            await session.flush()
            views = await _schedules(session)
            found = [v for v in views if v.name == name]
            label = category.name if category is not None else name
            return found[0] if found else ScheduleView(name, label, ())


async def _resolve(session: AsyncSession, schedule: str) -> tuple[str, Category | None]:
    if schedule in (DEFAULT_SCHEDULE, EXCLUSIVE_SCHEDULE):
        return schedule, None
    category = await session.scalar(select(Category).where(Category.name == schedule.strip()))
    if category is None:
        raise NotFound(kind="category", ref=schedule[:64])
    return category_schedule(category.id), category


async def _set(
    session: AsyncSession, category: Category | None, name: str, min_units: int, rate_bps: int
) -> int | None:
    if category is None:
        exclusive = name == EXCLUSIVE_SCHEDULE
        row = await session.scalar(
            select(CommissionTier).where(
                CommissionTier.exclusive == exclusive, CommissionTier.min_units == min_units
            )
        )
        if row is None:
            session.add(CommissionTier(exclusive=exclusive, min_units=min_units, rate_bps=rate_bps))
            return None
        previous, row.rate_bps = row.rate_bps, rate_bps
        return previous
    found = await session.scalar(
        select(CategoryCommissionTier).where(
            CategoryCommissionTier.category_id == category.id,
            CategoryCommissionTier.min_units == min_units,
        )
    )
    if found is None:
        session.add(
            CategoryCommissionTier(category_id=category.id, min_units=min_units, rate_bps=rate_bps)
        )
        return None
    previous, found.rate_bps = found.rate_bps, rate_bps
    return previous


async def _schedules(session: AsyncSession) -> list[ScheduleView]:
    tiers = await session.execute(
        select(
            CommissionTier.exclusive, CommissionTier.min_units, CommissionTier.rate_bps
        ).order_by(CommissionTier.min_units)
    )
    normal: list[tuple[int, int]] = []
    exclusive: list[tuple[int, int]] = []
    for is_exclusive, min_units, rate in tiers:
        (exclusive if is_exclusive else normal).append((min_units, rate))
    views = [
        ScheduleView(DEFAULT_SCHEDULE, DEFAULT_SCHEDULE, tuple(normal)),
        ScheduleView(EXCLUSIVE_SCHEDULE, EXCLUSIVE_SCHEDULE, tuple(exclusive)),
    ]
    rows = await session.execute(
        select(
            Category.id,
            Category.name,
            CategoryCommissionTier.min_units,
            CategoryCommissionTier.rate_bps,
        )
        .join(CategoryCommissionTier, CategoryCommissionTier.category_id == Category.id)
        .order_by(Category.name, CategoryCommissionTier.min_units)
    )
    by_category: dict[int, tuple[str, list[tuple[int, int]]]] = {}
    for category_id, name, min_units, rate in rows:
        by_category.setdefault(category_id, (name, []))[1].append((min_units, rate))
    views.extend(
        ScheduleView(category_schedule(cid), name, tuple(t))
        for cid, (name, t) in by_category.items()
    )
    return views


def _one(views: list[ScheduleView], name: str) -> ScheduleView:
    return next(v for v in views if v.name == name)

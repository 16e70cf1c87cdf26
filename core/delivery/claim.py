"""Claiming codes for a sale: one statement, inside the purchase transaction.

Unique stock: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` marks
exactly the rows it hands out, so two buyers can never get one code (PostgreSQL skips rows
another buyer holds; SQLite runs it under the write lock of ``BEGIN IMMEDIATE``).
Cyclic stock: every buyer gets the same code, which stays available.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Driver, Prepared
from core.errors import OutOfStock
from core.models import Code, CodeStatus, Sku, StockKind


@dataclass(frozen=True)
class ClaimedCode:
    id: int
    ciphertext: bytes


_CYCLIC = Prepared(
    select(Code.id, Code.ciphertext)
    .where(Code.sku_id == bindparam("sku_id"), Code.status == CodeStatus.AVAILABLE)
    .order_by(Code.id)
    .limit(1)
)
_UNIQUE = Prepared(
    update(Code)
    .where(
        Code.id.in_(
            select(Code.id)
            .where(Code.sku_id == bindparam("sku_id"), Code.status == CodeStatus.AVAILABLE)
            .order_by(Code.id)
            .limit(bindparam("quantity"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(status=CodeStatus.SOLD)
    .returning(Code.id, Code.ciphertext)
)


async def claim_codes(session: AsyncSession, sku: Sku, quantity: int) -> list[ClaimedCode]:
    return await claim_on(await Driver.of(session), sku.id, sku.code, sku.stock_kind, quantity)


async def claim_on(
    driver: Driver, sku_id: int, sku_code: str, stock_kind: StockKind | str, quantity: int
) -> list[ClaimedCode]:
    """``claim_codes`` on a driver connection already in the purchase transaction."""
    if stock_kind == StockKind.CYCLIC:
        rows = await driver.rows(_CYCLIC, {"sku_id": sku_id})
        if not rows:
            raise OutOfStock(sku=sku_code, available=0, requested=quantity)
        return [ClaimedCode(rows[0][0], rows[0][1])] * quantity
    rows = await driver.rows(_UNIQUE, {"sku_id": sku_id, "quantity": quantity})
    if len(rows) < quantity:
        raise OutOfStock(sku=sku_code, available=len(rows), requested=quantity)
    return sorted((ClaimedCode(r[0], r[1]) for r in rows), key=lambda c: c.id)


def upstream_stock(upstream: int | None, late: int) -> int | None:
    """What an upstream's SKU has left to sell: the upstream's stock (None: unlimited) and
    our ``late`` codes (it delivered them after our deadline), which ``claim_up_to`` hands
    out first. The storefront and the low-stock alerts both count it so."""
    return None if upstream is None else upstream + late


async def claim_up_to(driver: Driver, sku_id: int, quantity: int) -> list[ClaimedCode]:
    """At most ``quantity`` unique codes, however many there are (none: an empty list): the
    same one statement as ``claim_on``, for a sale that orders the rest elsewhere (an
    upstream's SKU taking the codes it delivered after our deadline first)."""
    rows = await driver.rows(_UNIQUE, {"sku_id": sku_id, "quantity": quantity})
    return sorted((ClaimedCode(r[0], r[1]) for r in rows), key=lambda c: c.id)

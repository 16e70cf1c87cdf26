"""Claiming codes for a sale: one statement, inside the purchase transaction.

Unique stock: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`` marks
exactly the rows it hands out, so two buyers can never get one code (PostgreSQL skips rows
another buyer holds; SQLite runs it under the write lock of ``BEGIN IMMEDIATE``).
Cyclic stock: every buyer gets the same code, which stays available.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import OutOfStock
from core.models import Code, CodeStatus, Sku, StockKind


@dataclass(frozen=True)
class ClaimedCode:
    id: int
    ciphertext: bytes


async def claim_codes(session: AsyncSession, sku: Sku, quantity: int) -> list[ClaimedCode]:
    if sku.stock_kind is StockKind.CYCLIC:
        row = (
            await session.execute(
                select(Code.id, Code.ciphertext)
                .where(Code.sku_id == sku.id, Code.status == CodeStatus.AVAILABLE)
                .order_by(Code.id)
                .limit(1)
            )
        ).first()
        if row is None:
            raise OutOfStock(sku=sku.code, available=0, requested=quantity)
        return [ClaimedCode(row.id, row.ciphertext)] * quantity

    candidates = (
        select(Code.id)
        .where(Code.sku_id == sku.id, Code.status == CodeStatus.AVAILABLE)
        .order_by(Code.id)
        .limit(quantity)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            update(Code)
            .where(Code.id.in_(candidates))
            .values(status=CodeStatus.SOLD)
            .returning(Code.id, Code.ciphertext)
            .execution_options(synchronize_session=False)
        )
    ).all()
    if len(rows) < quantity:
        raise OutOfStock(sku=sku.code, available=len(rows), requested=quantity)
    return sorted((ClaimedCode(r.id, r.ciphertext) for r in rows), key=lambda c: c.id)

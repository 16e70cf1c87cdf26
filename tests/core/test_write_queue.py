"""Write units of work on one Database: queued in turn, never nested."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.db import Database
from core.models import Category


async def test_a_write_transaction_inside_another_is_refused_at_once(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL has no single writer to queue for")
    async with db.transaction():
        with pytest.raises(RuntimeError, match="inside another"):
            async with db.transaction():
                pass


async def test_concurrent_write_transactions_all_commit(db: Database) -> None:
    async def add(n: int) -> None:
        async with db.transaction() as session:
            session.add(Category(name=f"queued-{n}"))

    await asyncio.gather(*(add(n) for n in range(20)))

    async with db.reading() as session:
        names = set(await session.scalars(select(Category.name)))
    assert names >= {f"queued-{n}" for n in range(20)}

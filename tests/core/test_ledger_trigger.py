"""On PostgreSQL the database itself refuses a ledger transaction that does not sum to zero
(a deferred constraint trigger, checked at COMMIT), whoever writes it."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from core.models import LedgerEntry, LedgerTransaction
from core.platform import Platform
from tests.conftest import POSTGRES_URL
from tests.factories import make_reseller

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="a PostgreSQL trigger; SQLite has the Python check only"
)
RESELLER = 1001


async def _a_posted_transaction(platform: Platform) -> tuple[int, int, int]:
    await make_reseller(platform, RESELLER, balance=100_00)
    async with platform.db.reading() as session:
        entry = (await session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))).first()
        assert entry is not None
        return entry.transaction_id, entry.account_id, entry.amount


async def _entries(platform: Platform) -> int:
    async with platform.db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(LedgerEntry)) or 0)


async def test_an_entry_that_unbalances_a_transaction_is_refused_at_commit(
    platform: Platform,
) -> None:
    transaction_id, account_id, _ = await _a_posted_transaction(platform)
    before = await _entries(platform)

    with pytest.raises(DBAPIError, match="does not sum to zero"):
        async with platform.db.transaction() as session:
            await session.execute(
                insert(LedgerEntry).values(
                    transaction_id=transaction_id, account_id=account_id, amount=1
                )
            )

    assert await _entries(platform) == before


async def test_a_balanced_correction_inserted_one_entry_at_a_time_commits(
    platform: Platform,
) -> None:
    transaction_id, account_id, amount = await _a_posted_transaction(platform)
    async with platform.db.reading() as session:
        other = await session.scalar(
            select(LedgerEntry.account_id).where(
                LedgerEntry.transaction_id == transaction_id, LedgerEntry.account_id != account_id
            )
        )
        assert await session.get(LedgerTransaction, transaction_id) is not None
    before = await _entries(platform)

    async with platform.db.transaction() as session:  # unbalanced between the two inserts
        for account, value in ((account_id, -amount), (other, amount)):
            await session.execute(
                insert(LedgerEntry).values(
                    transaction_id=transaction_id, account_id=account, amount=value
                )
            )

    assert await _entries(platform) == before + 2

"""The outbox lease: a due row goes to one worker at a time, failures back off, a lost
lease cannot overwrite a newer result, and the purchase only ever writes a row."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from core.db import Database
from core.leases import renewing
from core.models import OutboxMessage
from core.outbox import LEASE, Outbox, backoff
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import make_reseller, make_sku

RESELLER = 1001
SALE = ("sale",)


async def _rows(platform: Platform) -> list[OutboxMessage]:
    async with platform.db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _sell(platform: Platform, times: int) -> None:
    await make_sku(platform, stock=times)
    await make_reseller(platform, RESELLER, balance=100_000_00)
    for n in range(times):
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key=f"k{n}")


def test_backoff_doubles_up_to_half_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert backoff(50) == timedelta(minutes=30)


async def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(
    platform: Platform, clock: FakeClock
) -> None:
    await _sell(platform, 1)
    first = await platform.outbox.claim("w1", kinds=SALE)
    assert [e.payload["quantity"] for e in first] == [1]
    assert first[0].telegram_id == 900 and first[0].attempts == 0
    assert await platform.outbox.claim("w2", kinds=SALE) == []
    assert await platform.outbox.claim("w1", kinds=("low_stock",)) == []

    clock.advance(seconds=LEASE.total_seconds() + 1)
    stolen = await platform.outbox.claim("w2", kinds=SALE)
    assert [e.id for e in stolen] == [first[0].id]
    assert not await platform.outbox.sent(first[0])  # w1 lost the lease: no overwrite
    assert await platform.outbox.sent(stolen[0])
    (row,) = await _rows(platform)
    assert row.outcome == "sent" and row.attempts == 1 and row.lease_until is None
    clock.advance(hours=1)
    assert await platform.outbox.claim("w3", kinds=SALE) == []


async def test_failures_back_off_and_count_attempts(platform: Platform, clock: FakeClock) -> None:
    await _sell(platform, 1)
    (envelope,) = await platform.outbox.claim("w", kinds=SALE)
    await platform.outbox.retry(envelope, "TelegramServerError: 502")
    assert await platform.outbox.claim("w", kinds=SALE) == []
    clock.advance(seconds=5)
    (again,) = await platform.outbox.claim("w", kinds=SALE)
    assert again.attempts == 1
    await platform.outbox.retry(again, "TelegramNetworkError: down")
    clock.advance(seconds=9)
    assert await platform.outbox.claim("w", kinds=SALE) == []
    clock.advance(seconds=1)
    (third,) = await platform.outbox.claim("w", kinds=SALE)
    await platform.outbox.give_up(third, "TelegramForbiddenError: bot was blocked by the user")
    clock.advance(days=1)
    assert await platform.outbox.claim("w", kinds=SALE) == []
    (row,) = await _rows(platform)
    assert (row.outcome, row.attempts, row.sent_at) == ("undeliverable", 3, None)
    assert "blocked" in (row.last_error or "")
    stats = await platform.outbox.stats()
    assert stats.pending == 0


async def test_two_processes_never_claim_the_same_row(platform: Platform, settings: object) -> None:
    await _sell(platform, 30)
    other_db = Database(platform.db.url)  # a second process: its own engine and pool
    try:
        other = Outbox(other_db, platform.clock)
        batches = await asyncio.gather(
            *(
                (platform.outbox if n % 2 else other).claim(f"w{n}", kinds=SALE, limit=4)
                for n in range(12)
            )
        )
    finally:
        await other_db.dispose()
    ids = [e.id for batch in batches for e in batch]
    assert len(ids) == len(set(ids)) == 30


async def test_released_rows_are_due_again_without_an_attempt(platform: Platform) -> None:
    await _sell(platform, 2)
    claimed = await platform.outbox.claim("w", kinds=SALE)
    await platform.outbox.release(claimed)
    again = await platform.outbox.claim("w2", kinds=SALE)
    assert [e.id for e in again] == [e.id for e in claimed]
    assert all(e.attempts == 0 for e in again)


async def test_rows_in_hand_stay_claimed_while_renewed_and_free_a_lease_after(
    platform: Platform, clock: FakeClock
) -> None:
    """A worker sending a slow batch keeps it (``leases.renewing``); once it stops
    renewing (it died), another claims the rows one lease later."""
    await _sell(platform, 2)
    lease = timedelta(seconds=0.6)  # renewed every 0.2 s
    outbox = Outbox(platform.db, clock, lease=lease)
    held = await outbox.claim("w1", kinds=SALE)
    assert len(held) == 2

    async def renew() -> None:
        await outbox.renew(held)

    async with renewing(renew, lease):
        for _ in range(12):  # two leases pass while it sends: never free meanwhile
            await asyncio.sleep(0.1)
            clock.advance(seconds=0.1)
            assert await outbox.claim("w2", kinds=SALE) == []
    clock.advance(seconds=0.1)
    assert await outbox.claim("w2", kinds=SALE) == []  # still within its last renewal
    clock.advance(seconds=0.6)
    assert len(await outbox.claim("w2", kinds=SALE)) == 2


async def test_a_claim_takes_each_recipients_oldest_few_so_a_backlog_leaves_room(
    platform: Platform,
) -> None:
    """Five rows to one supplier, then one to another: a batch of three with two a
    recipient takes the first's two oldest and the other's, not three of the backlog."""
    await _sell(platform, 5)
    await make_sku(platform, "OTHER-1", supplier=901, stock=1)
    await platform.shop.buy_now(RESELLER, "OTHER-1", 1, idempotency_key="other")
    rows = await _rows(platform)
    claimed = await platform.outbox.claim("w1", kinds=SALE, limit=3, per_user=2)
    assert [e.id for e in claimed] == [rows[0].id, rows[1].id, rows[5].id]
    assert [e.telegram_id for e in claimed] == [900, 900, 901]
    # the rest of the backlog is next, oldest first, still two at a time
    more = await platform.outbox.claim("w2", kinds=SALE, limit=3, per_user=2)
    assert [e.id for e in more] == [rows[2].id, rows[3].id]

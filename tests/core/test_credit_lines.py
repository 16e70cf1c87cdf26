"""Credit lines over 30 simulated days: the daily job run by the job runner as in production
(clock advanced, ticked every hour), interest posted once per reseller and day and
caught up after a gap, top-ups repaying interest first, the due date refusing further
drawing, reminders, freezing, and revenue by source equal to the ledger to the fen."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from core.checks import check_ledger
from core.credit import CREDIT_DAILY, CREDIT_OVERDUE, CREDIT_OVERDUE_ADMIN, INTEREST_KIND
from core.errors import CreditBlocked, Forbidden, InsufficientBalance
from core.jobs import JobRunner
from core.models import LedgerTransaction, OutboxMessage, Role
from core.orders import Receipt
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

RESELLER = 1001
ADMIN_TID = 42


def runner_of(platform: Platform) -> JobRunner:
    settings = platform.settings
    return JobRunner(
        platform.jobs,
        {CREDIT_DAILY: platform.credit.daily_job},
        platform.clock,
        grace=timedelta(seconds=settings.scheduler_grace_seconds),
        lease=settings.scheduler_lease,
    )


async def interest_days(platform: Platform) -> dict[str, int]:
    """The interest transactions per day (from their memo) and how many there are of each."""
    async with platform.db.reading() as session:
        rows = await session.execute(
            select(LedgerTransaction.memo).where(LedgerTransaction.kind == INTEREST_KIND)
        )
        days: dict[str, int] = {}
        for (memo,) in rows:
            day = memo.split(":")[0]
            days[day] = days.get(day, 0) + 1
        return days


async def outbox_count(platform: Platform, kind: str) -> int:
    async with platform.db.reading() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)
            )
            or 0
        )


async def setup(platform: Platform) -> None:
    await make_sku(platform, stock=40)  # 92.00 a unit
    await make_reseller(platform, RESELLER, balance=100_00)
    await platform.catalogue.ensure_user(ADMIN_TID, username="admin", language="en")
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)


async def test_thirty_days_of_a_credit_line(platform: Platform, clock: FakeClock) -> None:
    await setup(platform)
    clock.advance(minutes=1)
    started = clock.now()
    # 2026-11-26 20:00 in Asia/Shanghai: a 500.00 line at 5 bps a day for 10 days
    line = await platform.credit.grant(ADMIN_TID, RESELLER, limit=500_00, rate_bps=5, term_days=10)
    assert (line.starts_on, line.due_on) == (date(2026, 11, 26), date(2026, 12, 5))
    await platform.credit.schedule_daily()  # as the bot does at start-up
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 5, idempotency_key="b1")
    assert isinstance(receipt, Receipt)
    assert (await platform.balances.balance(RESELLER)).balance == -360_00  # 100 − 460

    runner = runner_of(platform)

    async def live(hours: int) -> None:
        for _ in range(hours):
            clock.advance(hours=1)
            await runner.tick()
            await runner.tick()  # a second runner tick (or process) changes nothing

    # one week: 360.00 drawn at 0.05% = 0.18 a day, posted once a day
    await live(24 * 7)
    days = await interest_days(platform)
    assert list(days) == [f"2026-11-{d}" for d in range(26, 31)] + ["2026-12-01", "2026-12-02"]
    assert set(days.values()) == {1}
    statement = await platform.credit.statement(RESELLER)
    assert (statement.drawn, statement.interest_owed, statement.interest_total) == (
        360_00,
        7 * 18,
        7 * 18,
    )
    await platform.credit.run_daily()  # run again by hand: nothing new
    assert await interest_days(platform) == days

    # a top-up of 100.00 pays the 1.26 of interest first, then 98.74 of principal
    await platform.balances.top_up(RESELLER, 100_00, idempotency_key="t1", note="bank", actor=ADMIN)
    statement = await platform.credit.statement(RESELLER)
    assert (statement.interest_owed, statement.balance, statement.repaid) == (
        0,
        -360_00 + 98_74,
        100_00,
    )

    # a gap: the process is down for four days (longer than the scheduler's grace)
    clock.advance(days=4)
    await runner.tick()  # the job due during the gap is marked missed, not run
    assert len(await interest_days(platform)) == 7
    await platform.credit.schedule_daily()  # the process starts again
    await live(24)
    days = await interest_days(platform)
    assert len(days) == 12 and set(days.values()) == {1}  # 12-03 … 12-07 caught up
    statement = await platform.credit.statement(RESELLER)
    # 261.26 drawn: 0.13063 a day, 0.14 rounded up, for 5 days
    assert statement.interest_owed == 5 * 14
    assert statement.overdue  # due on 12-05, now 12-08

    # past the due date: a purchase that would draw further is refused, clearly
    with pytest.raises(CreditBlocked) as refused:
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="b2")
    assert refused.value.params == {"reason": "overdue", "due_on": "2026-12-05"}
    reminders = await outbox_count(platform, CREDIT_OVERDUE)
    assert reminders >= 1 and await outbox_count(platform, CREDIT_OVERDUE_ADMIN) == reminders

    # the rest of the 30 days: one reminder a day to him and to the admin while he owes
    before = await outbox_count(platform, CREDIT_OVERDUE)
    await live(24 * 3)
    assert await outbox_count(platform, CREDIT_OVERDUE) == before + 3
    assert await outbox_count(platform, CREDIT_OVERDUE_ADMIN) == before + 3

    # he repays everything and more: he may buy from his own money again, not on credit
    owed = (await platform.credit.statement(RESELLER)).owed
    await platform.balances.top_up(
        RESELLER, owed + 92_00, idempotency_key="t2", note="bank", actor=ADMIN
    )
    statement = await platform.credit.statement(RESELLER)
    assert (statement.balance, statement.interest_owed) == (92_00, 0)
    assert isinstance(
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="b3"), Receipt
    )
    with pytest.raises(CreditBlocked):
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="b4")
    before = await outbox_count(platform, CREDIT_OVERDUE)
    await live(24 * 2)
    assert await outbox_count(platform, CREDIT_OVERDUE) == before  # he owes nothing

    # a new term: drawing allowed again; then frozen by the admin: refused again
    await platform.credit.grant(ADMIN_TID, RESELLER, limit=500_00, rate_bps=5, term_days=30)
    assert isinstance(
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="b5"), Receipt
    )
    await platform.credit.freeze(ADMIN_TID, RESELLER)
    with pytest.raises(CreditBlocked) as refused:
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="b6")
    assert refused.value.params["reason"] == "frozen"
    await live(24 * 13)  # to day 30
    assert clock.now() - started >= timedelta(days=30)
    days = await interest_days(platform)
    assert set(days.values()) == {1}  # never twice a day
    assert len(days) == 28  # the 30 days less the two on which he had drawn nothing

    # revenue by source is the ledger's own: interest is every interest posted
    report = await platform.revenue.report(
        date(2026, 11, 26), date(2026, 12, 31), admin_telegram_id=ADMIN_TID
    )
    by = {line.source: line.amount for line in report.lines}
    statement = await platform.credit.statement(RESELLER)
    assert by["interest"] == statement.interest_total > 0
    # 7 units sold at 92.00 from 85.00: spread 7.00 a unit, half to the platform (3.50),
    # commission 3% of the supplier's 88.50 → 2.66 (rounded up)
    assert (by["spread"], by["commission"]) == (7 * 3_50, 7 * 2_66)
    assert report.total == report.ledger_total
    assert (await check_ledger(platform.db)).ok


async def test_only_an_admin_grants_a_line(platform: Platform) -> None:
    await setup(platform)
    with pytest.raises(Forbidden):
        await platform.credit.grant(RESELLER, RESELLER, limit=500_00, rate_bps=5, term_days=10)
    # without a line, spending below zero is refused as before
    with pytest.raises(InsufficientBalance):
        await platform.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="x")

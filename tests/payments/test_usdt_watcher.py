"""USDT top-ups end to end: the payments core, the watcher, and the fake TRON node over
real HTTP, on a real database (SQLite file, or PostgreSQL with KAMENG_TEST_DATABASE_URL).
The ledger check runs after each scenario."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from core.checks import check_ledger
from core.db import Database
from core.models import PaymentStatus, UsdtTransferStatus
from core.payments import Created
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_tron import FakeTronServer
from tests.conftest import FakeClock
from tests.factories import make_reseller
from tests.tron_helpers import FAKE_USDT, OURS, THEIRS, usdt_settings

ALICE, BOB = 5001, 5002


@pytest.fixture
def settings(database_url: str, node: FakeTronServer) -> Settings:
    return usdt_settings(database_url, node)


@pytest.fixture
async def shop(platform: Platform) -> Platform:
    await make_reseller(platform, ALICE)
    await make_reseller(platform, BOB)
    await platform.usdt.set_rate(725, note="7.25 CNY")
    return platform


async def _paid_and_confirmed(
    shop: Platform, node: FakeTronServer, clock: FakeClock, amount: int
) -> Created:
    """Alice's USDT payment of ``amount``, paid in full on the chain now and confirmed (19
    blocks): what the watcher credits on its next pass."""
    created = await shop.payments.create(ALICE, "usdt", amount)
    node.chain.pay(OURS, created.step.provider_amount or 0, at=clock.now())
    node.chain.mine(19)
    return created


async def _ledger_ok(db: Database) -> None:
    report = await check_ledger(db)
    assert report.ok, report.render()


async def _balance(platform: Platform, telegram_id: int) -> int:
    return (await platform.balances.balance(telegram_id)).balance


async def test_two_payments_of_the_same_amount_at_once_are_each_credited_to_their_payer(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    alice, bob = await asyncio.gather(
        shop.payments.create(ALICE, "usdt", 100_00), shop.payments.create(BOB, "usdt", 100_00)
    )
    amounts = {alice.step.provider_amount, bob.step.provider_amount}
    assert amounts == {13_801_000, 13_802_000}  # 13.80 USDT + 0.001 / + 0.002
    assert alice.step.address == OURS and alice.step.provider_currency == "USDT"

    clock.advance(minutes=3)
    node.chain.pay(OURS, bob.payment.provider_amount or 0, at=clock.now())
    node.chain.pay(OURS, alice.payment.provider_amount or 0, at=clock.now())
    node.chain.mine(19)
    report = await shop.usdt.watch()

    assert (report.recorded, report.credited) == (2, 2)
    assert await _balance(shop, ALICE) == 100_00
    assert await _balance(shop, BOB) == 100_00
    for created in (alice, bob):
        assert (await shop.payments.get(created.payment.id)).status == PaymentStatus.CREDITED
    await _ledger_ok(db)


async def test_too_few_confirmations_credit_nothing_until_the_blocks_come(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    created = await shop.payments.create(ALICE, "usdt", 50_00)
    node.chain.pay(OURS, created.step.provider_amount or 0, at=clock.now())
    node.chain.mine(18)  # 18 on top: one short
    report = await shop.usdt.watch()
    assert (report.recorded, report.waiting, report.credited) == (1, 1, 0)
    assert await _balance(shop, ALICE) == 0
    [pending] = await shop.usdt.transfers(UsdtTransferStatus.PENDING)
    assert pending.amount == created.step.provider_amount

    node.chain.mine(1)
    report = await shop.usdt.watch()
    assert (report.recorded, report.credited) == (0, 1)
    assert await _balance(shop, ALICE) == 50_00
    await _ledger_ok(db)


async def test_paid_after_expiry_is_credited_within_the_grace_and_held_after_it(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    on_time = await shop.payments.create(ALICE, "usdt", 20_00)
    too_late = await shop.payments.create(BOB, "usdt", 30_00)
    expiry = on_time.payment.expires_at
    # 10 minutes after expiry: within the 30 minutes' grace
    node.chain.pay(OURS, on_time.step.provider_amount or 0, at=expiry + timedelta(minutes=10))
    # 31 minutes after: too late
    node.chain.pay(OURS, too_late.step.provider_amount or 0, at=expiry + timedelta(minutes=31))
    node.chain.mine(19)
    clock.current = expiry + timedelta(minutes=32)
    report = await shop.usdt.watch()

    assert (report.credited, report.late) == (1, 1)
    assert await _balance(shop, ALICE) == 20_00
    assert await _balance(shop, BOB) == 0
    held = await shop.payments.get(too_late.payment.id)
    assert (held.status, held.note) == (PaymentStatus.MISMATCHED, "late")
    assert held.id in {p.id for p in await shop.payments.stuck()}  # an admin sees it
    [late] = await shop.usdt.transfers(UsdtTransferStatus.LATE)
    assert late.payment_id == too_late.payment.id
    await _ledger_ok(db)


async def test_a_transfer_that_pays_nothing_is_kept_and_listed_for_admins(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    created = await shop.payments.create(ALICE, "usdt", 100_00)
    node.chain.pay(OURS, 13_800_000, at=clock.now())  # the nominal amount, no thousandths
    node.chain.pay(OURS, created.step.provider_amount or 0, at=clock.now(), contract=FAKE_USDT)
    node.chain.pay(THEIRS, created.step.provider_amount or 0, at=clock.now())
    node.chain.mine(19)
    report = await shop.usdt.watch()

    assert (report.recorded, report.mismatched, report.credited) == (1, 1, 0)
    [kept] = await shop.usdt.transfers(UsdtTransferStatus.MISMATCHED)
    assert (kept.amount, kept.reason, kept.payment_id) == (13_800_000, "amount", None)
    assert (await shop.payments.get(created.payment.id)).status == PaymentStatus.CREATED
    assert await _balance(shop, ALICE) == 0
    await _ledger_ok(db)


async def test_the_same_payment_paid_twice_credits_once_and_keeps_the_second(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    created = await shop.payments.create(ALICE, "usdt", 10_00)
    node.chain.pay(OURS, created.step.provider_amount or 0, at=clock.now())
    node.chain.pay(OURS, created.step.provider_amount or 0, at=clock.now())
    node.chain.mine(19)
    report = await shop.usdt.watch()
    assert (report.credited, report.mismatched) == (1, 1)
    [second] = await shop.usdt.transfers(UsdtTransferStatus.MISMATCHED)
    assert second.reason == "paid_twice"
    assert await _balance(shop, ALICE) == 10_00
    await _ledger_ok(db)


async def test_watchers_running_at_once_credit_once(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    created = await _paid_and_confirmed(shop, node, clock, 100_00)
    reports = await asyncio.gather(*(shop.usdt.watch() for _ in range(4)))
    assert sum(r.credited for r in reports) == 1
    assert await _balance(shop, ALICE) == 100_00
    [credited] = await shop.usdt.transfers(UsdtTransferStatus.CREDITED)
    assert credited.payment_id == created.payment.id
    assert (await shop.usdt.watch()).credited == 0  # and again later: nothing more
    await _ledger_ok(db)


async def test_a_chain_that_does_not_answer_loses_nothing(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    from core.errors import ChainUnavailable

    await _paid_and_confirmed(shop, node, clock, 100_00)
    node.chain.fail_next(1)
    with pytest.raises(ChainUnavailable):
        await shop.usdt.watch()
    assert (await shop.usdt.watch()).credited == 1
    await _ledger_ok(db)


async def test_no_rate_no_usdt_payment(platform: Platform) -> None:
    from core.errors import UsdtNotConfigured

    await make_reseller(platform, ALICE)
    with pytest.raises(UsdtNotConfigured):
        await platform.payments.create(ALICE, "usdt", 100_00)


async def test_the_watcher_job_runs_once_across_two_processes_and_schedules_the_next(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    from core.jobs import JobRunner
    from core.models import JobStatus
    from core.payments.usdt import WATCH

    await _paid_and_confirmed(shop, node, clock, 100_00)
    await shop.usdt.schedule_watch()
    await shop.usdt.schedule_watch()  # a second process starting: still one job
    [job] = await shop.jobs.jobs(kind_prefix=WATCH)
    clock.current = job.run_at
    runners = [
        JobRunner(
            shop.jobs,
            {WATCH: shop.usdt.run_watch},
            clock,
            grace=timedelta(minutes=5),
            lease=timedelta(minutes=1),
            owner=f"instance-{n}",
        )
        for n in (1, 2)
    ]
    ticks = await asyncio.gather(*(runner.tick() for runner in runners))

    assert sum(len(t.ran) for t in ticks) == 1
    assert await _balance(shop, ALICE) == 100_00
    done, upcoming = await shop.jobs.jobs(kind_prefix=WATCH)
    assert done.status == JobStatus.DONE
    assert (upcoming.status, upcoming.run_at) == (
        JobStatus.PENDING,
        job.run_at + timedelta(seconds=30),
    )
    await _ledger_ok(db)


async def test_the_ledger_check_names_a_transfer_claiming_a_payment_it_did_not_pay(
    shop: Platform, node: FakeTronServer, clock: FakeClock, db: Database
) -> None:
    from sqlalchemy import update

    from core.models import UsdtTransfer

    first = await shop.payments.create(ALICE, "usdt", 10_00)
    node.chain.pay(OURS, first.step.provider_amount or 0, at=clock.now())
    node.chain.pay(OURS, 1_000, at=clock.now())  # pays nothing
    node.chain.mine(19)
    await shop.usdt.watch()
    await _ledger_ok(db)
    async with db.transaction() as session:  # a hand edit: the stray transfer "paid" it
        await session.execute(
            update(UsdtTransfer)
            .where(UsdtTransfer.amount == 1_000)
            .values(status=UsdtTransferStatus.CREDITED, payment_id=first.payment.id)
        )
    report = await check_ledger(db)
    [problem] = report.problems
    assert problem.startswith("USDT transfers recorded as credited")


async def test_two_confirmations_of_one_rate_at_once_set_it_once(shop: Platform) -> None:
    """Two presses of one ✅ (or two admins' confirmations of the same question) racing:
    one sets the rate, the other is told the rate in force is no longer the one it saw."""
    from sqlalchemy import select

    from core.errors import UsdtRateRefused
    from core.models import UsdtRate

    results = await asyncio.gather(
        *(shop.usdt.set_rate(900, confirmed=True, replacing=725) for _ in range(2)),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, UsdtRateRefused)]
    assert len(refused) == 1 and refused[0].params["current"] == 900, results
    async with shop.db.reading() as session:
        rates = list(await session.scalars(select(UsdtRate.fen_per_usdt).order_by(UsdtRate.id)))
    assert rates == [725, 900]  # the fixture's, then one confirmed change

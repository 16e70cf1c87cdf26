"""The recovery job (补单) on the job runner: scheduled once per round whoever schedules it,
it credits a payment whose notification never came, then schedules the next round."""

from __future__ import annotations

from datetime import timedelta

from core.jobs import JobRunner
from core.models import PaymentStatus
from core.payments import RECOVER
from tests.payments.conftest import Paying


async def test_the_job_finds_a_lost_payment_and_schedules_the_next_round(paying: Paying) -> None:
    platform = paying.platform
    payment_id = await paying.open(12_00)
    paying.gateway.faults.lose = 1 + len(paying.gateway.retry_delays)
    await paying.pay(payment_id)

    await platform.payments.schedule_recovery()
    await platform.payments.schedule_recovery()  # a second process: still one job
    jobs = await platform.jobs.jobs(limit=10)
    assert [job.kind for job in jobs] == [RECOVER]
    first = jobs[0].run_at
    assert timedelta(0) < first - paying.clock.now() <= timedelta(minutes=5)

    runner = JobRunner(
        platform.jobs,
        {RECOVER: platform.payments.run_recovery},
        paying.clock,
        grace=timedelta(hours=1),
        lease=timedelta(minutes=5),
    )
    paying.clock.current = first
    ran = await runner.tick()

    assert len(ran.ran) == 1
    assert (await platform.payments.get(payment_id)).status is PaymentStatus.CREDITED
    assert await paying.balance() == 12_00
    pending = [job for job in await platform.jobs.jobs(limit=10) if job.run_at > first]
    assert [job.run_at - first for job in pending] == [timedelta(minutes=5)]
    await paying.assert_books_balance()

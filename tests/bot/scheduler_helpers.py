"""Helpers of the scheduler's bot tests: wait for a job, schedule a promotion, refusals."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.jobs import JobView
from core.models import JobStatus, PromotionKind
from core.platform import Platform
from core.promotions import NewPromotion
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.conftest import FakeClock


async def wait_job(platform: Platform, kind: str, status: JobStatus) -> JobView:
    for _ in range(500):
        jobs = [job for job in await platform.jobs.jobs() if job.kind == kind]
        if jobs and jobs[0].status is status:
            return jobs[0]
        await asyncio.sleep(0.01)
    raise TimeoutError(f"{kind} never became {status}: {jobs}")


async def schedule_percent_off(
    platform: Platform, clock: FakeClock, name: str, starts: timedelta, ends: timedelta, bps: int
) -> None:
    """A percent-off promotion of STEAM-100 for every level, scheduled by the admin."""
    await platform.promotions.schedule(
        ADMIN_ID,
        NewPromotion(
            kind=PromotionKind.PERCENT_OFF,
            percent_off_bps=bps,
            sku_codes=("STEAM-100",),
            starts_at=clock.now() + starts,
            ends_at=clock.now() + ends,
            announcement=name,
        ),
        idempotency_key=name,
    )


async def assert_refused(user: FakeUser, commands: list[str], forged: list[str]) -> None:
    """Each command is answered "not allowed"; each forged button press is answered politely."""
    for command in commands:
        await user.send_text(command)
        await user.wait_for_message(lambda m: "not allowed" in m.content)
    for data in forged:
        query = await user.press_data(data)
        answer = await user.wait_for_callback_answer(query)
        assert answer.answer_text and "Traceback" not in answer.answer_text

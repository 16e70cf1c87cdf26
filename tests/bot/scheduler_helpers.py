"""Helpers of the scheduler's bot tests: wait for a job, schedule a promotion, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from bot.app import create_bot
from bot.i18n import make_i18n
from bot.scheduler import build_runner
from bot.sender import Sender
from core.db import Database
from core.jobs import JobRunner, JobView
from core.models import JobStatus, PromotionKind
from core.platform import Platform, build_platform
from core.promotions import NewPromotion
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID, TOKEN
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


@asynccontextmanager
async def bot_process(
    platform: Platform,
    server: FakeTelegramServer,
    settings: Settings,
    owner: str,
    **overrides: Any,
) -> AsyncIterator[JobRunner]:
    """The job runner of one bot process: its own database engine and platform on the same
    database, its own Bot over HTTP to the fake server."""
    bot_settings = settings.model_copy(
        update={"bot_token": TOKEN, "telegram_api_base": server.base_url, **overrides}
    )
    live = build_platform(bot_settings, clock=platform.clock, db=Database(settings.database_url))
    bot = create_bot(bot_settings)
    try:
        yield build_runner(live, Sender.for_settings(bot, bot_settings), make_i18n(), owner=owner)
    finally:
        await bot.session.close()
        await live.close()

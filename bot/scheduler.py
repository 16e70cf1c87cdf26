"""The bot's side of the job runner: what the promotion jobs send (through the bot's one
``Sender``: its budget and its policy for Telegram's answers), and the APScheduler loop that
ticks the (database-backed) runner.

APScheduler only decides *when* to tick; which jobs are due, and who runs each, is decided
in the database by ``core.jobs`` (so a restart loses nothing and two bot processes never
both fire a job).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import scheduler_texts
from bot.formatting import reading_as, zone_for
from bot.i18n import LOCALE_OF
from bot.sender import Outcome, Priority, Sender
from bot.stars_refunds import RefundRetries
from core.credit import CREDIT_DAILY
from core.fulfilment import DEADLINE_JOB, POLL_JOB
from core.jobs import JobContext, JobRunner
from core.payments import RECOVER
from core.payments.stars import REFUND_RETRY as STARS_REFUND_RETRY
from core.payments.usdt import WATCH as USDT_WATCH
from core.platform import Platform
from core.promotions import ANNOUNCE, REMIND, REPORT, PromotionView
from core.upstreams.service import UPSTREAM_SYNC

log = logging.getLogger("kameng.scheduler")


class SendFailed(RuntimeError):
    """Telegram kept failing for one recipient; the job fails and resumes there later."""


class LeaseLost(RuntimeError):
    """Another runner took the job over (our lease expired): stop sending at once."""


class PromotionMessenger:
    """The handlers of the promotion jobs."""

    def __init__(self, platform: Platform, i18n: I18n, sender: Sender) -> None:
        self._platform = platform
        self._i18n = i18n
        self._sender = sender

    async def _send(self, chat_id: int, text: str, priority: Priority) -> bool:
        """True when delivered, False when the user cannot receive (blocked, gone)."""
        delivery = await self._sender.send_message(chat_id, text, priority=priority)
        if delivery.outcome is Outcome.FAILED:
            raise SendFailed(f"could not deliver to {chat_id} after {delivery.calls} tries")
        if not delivery.sent:
            log.warning("not delivered to %s: %s", chat_id, delivery.reason)
        return delivery.sent

    def _render(self, language: str, telegram_id: int, render: Callable[[], str]) -> str:
        with (
            self._i18n.context(),
            self._i18n.use_locale(LOCALE_OF.get(language, "zh_CN")),
            reading_as(self._platform.settings, telegram_id),
        ):
            return render()

    async def announce(self, context: JobContext) -> None:
        await self._fan_out(context, scheduler_texts.promo_announcement)

    async def remind(self, context: JobContext) -> None:
        hours = int(context.job.payload.get("hours", 1))
        await self._fan_out(context, lambda p: scheduler_texts.promo_reminder(p, hours))

    async def report(self, context: JobContext) -> None:
        results = await self._platform.promotions.results(int(context.job.payload["promotion_id"]))
        admin = await self._platform.catalogue.user(int(context.job.payload["admin"]))
        text = self._render(
            admin.language, admin.telegram_id, lambda: scheduler_texts.promo_results(results)
        )
        await self._send(admin.telegram_id, text, Priority.NOTICE)

    async def _fan_out(self, context: JobContext, render: Callable[[PromotionView], str]) -> None:
        promotions = self._platform.promotions
        promotion = await promotions.promotion(int(context.job.payload["promotion_id"]))
        if self._platform.clock.now() >= promotion.ends_at:
            return  # over already: nothing left worth announcing
        texts: dict[tuple[str, str], str] = {}  # one rendering per language and zone
        settings = self._platform.settings
        cursor = context.job.cursor or 0
        while batch := await promotions.audience(promotion.id, after=cursor):
            for recipient in batch:
                key = (recipient.language, zone_for(settings, recipient.telegram_id).key)
                if key not in texts:
                    texts[key] = self._render(
                        recipient.language, recipient.telegram_id, lambda: render(promotion)
                    )
                await self._send(recipient.telegram_id, texts[key], Priority.ANNOUNCEMENT)
                cursor = recipient.telegram_id
                if not await context.checkpoint(cursor):
                    raise LeaseLost(f"job {context.job.id}")


def build_runner(
    platform: Platform, sender: Sender, i18n: I18n, *, owner: str | None = None
) -> JobRunner:
    settings = platform.settings
    messenger = PromotionMessenger(platform, i18n, sender)

    async def expire_overdue(context: JobContext) -> None:  # every overdue one, not just its own
        await platform.fulfilments.expire_due(context.owner)

    async def poll_upstreams(context: JobContext) -> None:  # every order due a check
        await platform.procurement.poll_due(context.owner)

    return JobRunner(
        platform.jobs,
        {
            ANNOUNCE: messenger.announce,
            REMIND: messenger.remind,
            REPORT: messenger.report,
            RECOVER: platform.payments.run_recovery,  # 补单: payments whose notice never came
            DEADLINE_JOB: expire_overdue,
            POLL_JOB: poll_upstreams,
            UPSTREAM_SYNC: platform.upstreams.run_sync_job,
            USDT_WATCH: platform.usdt.run_watch,  # the USDT deposit address's transfers
            **platform.ads.job_handlers(),
            **platform.paid_services.job_handlers(),
            CREDIT_DAILY: platform.credit.daily_job,
            STARS_REFUND_RETRY: RefundRetries(platform.stars, sender).run,  # stars not given back
        },
        platform.clock,
        grace=timedelta(seconds=settings.scheduler_grace_seconds),
        lease=settings.scheduler_lease,
        owner=owner,
    )


class SchedulerService:
    """APScheduler (AsyncIOScheduler) ticking the runner every ``interval`` seconds.

    A tick still busy (a long announcement) makes the next ones return at once; ``stop``
    cancels a busy tick, whose job another tick (or process) resumes from its checkpoint
    once the lease runs out."""

    def __init__(self, runner: JobRunner, interval: float) -> None:
        self.runner = runner
        self._interval = interval
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._busy: asyncio.Task[None] | None = None
        self.ticks = 0

    async def _tick(self) -> None:
        if self._busy is not None:
            return
        self._busy = asyncio.current_task()
        try:
            await self.runner.tick()
        except asyncio.CancelledError:
            # ``stop`` cancelled this tick, which we own: its job resumes from its checkpoint
            log.info("a busy tick was stopped")
        except Exception:
            log.exception("scheduler tick failed")
        finally:
            self._busy = None
            self.ticks += 1

    async def start(self) -> None:
        self._scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=self._interval, timezone=UTC),
            id="kameng-jobs",
            max_instances=2,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.start()
        log.info("scheduler started as %s, every %ss", self.runner.owner, self._interval)

    async def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        busy = self._busy
        if busy is not None and not busy.done():
            busy.cancel()
            await asyncio.wait([busy], timeout=5)
        log.info("scheduler stopped")

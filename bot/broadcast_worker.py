"""The broadcast worker: sends started campaigns, paced, and reports to the admin.

* Pacing: everything the worker sends (broadcast messages and the admin's progress edits)
  goes through the bot's one ``Sender`` (``bot/sender.py``), at the lowest priority: the
  bot-wide budget is shared with sale notices and announcements, which go first. A 429
  pauses every send; the recipient that got it is tried again after the pause.
* Outcomes (the sender's policy): 403 (blocked the bot) → ``blocked``; other 4xx →
  ``failed`` at once; 5xx and network errors are retried a few times with a backoff, then
  ``failed``.
* Durability: recipients are claimed (``sending``, committed) a fraction of a second ahead
  and their outcomes written in small batches. :meth:`BroadcastWorker.stop` is graceful:
  it stops claiming, lets in-flight sends finish, writes their outcomes, puts claimed but
  unsent recipients back to ``pending`` and releases the campaign, so the next process
  resumes with nobody twice and nobody skipped. A hard kill is described in
  ``core/broadcasts.py`` (at most once: the few in-flight recipients become "interrupted").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot import broadcast_texts
from bot.formatting import reading_as
from bot.i18n import LOCALE_OF
from bot.keyboards import broadcasts as keyboards
from bot.sender import Outcome as Sent
from bot.sender import Priority, Sender
from core.broadcasts import BUYERS, CampaignMessage, CampaignView, Claimed, Counts, Outcome
from core.errors import NotFound
from core.leases import renewing
from core.models import RecipientStatus
from core.platform import Platform

log = logging.getLogger("kameng.broadcasts")

CLAIM_AHEAD_SECONDS = 0.25  # how far ahead recipients are claimed (the hard-kill window)
MAX_IN_FLIGHT = 64


async def send_campaign_message(bot: Bot, chat_id: int, message: CampaignMessage) -> Message:
    """The broadcast exactly as a recipient gets it (the admin's preview uses this too)."""
    markup = keyboards.campaign_button(message)
    if message.kind == "photo" and message.photo_file_id:
        return await bot.send_photo(
            chat_id, message.photo_file_id, caption=message.body_html or None, reply_markup=markup
        )
    return await bot.send_message(chat_id, message.body_html, reply_markup=markup)


@dataclass
class Unsent:
    """A claimed recipient the worker gave up on without a send (it is stopping)."""

    claimed: Claimed
    attempts: int


@dataclass
class Stats:
    retry_afters: int = 0
    transient_errors: int = 0


class BroadcastWorker:
    def __init__(
        self,
        platform: Platform,
        sender: Sender,
        i18n: I18n,
        *,
        progress_seconds: float | None = None,
        poll_seconds: float = 1.0,
    ) -> None:
        settings = platform.settings
        self._settings = settings
        self._broadcasts = platform.broadcasts
        self._catalogue = platform.catalogue
        self._sender = sender
        self._bot = sender.bot
        self._i18n = i18n
        self._progress_seconds = progress_seconds or settings.broadcast_progress_seconds
        self._poll_seconds = poll_seconds
        rate = settings.telegram_sends_per_second
        self._batch = max(1, math.ceil(rate * CLAIM_AHEAD_SECONDS))
        self._in_flight = asyncio.Semaphore(min(MAX_IN_FLIGHT, max(4, self._batch)))
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stats = Stats()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="broadcast-worker")

    async def stop(self) -> None:
        """Graceful: in-flight sends finish and are recorded; the rest waits for the next run."""
        self._stopping.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            await asyncio.shield(task)

    def wake(self) -> None:
        """A campaign was started: look now instead of at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                for campaign_id in await self._broadcasts.due():
                    if self._stopping.is_set():
                        break
                    await self._serve(campaign_id)
                    await self._report(campaign_id)
            except Exception:
                log.exception("broadcast worker round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    # one campaign ------------------------------------------------------------------------

    async def _serve(self, campaign_id: int) -> None:
        """Send one campaign until it is done, cancelled, or the worker stops. Database work
        (claims, outcomes, progress) runs beside the sends, never between two slots."""
        if not await self._broadcasts.acquire(campaign_id, self.owner):
            return
        campaign = await self._broadcasts.campaign(campaign_id)
        queue: deque[Claimed] = deque()
        outcomes: list[Outcome] = []
        unsent: list[Unsent] = []
        tasks: set[asyncio.Task[Outcome | Unsent]] = set()
        refill: asyncio.Task[list[Claimed] | None] | None = None
        progress: asyncio.Task[CampaignView] | None = None
        exhausted = ended = False
        last_progress = time.monotonic()

        async def claim_more() -> list[Claimed] | None:
            await self._flush(campaign_id, outcomes)
            return await self._broadcasts.claim(campaign_id, self.owner, self._batch)

        def collect(task: asyncio.Task[Outcome | Unsent]) -> None:
            tasks.discard(task)
            self._in_flight.release()
            if task.cancelled():
                return
            result = task.result()
            if isinstance(result, Unsent):
                unsent.append(result)
            else:
                outcomes.append(result)

        async def renew() -> None:  # the campaign stays ours while we send
            await self._broadcasts.renew(campaign_id, self.owner)

        async with renewing(renew, self._broadcasts.lease):
            try:
                while not self._stopping.is_set():
                    if refill is None and not exhausted and len(queue) < max(1, self._batch // 2):
                        refill = asyncio.create_task(claim_more())
                    if refill is not None and (refill.done() or not queue):
                        claimed = await refill
                        refill = None
                        if claimed is None:  # cancelled by the admin
                            ended = True
                            break
                        exhausted = not claimed
                        queue.extend(claimed)
                    if not queue:
                        if not tasks:
                            break
                        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                        continue
                    await self._in_flight.acquire()
                    if self._stopping.is_set():
                        self._in_flight.release()
                        break
                    task = asyncio.create_task(self._deliver(campaign.message, queue.popleft()))
                    tasks.add(task)
                    task.add_done_callback(collect)
                    now = time.monotonic()
                    if now - last_progress >= self._progress_seconds and (
                        progress is None or progress.done()
                    ):
                        if progress is not None:
                            campaign = progress.result()
                        last_progress = now
                        progress = asyncio.create_task(self._progress(campaign))
            finally:
                if refill is not None:
                    queue.extend(await refill or [])
                if progress is not None:
                    await asyncio.gather(progress, return_exceptions=True)
                if tasks:
                    await asyncio.gather(*list(tasks), return_exceptions=True)
                await self._flush(campaign_id, outcomes)
                unsent += [Unsent(c, c.attempts) for c in queue]
                finished = False
                if not unsent and not ended and not self._stopping.is_set():
                    finished = await self._broadcasts.finish(campaign_id, self.owner)
                if not finished:
                    await self._broadcasts.release(
                        campaign_id,
                        self.owner,
                        [u.claimed.recipient_id for u in unsent],
                        {u.claimed.recipient_id: u.attempts for u in unsent},
                    )

    async def _flush(self, campaign_id: int, outcomes: list[Outcome]) -> None:
        if outcomes:
            batch = outcomes[:]
            del outcomes[: len(batch)]
            await self._broadcasts.record(campaign_id, self.owner, batch)

    async def _deliver(self, message: CampaignMessage, recipient: Claimed) -> Outcome | Unsent:
        """Send to one recipient when the sender's budget allows."""
        delivery = await self._sender.send(
            recipient.telegram_id,
            lambda: send_campaign_message(self._bot, recipient.telegram_id, message),
            priority=Priority.BROADCAST,
            stopping=self._stopping,
        )
        self.stats.retry_afters += delivery.retry_afters
        self.stats.transient_errors += delivery.transient_errors
        calls = recipient.attempts + delivery.calls
        if delivery.outcome is Sent.UNSENT:
            return Unsent(recipient, calls)
        if delivery.outcome is Sent.SENT:
            sent_id = delivery.result.message_id if delivery.result else None
            return Outcome(recipient.recipient_id, RecipientStatus.SENT, calls, message_id=sent_id)
        status = RecipientStatus.BLOCKED if delivery.outcome is Sent.BLOCKED else None
        return Outcome(
            recipient.recipient_id, status or RecipientStatus.FAILED, calls, delivery.reason
        )

    # the admin's view --------------------------------------------------------------------

    async def _locale(self, telegram_id: int) -> str:
        try:
            return LOCALE_OF.get((await self._catalogue.user(telegram_id)).language, "zh_CN")
        except NotFound:
            return self._i18n.default_locale

    async def _progress(self, campaign: CampaignView) -> CampaignView:
        if campaign.progress_message_id is None:
            campaign = await self._broadcasts.campaign(campaign.id)
            if campaign.progress_message_id is None:
                return campaign
        counts = await self._broadcasts.counts(campaign.id)
        with (
            self._i18n.context(),
            self._i18n.use_locale(await self._locale(campaign.admin_chat_id)),
            reading_as(self._settings, campaign.admin_chat_id),
        ):
            text = progress_text(campaign.id, counts)
            markup = keyboards.stop(campaign.id)
        await self._edit(campaign, text, markup)
        return campaign

    async def _edit(
        self, campaign: CampaignView, text: str, markup: InlineKeyboardMarkup | None
    ) -> bool:
        """Edit the progress message; False when there is none or it could not be edited."""
        message_id = campaign.progress_message_id
        if message_id is None:
            return False
        return await self._admin_call(
            campaign.admin_chat_id,
            lambda: self._bot.edit_message_text(
                text=text,
                chat_id=campaign.admin_chat_id,
                message_id=message_id,
                reply_markup=markup,
            ),
            f"progress of broadcast {campaign.id}",
        )

    async def _report(self, campaign_id: int) -> None:
        taken = await self._broadcasts.take_report(campaign_id)
        if taken is None:
            return
        campaign, counts = taken
        with (
            self._i18n.context(),
            self._i18n.use_locale(await self._locale(campaign.admin_chat_id)),
            reading_as(self._settings, campaign.admin_chat_id),
        ):
            text = report_text(campaign, counts)
        # The progress message becomes the report; a new message only when there is none to
        # edit (never both: the admin would read the same report twice).
        if await self._edit(campaign, text, None):
            return
        await self._admin_call(
            campaign.admin_chat_id,
            lambda: self._bot.send_message(campaign.admin_chat_id, text),
            f"report of broadcast {campaign_id}",
        )

    async def _admin_call(
        self, chat_id: int, call: Callable[[], Awaitable[object]], what: str
    ) -> bool:
        """A message to the admin, within the budget and retried after a 429; True when
        Telegram took it."""
        delivery = await self._sender.send(chat_id, call, priority=Priority.BROADCAST)
        if not delivery.sent:  # "not modified", deleted by the admin, ...
            log.info("%s not delivered: %s", what, delivery.reason)
        return delivery.sent


def progress_text(campaign_id: int, counts: Counts) -> str:
    return broadcast_texts.broadcast_progress(
        campaign_id, counts.sent, counts.blocked, counts.failed, counts.pending
    )


def report_text(campaign: CampaignView, counts: Counts) -> str:
    return broadcast_texts.broadcast_report(
        campaign.id,
        counts.sent,
        counts.blocked,
        counts.failed,
        counts.pending,
        stopped=campaign.status.value == "cancelled",
        returned=counts.total - counts.sent if campaign.audience.kind == BUYERS else 0,
    )

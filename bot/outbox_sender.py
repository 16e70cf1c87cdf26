"""The outbox sender: a background task of the bot process that delivers the notifications
core promised (sales, digests, low-stock alerts, withdrawals, approval requests to admins and
decisions told to whoever asked) through the Bot API.

Each round it closes the sales digests whose period has ended, re-arms low-stock alerts of
restocked SKUs, claims a batch of due outbox rows under a lease (``core.outbox``) and sends
them through the bot's one ``Sender`` (its budget and its policy, ``bot/sender.py``), each
chat's rows in order and the chats side by side (``bot/outbox_lanes.py``), asking it not to
retry: the row's own retry is durable. What that means for a row:

- 403 (the user blocked the bot) and 400 (Telegram refuses this message or chat): never
  deliverable, the row is given up;
- 429: the row waits ``retry_after`` and the round ends (the sender's whole budget paused:
  Telegram's answer does not say whether the limit was the chat's or the bot's);
- anything else (network, 5xx, a timeout, a bug while rendering): the row is retried with
  exponential backoff, for ever; every lane hands the rest of its rows back (a send already
  waiting for its turn included) for the next round.

Purchases never wait for any of this: they only wrote a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiogram.utils.i18n import I18n

from bot import (
    ads_texts,
    aftersales_texts,
    credit_texts,
    fulfilment_texts,
    payment_texts,
    supplier_sales_texts,
    upstream_texts,
)
from bot.approval_kinds import KINDS as APPROVAL_KINDS
from bot.formatting import reading_as
from bot.i18n import LOCALE_OF
from bot.keyboards import fulfilment as fulfilment_keyboards
from bot.keyboards import supplier_sales as keyboards
from bot.notices import Card, send_once
from bot.outbox_lanes import fold_sales, lanes, per_chat_claim
from bot.sender import UNDELIVERABLE, Markup, Outcome, Priority, Sender
from core.ads import RESULT as AD_RESULT
from core.aftersales import REPORTED_TO_SUPPLIER, REPORTS_QUEUE
from core.approvals import CARRIES_CODE, DECIDED_NOTICE, REQUEST_NOTICE, REQUESTER
from core.credit import CREDIT_OVERDUE, CREDIT_OVERDUE_ADMIN
from core.decisions.sale_burst import FOLD_OVER, burst_summary
from core.errors import Forbidden
from core.fulfilment import DIRECT_TASK, ORDER_STATUS
from core.leases import renewing
from core.outbox import Envelope
from core.paid_services import REPORT as SERVICE_REPORT
from core.paid_services import STOPPED as SERVICE_STOPPED
from core.payments import CREDITED_NOTICE, HELD_NOTICE
from core.platform import Platform
from core.supplier_payouts import WITHDRAWAL_DECIDED, WITHDRAWAL_REQUEST
from core.supplier_sales import LOW_STOCK, SALE, SALE_DIGEST
from core.upstreams.service import UPSTREAM_ALERT

log = logging.getLogger("kameng.outbox")

#: at most this many sale rows of one chat told in one summary (a round claims them at once)
BURST_CLAIM = 100

# None: nothing to send (the renderer finished the row); a Card: one with a file
Rendered = tuple[str, Markup | None] | Card | None
Renderer = Callable[[Platform, Envelope], Awaitable[Rendered]]


async def _sale(platform: Platform, envelope: Envelope) -> Rendered:
    notice = await platform.supplier_sales.route_sale(envelope)
    return None if notice is None else (supplier_sales_texts.sale_notice(notice), None)


async def _digest(_platform: Platform, envelope: Envelope) -> Rendered:
    return supplier_sales_texts.sale_digest(envelope.payload), None


async def _low_stock(_platform: Platform, envelope: Envelope) -> Rendered:
    return supplier_sales_texts.low_stock(envelope.payload), None


async def _withdrawal_request(_platform: Platform, envelope: Envelope) -> Rendered:
    markup = keyboards.withdrawal_decision(int(envelope.payload["request_id"]))
    return supplier_sales_texts.withdrawal_for_admin(envelope.payload), markup


async def _withdrawal_decided(_platform: Platform, envelope: Envelope) -> Rendered:
    return supplier_sales_texts.withdrawal_result(envelope.payload), None


async def _payment_credited(_platform: Platform, envelope: Envelope) -> Rendered:
    payload = envelope.payload
    return payment_texts.credited(int(payload["amount"]), int(payload["balance"])), None


async def _payment_held(_platform: Platform, envelope: Envelope) -> Rendered:
    return payment_texts.held(str(envelope.payload["payment"])), None


async def _direct_task(_platform: Platform, envelope: Envelope) -> Rendered:
    payload = envelope.payload
    markup = fulfilment_keyboards.task_actions(int(payload["order_id"]), int(payload["quantity"]))
    return fulfilment_texts.new_task(payload), markup


async def _order_status(_platform: Platform, envelope: Envelope) -> Rendered:
    return fulfilment_texts.order_status(envelope.payload), None


async def _upstream_alert(_platform: Platform, envelope: Envelope) -> Rendered:
    return upstream_texts.alert(envelope.payload), None


async def _ad_result(_platform: Platform, envelope: Envelope) -> Rendered:
    return ads_texts.auction_result(envelope.payload), None


async def _service_stopped(_platform: Platform, envelope: Envelope) -> Rendered:
    return ads_texts.service_stopped(envelope.payload), None


async def _service_report(_platform: Platform, envelope: Envelope) -> Rendered:
    return ads_texts.weekly_report(envelope.payload), None


async def _credit_overdue(_platform: Platform, envelope: Envelope) -> Rendered:
    return credit_texts.overdue_reminder(envelope.payload), None


async def _credit_overdue_admin(_platform: Platform, envelope: Envelope) -> Rendered:
    return credit_texts.overdue_for_admin(envelope.payload), None


async def _approval_request(platform: Platform, envelope: Envelope) -> Rendered:
    """A waiting request's card with its buttons, as the admin panel lists it."""
    queue, request_id = str(envelope.payload["queue"]), int(envelope.payload["request"])
    kind = APPROVAL_KINDS[queue]
    try:
        result = await platform.approvals.look(
            platform.approvals.kinds[queue], request_id, admin_telegram_id=envelope.telegram_id
        )
    except Forbidden:  # no longer an admin
        result = None
    if result is None or result.already_decided:  # nothing left for them to act on
        await platform.outbox.absorb(envelope)
        return None
    return Card(kind.card(result), kind.buttons(result), kind.attachment(result))


async def _approval_decided(platform: Platform, envelope: Envelope) -> Rendered:
    payload = envelope.payload
    queue, request_id = str(payload["queue"]), int(payload["request"])
    result = await platform.approvals.told(platform.approvals.kinds[queue], request_id, payload)
    return APPROVAL_KINDS[queue].notice(result, str(payload.get("to", REQUESTER)))


async def _code_reported(platform: Platform, envelope: Envelope) -> Rendered:
    """A new bad-code report, to the code's supplier: what is wrong, never the code."""
    kind = platform.approvals.kinds[REPORTS_QUEUE]
    result = await platform.approvals.told(kind, int(envelope.payload["report"]))
    return aftersales_texts.report_for_supplier(result.report), None


RENDERERS: dict[str, Renderer] = {
    DIRECT_TASK: _direct_task,
    ORDER_STATUS: _order_status,
    SALE: _sale,
    SALE_DIGEST: _digest,
    LOW_STOCK: _low_stock,
    WITHDRAWAL_REQUEST: _withdrawal_request,
    WITHDRAWAL_DECIDED: _withdrawal_decided,
    CREDITED_NOTICE: _payment_credited,
    HELD_NOTICE: _payment_held,
    UPSTREAM_ALERT: _upstream_alert,
    AD_RESULT: _ad_result,
    SERVICE_STOPPED: _service_stopped,
    SERVICE_REPORT: _service_report,
    CREDIT_OVERDUE: _credit_overdue,
    CREDIT_OVERDUE_ADMIN: _credit_overdue_admin,
    REQUEST_NOTICE: _approval_request,
    DECIDED_NOTICE: _approval_decided,
    REPORTED_TO_SUPPLIER: _code_reported,
}
PRIORITIES: dict[str, Priority] = {
    DIRECT_TASK: Priority.CODES,  # a buyer waits on it, like a sale
    ORDER_STATUS: Priority.CODES,
    SALE: Priority.CODES,
    SALE_DIGEST: Priority.NOTICE,
    LOW_STOCK: Priority.NOTICE,
    WITHDRAWAL_REQUEST: Priority.NOTICE,
    WITHDRAWAL_DECIDED: Priority.NOTICE,
    CREDITED_NOTICE: Priority.NOTICE,
    HELD_NOTICE: Priority.NOTICE,
    UPSTREAM_ALERT: Priority.NOTICE,
    AD_RESULT: Priority.NOTICE,
    SERVICE_STOPPED: Priority.NOTICE,
    SERVICE_REPORT: Priority.NOTICE,
    CREDIT_OVERDUE: Priority.NOTICE,
    CREDIT_OVERDUE_ADMIN: Priority.NOTICE,
    REQUEST_NOTICE: Priority.NOTICE,
    DECIDED_NOTICE: Priority.NOTICE,
    REPORTED_TO_SUPPLIER: Priority.NOTICE,
}


def priority_of(envelope: Envelope) -> Priority:
    """A row's priority: its kind's, except that a decision handing over a code (a bad
    code's replacement, ``CARRIES_CODE`` in its payload) goes out like a purchase's codes."""
    if envelope.kind == DECIDED_NOTICE and envelope.payload.get(CARRIES_CODE):
        return Priority.CODES
    return PRIORITIES[envelope.kind]


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class OutboxSender:
    def __init__(
        self,
        platform: Platform,
        sender: Sender,
        i18n: I18n,
        *,
        poll_seconds: float = 1.0,
        batch: int = 20,
        chats_at_once: int = 8,
        fold_over: int = FOLD_OVER,
    ) -> None:
        self._platform = platform
        self._sender = sender
        self._i18n = i18n
        self._poll = poll_seconds
        self._batch = batch
        self._chats_at_once = chats_at_once  # lanes sending at once (each holds a row or two)
        self._fold_over = fold_over  # more due sale notices to one chat: one summary
        self._halt: asyncio.Event | None = None  # the running round's
        self._worker = worker_name()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._pause = 0.0  # seconds to wait before the next round (Telegram said 429)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kameng-outbox-sender")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a grace period
        """Finish the message in flight, hand the rest of the batch back, and end."""
        self._stopping.set()
        if self._halt is not None:
            self._halt.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        log.info("outbox sender %s started", self._worker)
        while not self._stopping.is_set():
            try:
                await self.round()
            except Exception:  # the database was unreachable, say: try again next round
                log.exception("outbox round failed")
            pause, self._pause = max(self._poll, self._pause), 0.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
        log.info("outbox sender %s stopped", self._worker)

    async def round(self) -> int:
        """One pass; returns how many messages were sent. Each chat's rows go in order, the
        chats side by side (``bot/outbox_lanes.py``): one chat's backlog waits on its own
        pace, not in front of everybody else's rows."""
        await self._platform.supplier_sales.close_due_digests()
        await self._platform.supplier_sales.rearm_alerts()
        per_chat = per_chat_claim(self._sender.budget.rates.private_chat_per_second, self._batch)
        envelopes = await self._platform.outbox.claim(
            self._worker,
            kinds=tuple(RENDERERS),
            limit=self._batch,
            # no cap (and no ranking of every pending row) when a chat may take a whole batch
            per_user=per_chat if per_chat < self._batch else None,
        )
        if not envelopes:
            return 0
        envelopes += await self._claim_bursts(envelopes, per_chat)
        outbox = self._platform.outbox
        in_hand = {envelope.id: envelope for envelope in envelopes}
        # set when Telegram fails or limits us (every lane hands its rows back) or on stop
        halt = self._halt = asyncio.Event()
        if self._stopping.is_set():
            halt.set()
        slots = asyncio.Semaphore(self._chats_at_once)
        sent = 0

        async def renew() -> None:  # the rows not yet sent stay ours while we send
            await outbox.renew(list(in_hand.values()))

        async def lane(rows: list[Envelope]) -> None:
            nonlocal sent
            async with slots:
                messages = fold_sales(rows, lambda e: e.kind == SALE, self._fold_over)
                for index, message in enumerate(messages):
                    if halt.is_set():
                        rest = [row for later in messages[index:] for row in later]
                        await outbox.release(rest)
                        for row in rest:
                            del in_hand[row.id]
                        return
                    outcome = await self._deliver(message, halt)
                    for row in message:
                        del in_hand[row.id]
                    sent += outcome == "sent"
                    if outcome == "stop":  # Telegram is failing or limiting us: later
                        halt.set()

        envelopes.sort(key=lambda e: e.id)  # a burst's extra rows in their chat's order
        chat_lanes = lanes(envelopes, lambda e: e.telegram_id, lambda e: int(priority_of(e)))
        try:
            # a lane that raises cancels the others: none outlives the round and its renewal
            async with renewing(renew, outbox.lease), asyncio.TaskGroup() as group:
                for rows in chat_lanes:
                    group.create_task(lane(rows))
        finally:
            self._halt = None
        return sent

    async def _claim_bursts(self, envelopes: list[Envelope], per_chat: int) -> list[Envelope]:
        """More due sale rows of each chat whose share of the claim is full of them: a
        supplier selling faster than his chat takes messages gets them in one summary
        (``core/decisions/sale_burst.py``) instead of waiting a round per few notices."""
        claimed: dict[int, int] = {}
        selling: set[int] = set()
        for envelope in envelopes:
            claimed[envelope.user_id] = claimed.get(envelope.user_id, 0) + 1
            if envelope.kind == SALE:
                selling.add(envelope.user_id)
        full = [user for user in selling if claimed[user] >= min(per_chat, self._batch)]
        if not full:
            return []
        return await self._platform.outbox.claim(
            self._worker,
            kinds=(SALE,),
            limit=BURST_CLAIM * len(full),
            per_user=BURST_CLAIM,
            users=full,
        )

    async def _deliver(self, rows: list[Envelope], halt: asyncio.Event) -> str:
        """Send one message for ``rows``: one row, or a burst of one chat's sale rows told
        in one summary (each row then marked by that one message)."""
        outbox = self._platform.outbox
        envelope = rows[0]  # one chat: one reader, one language
        locale = LOCALE_OF.get(envelope.language, self._i18n.default_locale)
        try:
            with (
                self._i18n.context(),
                self._i18n.use_locale(locale),
                reading_as(self._platform.settings, envelope.telegram_id),
            ):
                if len(rows) == 1:
                    rendered = await RENDERERS[envelope.kind](self._platform, envelope)
                else:
                    rows, rendered = await self._burst(rows)
        except Exception as exc:
            log.exception("outbox row %s (%s) could not be rendered", envelope.id, envelope.kind)
            for row in rows:
                await outbox.retry(row, f"render: {type(exc).__name__}")
            return "retry"
        if rendered is None:  # finished by the renderer (absorbed into a digest, say)
            return "absorbed"
        card = rendered if isinstance(rendered, Card) else Card(*rendered)
        try:
            delivery = await send_once(
                self._sender,
                envelope.telegram_id,
                card,
                priority=priority_of(envelope),
                stopping=halt,
            )
        except Exception as exc:  # a bug on our side: the rows wait for their backoff
            return await self._failed(rows, exc)
        if delivery.outcome is Outcome.UNSENT:  # stopping (or halted) while it waited its turn
            await outbox.release(rows)
            return "stop"
        if delivery.outcome in UNDELIVERABLE:
            error = delivery.error
            log.warning("outbox rows %s undeliverable: %s", _ids(rows), delivery.reason)
            for row in rows:
                await outbox.give_up(row, f"{type(error).__name__}: {delivery.reason}")
            return "undeliverable"
        if delivery.outcome is Outcome.RETRY_LATER and delivery.retry_after is not None:
            seconds = delivery.retry_after
            for row in rows:
                await outbox.retry(
                    row, f"429 retry after {seconds}", delay=timedelta(seconds=seconds)
                )
            self._pause = float(seconds)
            return "stop"
        if not delivery.sent:  # 5xx, network, a timeout
            return await self._failed(rows, delivery.error)
        if await outbox.sent_all(rows) < len(rows):
            log.warning("outbox rows %s were sent after a lease ran out", _ids(rows))
        return "sent"

    async def _burst(self, rows: list[Envelope]) -> tuple[list[Envelope], Rendered]:
        """One chat's sale rows routed at once; the ones still to tell (the others went into
        a digest) and their one message: a summary, or the notice itself when one is left."""
        notices = await self._platform.supplier_sales.route_sales(rows)
        told = [(row, notice) for row, notice in zip(rows, notices, strict=True) if notice]
        if not told:
            return rows, None
        if len(told) == 1:
            return [told[0][0]], (supplier_sales_texts.sale_notice(told[0][1]), None)
        summary = burst_summary([n for _, n in told], [row.created_at for row, _ in told])
        return [row for row, _ in told], (supplier_sales_texts.sale_digest(summary), None)

    async def _failed(self, rows: list[Envelope], exc: Exception | None) -> str:
        """Retried with backoff; the round ends (Telegram is failing, or we are)."""
        for row in rows:
            next_at = await self._platform.outbox.retry(row, f"{type(exc).__name__}: {exc}")
        log.warning("outbox rows %s failed (%s); next try %s", _ids(rows), exc, next_at)
        return "stop"


def _ids(rows: list[Envelope]) -> str:
    return ",".join(str(row.id) for row in rows)

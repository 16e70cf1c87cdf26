"""The callback sender: a background task beside the outbox sender that POSTs order
callbacks (outbox rows of kind ``order_callback``) to resellers' own systems over HTTP.

Rows are claimed through ``core.outbox`` (the one lease), so several instances share the
work; each row is posted, signed and logged by ``core.order_callbacks.OrderCallbacks``
(delivered, retried with backoff for a day, then given up). Telegram is not involved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import aiohttp

from bot.outbox_sender import worker_name
from core.order_callbacks import KIND
from core.platform import Platform

log = logging.getLogger("kameng.callbacks")


class AiohttpPost:
    """``core.order_callbacks.Post`` on one aiohttp session (no redirects followed)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], *, seconds: float
    ) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            url,
            data=body,
            headers=dict(headers),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as answer:
            await answer.read()
            return answer.status

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class CallbackSender:
    def __init__(self, platform: Platform, *, poll_seconds: float = 1.0, batch: int = 20) -> None:
        self._platform = platform
        self._poll = poll_seconds
        self._batch = batch
        self._worker = worker_name()
        self._post = AiohttpPost()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kameng-callback-sender")

    async def stop(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a grace period
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self._post.close()

    async def _run(self) -> None:
        log.info("callback sender %s started", self._worker)
        while not self._stopping.is_set():
            try:
                await self.round()
            except Exception:  # the database was unreachable, say: next round
                log.exception("callback round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll)
        log.info("callback sender %s stopped", self._worker)

    async def round(self) -> int:
        """One pass over the due callbacks; returns how many were delivered."""
        outbox = self._platform.outbox
        envelopes = await outbox.claim(self._worker, kinds=(KIND,), limit=self._batch)
        delivered = 0
        for index, envelope in enumerate(envelopes):
            if self._stopping.is_set():
                await outbox.release(envelopes[index:])
                break
            outcome = await self._platform.order_callbacks.deliver(envelope, self._post)
            delivered += outcome == "delivered"
            if outcome != "delivered":
                log.info(
                    "callback %s for order %s: %s",
                    envelope.id,
                    envelope.payload.get("order_id"),
                    outcome,
                )
        return delivered

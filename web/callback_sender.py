"""The one HTTP callback sender's loop: every callback to a shop's own system (Kameng's signed
JSON and the Dujiao-Next document's), POSTed over aiohttp. The decisions are
``core/http_callbacks.py``'s; this module is the HTTP client and the loop.

Where it runs: in every process that serves something — ``bot/app.py`` ``prepare`` (``kameng
run``, ``kameng serve``, the sandbox) and ``web/app.py`` ``serve`` (``kameng api serve`` on
its own) — one loop per process. The rows are claimed under the outbox's lease, so any
number of processes and instances share the work and never send one callback twice at once;
a process that dies mid-send leaves its rows to be taken over when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

import aiohttp

from core.http_callbacks import Answer
from core.jobs import runner_id
from core.platform import Platform

log = logging.getLogger("kameng.callbacks")

MAX_ANSWER = 64 * 1024  # what is read of a shop's answer (Dujiao-Next's {"ok": true})


class AiohttpPost:
    """``core.http_callbacks.Post`` on one aiohttp session (no redirects followed)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    async def __call__(
        self, url: str, body: bytes, headers: Mapping[str, str], *, seconds: float
    ) -> Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            url,
            data=body,
            headers=dict(headers),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as answer:
            read = b""
            while len(read) < MAX_ANSWER:  # a shop's answer is small; never read a huge one
                chunk = await answer.content.read(MAX_ANSWER - len(read))
                if not chunk:
                    break
                read += chunk
            return Answer(answer.status, read)

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class CallbackSender:
    def __init__(self, platform: Platform, *, poll_seconds: float = 1.0, batch: int = 20) -> None:
        self._callbacks = platform.http_callbacks
        self._poll = poll_seconds
        self._batch = batch
        self.worker = runner_id()
        self._post = AiohttpPost()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping.clear()
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
        log.info("callback sender %s started", self.worker)
        while not self._stopping.is_set():
            try:
                await self.round()
            except Exception:  # the database was unreachable, say: the rows stay due
                log.exception("callback round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll)
        log.info("callback sender %s stopped", self.worker)

    async def round(self) -> int:
        """One pass over the due callbacks of every protocol; how many were delivered."""
        return await self._callbacks.round(
            self.worker, self._post, limit=self._batch, stopping=self._stopping.is_set
        )

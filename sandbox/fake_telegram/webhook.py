"""Delivering updates to the bot's webhook, as Telegram does once ``setWebhook`` is called.

Each pending update is POSTed as JSON to the webhook's URL with the
``X-Telegram-Bot-Api-Secret-Token`` header (when a secret was set), at most
``max_connections`` at a time. A 2xx answer delivers it (it leaves the queue); any other
answer, or no answer, is retried with a growing pause until it succeeds or the webhook is
deleted, and ``getWebhookInfo`` reports the last error, as Telegram does.

Two test switches that Telegram has no button for but production sees:

* ``mirrors``: URLs that also receive every update once (two instances behind a
  balancer that both got it);
* :meth:`WebhookDelivery.redeliver`: post an update already delivered again (Telegram
  redelivers when it did not see the answer in time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Coroutine
from typing import Any, NamedTuple

import aiohttp

from sandbox.fake_telegram.state import FakeState, PendingUpdate, WebhookConfig

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FIRST_RETRY_SECONDS = 0.1
MAX_RETRY_SECONDS = 2.0
ANSWER_TIMEOUT_SECONDS = 10.0


class WebhookPost(NamedTuple):
    """One POST of an update to a webhook URL and how it was answered (0: no answer)."""

    update_id: int
    url: str
    status: int


class WebhookDelivery:
    """Posts the state's pending updates to its webhook while one is set."""

    def __init__(self, state: FakeState) -> None:
        self.state = state
        #: extra URLs each update is also posted to, once (not retried)
        self.mirrors: list[str] = []
        #: every POST made, in order
        self.posts: list[WebhookPost] = []
        self.first_retry_seconds = FIRST_RETRY_SECONDS
        self._delivered: dict[int, PendingUpdate] = {}
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._loop_task is None:
            self._stopping = False
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=ANSWER_TIMEOUT_SECONDS)
            )
            self._loop_task = asyncio.create_task(self._run(), name="fake-telegram-webhook")

    async def stop(self) -> None:
        self._stopping = True  # a cancel that meets a wake-up is swallowed by wait_for
        tasks = [task for task in (self._loop_task, *self._tasks) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop_task = None
        self._tasks.clear()
        self._in_flight.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None

    def delivered(self, update_id: int) -> bool:
        return update_id in self._delivered

    async def redeliver(self, update_id: int) -> int:
        """Post a delivered update to the webhook once more; the answer's status."""
        config = self.state.webhook
        if config is None:
            raise RuntimeError("no webhook is set")
        return await self._post(config, config.url, self._delivered[update_id])

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            config = self.state.webhook
            if config is not None and not self.state.closing:
                self._start_pending(config)
            await self.state.updates_signal.wait(1.0)

    def _start_pending(self, config: WebhookConfig) -> None:
        state = self.state
        state.updates = [u for u in state.updates if u.kind in state.allowed_updates]
        for update in state.updates:
            if update.update_id in self._in_flight:
                continue
            if len(self._in_flight) >= config.max_connections:
                break
            self._in_flight.add(update.update_id)
            task = asyncio.create_task(self._deliver(config, update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, config: WebhookConfig, update: PendingUpdate) -> None:
        try:
            for mirror in self.mirrors:
                self._spawn(self._post(config, mirror, update))
            pause = self.first_retry_seconds
            while self.state.webhook == config:
                status = await self._post(config, config.url, update)
                if 200 <= status < 300:
                    self._delivered[update.update_id] = update
                    self.state.updates = [
                        u for u in self.state.updates if u.update_id != update.update_id
                    ]
                    return
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_SECONDS)
        finally:
            self._in_flight.discard(update.update_id)
            self.state.updates_signal.notify()  # the next ones may go

    def _spawn(self, post: Coroutine[Any, Any, int]) -> None:
        task: asyncio.Task[Any] = asyncio.create_task(post)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, config: WebhookConfig, url: str, update: PendingUpdate) -> int:
        assert self._http is not None
        headers = {"Content-Type": "application/json"}
        if config.secret_token is not None:
            headers[SECRET_HEADER] = config.secret_token
        body = json.dumps(update.to_api())
        try:
            async with self._http.post(url, data=body, headers=headers) as response:
                await response.read()
                status = response.status
                reason = f"{status} {response.reason or ''}".strip()
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, reason = 0, f"Connection failed: {type(exc).__name__}"
        self.posts.append(WebhookPost(update.update_id, url, status))
        if not 200 <= status < 300 and url == config.url:
            self.state.webhook_last_error = (
                int(time.time()),
                f"Wrong response from the webhook: {reason}" if status else reason,
            )
        return status

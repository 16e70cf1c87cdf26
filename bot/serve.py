"""``kameng serve``: one production instance — the Telegram webhook, the reseller API and
the background work in one aiohttp application, until SIGINT/SIGTERM.

Start: without Redis, take the instance lease first (a second instance on the same
database is refused: one line, exit 2); then listen (``web.app.ApiServer`` with the
webhook's route added), start the background work (``bot.app.prepare``: scheduler,
broadcast worker, outbox sender, the HTTP callback sender — its one loop in this process —
each claiming its rows under leases, so every instance runs them) and only then
``setWebhook``: Telegram posts to an application that is ready.

Stop (first SIGINT/SIGTERM): the webhook answers 503 to new updates (Telegram retries them,
on another instance behind the balancer) while the updates in hand finish; the listener
closes (API requests in flight finish); the background work stops gracefully and gives its
leases back; the instance lease is given back. The webhook stays set: other instances
keep serving it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta
from urllib.parse import urlsplit

from aiogram import Bot
from redis.asyncio import Redis

from bot.app import prepare
from bot.shared_state import SharedState
from bot.webhook import RedisSeenUpdates, UpdateDedupe, WebhookEndpoint
from core.errors import StorageUnavailable
from core.instance_lease import InstanceHeld, InstanceLeases
from core.jobs import runner_id
from core.platform import Platform
from core.seen_updates import SeenUpdates
from web.app import ApiServer

log = logging.getLogger("kameng.serve")

#: how often day-old update ids are deleted from the dedupe table
FORGET_EVERY = timedelta(hours=1)


def webhook_path(url: str) -> str:
    """The route Telegram's POSTs reach: the path of ``KAMENG_WEBHOOK_URL``."""
    return urlsplit(url).path or "/"


async def serve(platform: Platform, bot: Bot, host: str, port: int) -> int:
    """Serve until a signal; the exit status. With ``KAMENG_REDIS_URL`` Redis holds what
    instances share (FSM, throttling, the send budget), so several may run; without it
    this one must be alone."""
    shared = bool(platform.settings.redis_url)
    owner = runner_id()
    lease = InstanceLeases(platform.db, platform.clock, platform.settings.lease)
    if not shared:
        try:
            await lease.take(owner)
        except InstanceHeld as other:
            log.error(
                "another kameng serve (%s) runs on this database until %s UTC; without "
                "KAMENG_REDIS_URL only one instance may run",
                other.owner,
                other.until,
            )
            return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    state = SharedState.from_settings(platform.settings)
    try:
        await state.start(platform)  # Redis not answering: RedisUnavailable
        held = None if shared else (lease, owner)
        return await _serve(platform, bot, host, port, stop, state, held)
    finally:
        await state.close()
        if not shared:
            with contextlib.suppress(StorageUnavailable):
                await lease.give_back(owner)


async def _serve(
    platform: Platform,
    bot: Bot,
    host: str,
    port: int,
    stop: asyncio.Event,
    state: SharedState,
    held: tuple[InstanceLeases, str] | None,
) -> int:
    settings = platform.settings
    dispatcher = await prepare(platform, bot, state)
    seen = SeenUpdates(platform.db, platform.clock)
    dedupe: UpdateDedupe = seen
    if settings.redis_url:
        redis = RedisSeenUpdates(Redis.from_url(settings.redis_url), settings.redis_prefix)
        dedupe = redis
    endpoint = WebhookEndpoint(dispatcher, bot, settings.webhook_secret, dedupe)
    server = ApiServer(platform, host, port)
    server.app.router.add_post(webhook_path(settings.webhook_url), endpoint)
    workflow = {"dispatcher": dispatcher, "bots": [bot], **dispatcher.workflow_data}
    # the stop is the start reversed: updates in hand finish, the background work stops
    # and gives its leases back, the listener closes, then the bot's session
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(bot.session.close)
        if isinstance(dedupe, RedisSeenUpdates):
            stack.push_async_callback(dedupe.close)
        await server.start()
        stack.push_async_callback(server.stop)
        await dispatcher.emit_startup(bot=bot, **workflow)
        stack.push_async_callback(dispatcher.emit_shutdown, bot=bot, **workflow)
        stack.push_async_callback(endpoint.drain)
        await bot.set_webhook(
            settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=dispatcher.resolve_used_update_types(),
            drop_pending_updates=False,
        )
        log.info(
            "serving the webhook %s and the API on %s",
            webhook_path(settings.webhook_url),
            server.base_url,
        )
        status = await _until_stopped(platform, seen, stop, held)
    log.info(
        "stopped: %s updates handled, %s duplicates dropped",
        endpoint.handled,
        endpoint.duplicates,
    )
    return status


async def _until_stopped(
    platform: Platform,
    seen: SeenUpdates,
    stop: asyncio.Event,
    held: tuple[InstanceLeases, str] | None,
) -> int:
    """Renew the instance lease and forget day-old update ids until ``stop``; 1 when the
    lease was taken over (this instance was stalled past it: another runs now)."""
    clock = platform.clock
    forget_at = clock.now()
    renew_every = platform.settings.lease / 3
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), renew_every.total_seconds())
        try:
            if held is not None and not await held[0].renew(held[1]):
                log.error("the instance lease was taken over by another kameng serve; stopping")
                return 1
            if clock.now() >= forget_at:
                await seen.forget_old()
                forget_at = clock.now() + FORGET_EVERY
        except StorageUnavailable:
            log.warning("the database is unavailable; renewing again in %s", renew_every)
    return 0

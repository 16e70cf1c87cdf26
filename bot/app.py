"""The bot's wiring: routers in order, middlewares, command menus, long polling."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n

from bot import command_menus, errors, telegram_requests
from bot import scheduler as job_scheduler
from bot.broadcast_worker import BroadcastWorker
from bot.handlers import (
    admin_aftersales,
    admin_panel,
    admin_payments,
    admin_pricing,
    admin_upstreams,
    admin_usdt,
    ads,
    apikeys,
    approvals,
    balance,
    broadcast,
    buy,
    catalogue,
    commission,
    credit,
    direct,
    fallback,
    fulfil_tasks,
    orders,
    promotions,
    registration,
    reports,
    stars,
    start,
    supplier_onboarding,
    supplier_payouts,
    supplier_products,
    supplier_sales,
    supplier_upload,
    vouchers,
)
from bot.i18n import UserLanguageMiddleware, make_i18n
from bot.library_internals import check_magic_filters_inline
from bot.middlewares import (
    AnswerEveryQuery,
    BannedGate,
    CurrentUserMiddleware,
    ThrottleMiddleware,
)
from bot.outbox_sender import OutboxSender
from bot.sender import Sender
from bot.shared_state import SharedState
from bot.telegram_session import BotApiSession
from bot.update_log import ObserveUpdates
from core.models import Role
from core.platform import Platform
from core.settings import Settings
from web.callback_sender import CallbackSender

log = logging.getLogger("kameng.bot")


def create_bot(settings: Settings) -> Bot:
    session = BotApiSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    bot = Bot(
        settings.bot_token,
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    telegram_requests.install(bot)  # no double answers, no edits that change nothing
    return bot


def services_of(platform: Platform) -> dict[str, Any]:
    """Every service of the platform by its field name (``shop``, ``topups``, ``settings``…):
    the dispatcher's workflow data, so a handler names in its signature what it uses."""
    return {field.name: getattr(platform, field.name) for field in dataclasses.fields(platform)}


def build_dispatcher(
    platform: Platform, i18n: I18n | None = None, shared: SharedState | None = None
) -> Dispatcher:
    """``shared``: the FSM storage and throttle every instance uses (``bot/shared_state.py``);
    by default this process's own."""
    shared = shared or SharedState.local()
    dispatcher = Dispatcher(storage=shared.storage, **services_of(platform))
    i18n = i18n or make_i18n()
    dispatcher.update.outer_middleware(ObserveUpdates())  # first: the update's log context
    dispatcher.update.outer_middleware(CurrentUserMiddleware(platform))
    UserLanguageMiddleware(i18n).setup(dispatcher)
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.outer_middleware(BannedGate())
    dispatcher.callback_query.outer_middleware(AnswerEveryQuery())
    dispatcher.callback_query.middleware(ThrottleMiddleware(shared.throttle))
    routers = (
        errors.setup(),
        stars.setup(),  # payments are answered and credited whoever pays (before the gate)
        registration.setup_gate(),  # outsiders (pending, rejected) stop here
        start.setup(),
        catalogue.setup(),
        buy.setup(),
        direct.setup(),  # a direct top-up's account, before its quote
        orders.setup(),
        balance.setup(),
        admin_panel.setup(),
        admin_pricing.setup(),
        approvals.setup(),  # every approval queue's Approve / Reject and listing
        admin_aftersales.setup(),
        admin_payments.setup(),  # stuck and mismatched payments, /paycredit
        admin_upstreams.setup(),
        admin_usdt.setup(),  # /usdtrate, /usdt: USDT that paid no payment
        registration.setup(),
        vouchers.setup(),
        supplier_sales.setup(),
        supplier_payouts.setup(),
        supplier_onboarding.setup(),
        supplier_products.setup(),
        supplier_upload.setup(),
        fulfil_tasks.setup(),  # a supplier's direct top-up tasks
        apikeys.setup(),
        promotions.setup(),
        reports.setup(),
        broadcast.setup(),
        ads.setup(),
        credit.setup(),
        commission.setup(),
        fallback.setup(),  # last: catches what nothing else took
    )
    dispatcher.include_routers(*routers)
    check_magic_filters_inline(dispatcher)
    return dispatcher


async def grant_configured_admins(platform: Platform) -> None:
    for telegram_id in platform.settings.admin_telegram_ids:
        await platform.catalogue.grant_role(telegram_id, Role.ADMIN, actor="settings")


async def run_polling(
    platform: Platform,
    bot: Bot,
    *,
    handle_signals: bool = True,
    shared: SharedState | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (aiogram stops polling cleanly on both). ``shared``: what
    this instance shares with others, started and closed by the caller; by default built
    from the settings (Redis when ``KAMENG_REDIS_URL`` is set), started here (Redis not
    answering: ``RedisUnavailable``) and closed at the end."""
    if shared is not None:
        await _serve_polling(platform, bot, shared, handle_signals=handle_signals)
        return
    shared = SharedState.from_settings(platform.settings)
    await shared.start(platform)
    try:
        await _serve_polling(platform, bot, shared, handle_signals=handle_signals)
    finally:
        await shared.close()


async def prepare(platform: Platform, bot: Bot, shared: SharedState) -> Dispatcher:
    """What ``kameng run`` (polling) and ``kameng serve`` (webhook) both run around the
    dispatcher: the configured admins, the command menus, the one sender, and the
    background work (scheduler, broadcast worker, outbox sender, the HTTP callback sender)
    on the dispatcher's
    startup and shutdown, so each starts with the updates and stops before the bot's
    session closes (the message in flight completes, the leases are given back)."""
    i18n = make_i18n()
    telegram_requests.install(bot)
    dispatcher = build_dispatcher(platform, i18n, shared)
    await grant_configured_admins(platform)
    platform.payments.warn_if_unreachable()  # a provider whose notifications cannot arrive
    await command_menus.register_all(bot, i18n, platform)
    # One sender, one budget for everything the bot sends on its own initiative: the
    # scheduler, the broadcast worker, the outbox and handlers writing to another chat.
    sender = Sender.for_settings(bot, platform.settings, shared=shared.budget)
    dispatcher["sender"] = sender
    scheduler = job_scheduler.SchedulerService(
        job_scheduler.build_runner(platform, sender, i18n),
        platform.settings.scheduler_interval_seconds,
    )
    dispatcher.startup.register(platform.payments.schedule_recovery)  # its first round
    dispatcher.startup.register(platform.usdt.schedule_watch)  # the USDT watcher's first run
    dispatcher.startup.register(scheduler.start)
    dispatcher.startup.register(platform.credit.schedule_daily)  # the daily interest job
    dispatcher.shutdown.register(scheduler.stop)
    worker = BroadcastWorker(platform, sender, i18n)
    dispatcher["broadcast_worker"] = worker
    dispatcher.startup.register(worker.start)
    dispatcher.shutdown.register(worker.stop)
    outbox = OutboxSender(
        platform, sender, i18n, poll_seconds=platform.settings.outbox_poll_seconds
    )

    async def start_outbox() -> None:
        outbox.start()

    dispatcher.startup.register(start_outbox)
    dispatcher.shutdown.register(outbox.stop)
    callbacks = CallbackSender(platform, poll_seconds=platform.settings.outbox_poll_seconds)

    async def start_callbacks() -> None:  # every callback to shops' systems (HTTP): the
        # one loop of this process (``kameng serve``'s API does not start a second)
        callbacks.start()

    dispatcher.startup.register(start_callbacks)
    dispatcher.shutdown.register(callbacks.stop)
    return dispatcher


async def _serve_polling(
    platform: Platform, bot: Bot, shared: SharedState, *, handle_signals: bool
) -> None:
    dispatcher = await prepare(platform, bot, shared)
    await bot.delete_webhook(drop_pending_updates=False)
    log.info("polling %s", platform.settings.telegram_api_base)
    # What startup built (modules, schemas, the dispatcher) lives as long as the process:
    # frozen, it is not walked by every full collection (a 0.2-0.4 s pause in the bench).
    gc.freeze()
    try:
        await _poll_until_stopped(dispatcher, bot, handle_signals=handle_signals)
    finally:
        gc.unfreeze()
        await bot.session.close()


async def _poll_until_stopped(dispatcher: Dispatcher, bot: Bot, *, handle_signals: bool) -> None:
    """Poll until a signal, or until the caller cancels: cancelling stops polling the way
    SIGINT does (the update loop ends, shutdown hooks run) instead of leaving aiogram's
    polling loop running on a session about to close (the sandbox, tests)."""
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=handle_signals, close_bot_session=False)
    )
    try:
        await asyncio.shield(polling)
    except asyncio.CancelledError:
        try:
            await dispatcher.stop_polling()
        except RuntimeError:  # not started yet: nothing runs that cancelling would orphan
            polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        raise

"""``kameng sandbox``: the whole platform on one machine, in one process, without Telegram.

One lifecycle, started in this order and stopped in the reverse one:

1. the sandbox directory (``./sandbox-data``): the SQLite file, the secret key that
   encrypts its codes (generated once, kept in ``secret.key``) and the sandbox reseller's
   API key (``api-key.json``, issued again if it is lost); a fresh start deletes the
   database and builds the demo platform again (``sandbox.demo``), ``--keep`` only
   migrates it to head;
2. the local Telegram Bot API emulator (``sandbox.fake_telegram``) on its own free port;
3. the reseller HTTP API (``web.app.ApiServer``) on its own free port;
4. the chat page (``sandbox.chat``) on ``--port``, whose socket is bound before anything
   else starts so a port in use is one clear line instead of a half-built sandbox; it
   registers the personas with the emulator before the bot sends them anything;
5. the real bot polling the emulator through ``kameng run``'s own code path
   (``bot.app.run_polling``: outbox sender, scheduler, broadcast worker).

Every setting is made here and none is read from the environment or ``.env``: a
developer's ``KAMENG_BOT_TOKEN`` or ``KAMENG_DATABASE_URL`` cannot point the sandbox at a
real bot or database.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.app import create_bot, run_polling
from core import schema
from core.platform import Platform, build_platform
from core.settings import Settings, generate_secret_key
from sandbox import demo_callbacks
from sandbox.chat.app import build_chat_app
from sandbox.demo import build_demo, reissue_api_key
from sandbox.demo_upstream import DemoUpstream, fake_upstream, point_at
from sandbox.demo_usdt import DEPOSIT_ADDRESS, usdt_settings
from sandbox.fake_epay import FakeEpayGateway
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_tron import FakeTronServer
from sandbox.personas import ADMIN, PERSONAS, RESELLER_GOLD, ApiLink
from sandbox.shop_receiver import ShopReceiver
from web.app import ApiServer

log = logging.getLogger("kameng.sandbox")

HOST = "127.0.0.1"  # the sandbox is for this machine only
DATABASE_FILE = "kameng.db"
SECRET_FILE = "secret.key"
API_KEY_FILE = "api-key.json"
BOT_TOKEN = "7000000001:KAMENG-sandbox-local-emulator"  # the emulator's; never a real bot's
EPAY_PID, EPAY_KEY = "1001", "sandbox-epay-merchant-key"  # the fake gateway's merchant
EPAY_RETRIES = (15.0, 15.0, 30.0, 180.0, 600.0)  # as real gateways space their retries
BOT_READY_SECONDS = 30.0  # how long the bot may take to start polling the emulator


@dataclass(frozen=True)
class SandboxOptions:
    port: int = 8080  # the chat page's; 0 picks a free one
    keep: bool = False  # reuse the database (migrated to head) and the stored API key
    seed: int = 0  # the demo data's random seed
    directory: Path = Path("sandbox-data")


class SandboxProblem(Exception):
    """The sandbox cannot start (a port in use, a kept directory missing a file): the
    message is the one line the operator reads; exit code 2."""


class SandboxSettings(Settings):
    """Settings only from what the sandbox passes: no environment variable, no ``.env``."""

    shop_callback_url: str = ""  # the demo shop's (sandbox/shop_receiver.py)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def sandbox_settings(
    directory: Path,
    secret_key: str,
    telegram_api_base: str,
    *,
    epay_gateway: str = "",
    api_port: int = 0,
    shop_callback_url: str = "",
) -> Settings:
    """``epay_gateway``: the fake 易支付 gateway's URL, notifying the API on ``api_port``."""
    payments: dict[str, object] = {}
    if epay_gateway:
        payments = {
            "epay_gateway": epay_gateway,
            "epay_pid": EPAY_PID,
            "epay_key": EPAY_KEY,
            # the API create (mapi.php), as an operator whose gateway offers it would run:
            # the order is opened at the gateway before the reseller sees the link, its
            # trade_no kept; the fake answers with its cashier page (a link to click and its
            # QR), which a newcomer can pay on the desktop as in page mode
            "epay_mode": "api",
            "payments_public_url": f"http://{HOST}:{api_port}",
        }
    return SandboxSettings(
        database_url=f"sqlite+aiosqlite:///{(directory / DATABASE_FILE).resolve()}",
        secret_key=secret_key,
        bot_token=BOT_TOKEN,
        telegram_api_base=telegram_api_base,
        admin_ids=str(ADMIN.telegram_id),
        callbacks_allow_private=True,  # the demo shop listens on 127.0.0.1
        shop_callback_url=shop_callback_url,
        stars_enabled=True,  # Telegram Stars: the emulator takes invoices (sandbox/demo_stars.py)
    ).model_copy(update=payments)


def run(options: SandboxOptions) -> int:
    """Run the sandbox until SIGINT or SIGTERM; the process's exit code."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    log.setLevel(logging.INFO)
    try:
        return asyncio.run(_main(options))
    except SandboxProblem as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2


async def _main(options: SandboxOptions) -> int:
    """Serve until the first SIGINT or SIGTERM cancels this task; what was started is
    stopped in reverse order while the cancellation unwinds, and the exit code is 0."""
    lifecycle = asyncio.current_task()
    assert lifecycle is not None
    loop = asyncio.get_running_loop()
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if not stopping:  # a second Ctrl-C must not cut the clean stop short
            stopping = True
            print("Stopping the sandbox…", file=sys.stderr, flush=True)
            lifecycle.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):  # kept until the loop closes
        loop.add_signal_handler(sig, stop)
    try:
        await _serve(options)
    except asyncio.CancelledError:
        if not stopping:
            raise
    print("Sandbox stopped.", file=sys.stderr, flush=True)
    return 0


async def _serve(options: SandboxOptions) -> None:
    page_socket = _listen(options.port)
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(page_socket.close)
        directory = options.directory
        directory.mkdir(parents=True, exist_ok=True)
        fresh = _prepare_directory(directory, keep=options.keep)
        secret_key = _secret_key(directory, fresh=fresh)

        telegram = await stack.enter_async_context(FakeTelegramServer(token=BOT_TOKEN, host=HOST))
        upstream = DemoUpstream((await stack.enter_async_context(fake_upstream())).base_url)
        # the fake 易支付 gateway: its notifications go to the API's /pay/epay/notify
        epay = await stack.enter_async_context(
            FakeEpayGateway(pid=EPAY_PID, key=EPAY_KEY, host=HOST, retry_delays=EPAY_RETRIES)
        )
        shop = await stack.enter_async_context(ShopReceiver(host=HOST))  # order callbacks
        api_port = _free_port()
        settings = sandbox_settings(
            directory,
            secret_key,
            telegram.base_url,
            epay_gateway=epay.base_url,
            api_port=api_port,
            shop_callback_url=shop.url,
        )
        tron = await stack.enter_async_context(FakeTronServer(host=HOST))  # USDT's chain
        settings = settings.model_copy(update=usdt_settings(tron.base_url))
        await schema.upgrade_at(settings.database_url)
        if fresh:
            demo = await build_demo(settings, seed=options.seed, upstream=upstream)
            log.info("%s", demo.summary())
            _store_api_key(directory, demo.api_key, demo.api_key_owner)
        elif not (directory / API_KEY_FILE).exists():  # only its digest is in the database
            log.info("no stored API key in %s: issuing a new one", directory)
            _store_api_key(directory, await reissue_api_key(settings), RESELLER_GOLD.telegram_id)
        api_key, api_key_owner = _stored_api_key(directory)

        platform = build_platform(settings)
        stack.push_async_callback(platform.close)
        if not fresh:  # a kept demo: the shop listens on a new port this time
            await demo_callbacks.add_callback(platform)
        await point_at(platform, upstream)
        api = await stack.enter_async_context(ApiServer(platform, HOST, api_port))
        link = ApiLink(base_url=api.base_url, key=api_key, owner_telegram_id=api_key_owner)
        # the page starts before the bot: it registers the personas with the emulator, so
        # the notices and announcements the bot sends as it starts find their chats
        chat_app = build_chat_app(telegram, platform, PERSONAS, link)
        page_url = await stack.enter_async_context(_chat_page(chat_app, page_socket))
        polling = await stack.enter_async_context(_bot_polling(platform, telegram))

        seconds = _process_age()
        print(
            f"Kameng sandbox ready in {seconds:.1f} s: open {page_url}\n"
            f"  reseller API: {api.base_url}  key: {api_key} (reseller {api_key_owner})\n"
            f"  Telegram Bot API emulator: {telegram.base_url}\n"
            f"  易支付 (epay) gateway: {epay.base_url} (top up in the bot: 💰 Balance → Top up)\n"
            f"  the gold reseller's shop (order callbacks): {shop.base_url}\n"
            f"  fake upstream (Dujiao-Next): {upstream.base_url}\n"
            f"  TRON node (USDT): {tron.base_url}; pay with POST {tron.base_url}/sandbox/pay"
            f' {{"to": "{DEPOSIT_ADDRESS}", "amount": "12.347"}}\n'
            f"  data: {directory} ({'fresh demo' if fresh else 'kept'})\n"
            "Ctrl-C to stop",
            flush=True,
        )
        # until a signal cancels this task; a bot that stops by itself is a failure
        await asyncio.wait({polling})
        polling.result()
        raise RuntimeError("the bot stopped polling on its own")


def _free_port() -> int:
    """A free port for the API, known before the platform is built (the payment providers'
    notification URL names it)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _listen(port: int) -> socket.socket:
    try:
        return socket.create_server((HOST, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SandboxProblem(
                f"port {port} is already in use (another sandbox?); "
                "choose another with --port, or --port 0 for any free one"
            ) from None
        raise SandboxProblem(f"cannot listen on {HOST}:{port}: {exc.strerror}") from None


def _prepare_directory(directory: Path, *, keep: bool) -> bool:
    """Whether this start is fresh: the default, and ``--keep`` with nothing to keep."""
    database = directory / DATABASE_FILE
    if keep and database.exists():
        if not (directory / SECRET_FILE).exists():  # its codes could not be read
            raise SandboxProblem(
                f"{directory / SECRET_FILE} is missing, so {database} cannot be kept; "
                "start without --keep for a fresh sandbox"
            )
        return False
    if keep:
        log.info("nothing to keep in %s: building a fresh demo", directory)
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    (directory / API_KEY_FILE).unlink(missing_ok=True)
    return True


def _secret_key(directory: Path, *, fresh: bool) -> str:
    """The key the sandbox's codes are encrypted with: generated once, then read back."""
    path = directory / SECRET_FILE
    if not path.exists():
        assert fresh  # a kept database without its key was refused before
        path.touch(mode=0o600)
        path.write_text(generate_secret_key() + "\n")
    return path.read_text().strip()


def _store_api_key(directory: Path, key: str, owner_telegram_id: int) -> None:
    path = directory / API_KEY_FILE
    path.touch(mode=0o600)
    path.write_text(json.dumps({"key": key, "owner_telegram_id": owner_telegram_id}) + "\n")


def _stored_api_key(directory: Path) -> tuple[str, int]:
    stored: dict[str, Any] = json.loads((directory / API_KEY_FILE).read_text())
    return str(stored["key"]), int(stored["owner_telegram_id"])


@contextlib.asynccontextmanager
async def _bot_polling(
    platform: Platform, telegram: FakeTelegramServer
) -> AsyncIterator[asyncio.Task[None]]:
    """The bot as ``kameng run`` runs it; leaving cancels it the way a signal stops polling
    (scheduler, broadcast worker and outbox sender stopped, the bot's session closed)."""
    polls = len(telegram.calls("getUpdates"))
    polling = asyncio.create_task(
        run_polling(platform, create_bot(platform.settings), handle_signals=False),
        name="kameng-sandbox-bot",
    )
    try:
        async with asyncio.timeout(BOT_READY_SECONDS):
            while len(telegram.calls("getUpdates")) <= polls and not polling.done():
                await telegram.state.changed.wait(0.05)
        if polling.done():
            polling.result()  # its error, if it failed to start
        yield polling
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling


@contextlib.asynccontextmanager
async def _chat_page(app: web.Application, listening: socket.socket) -> AsyncIterator[str]:
    # open pages (WebSockets) get a second to close, then are cut: Ctrl-C stops at once
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.SockSite(runner, listening).start()
        host, port = listening.getsockname()[:2]
        yield f"http://{host}:{port}/"
    finally:
        await runner.cleanup()


def _process_age() -> float:
    """Seconds since this process started (Linux's /proc), else since this module loaded."""
    try:
        with open("/proc/self/stat") as stat:
            # field 22, after the command name in parentheses: start time in clock ticks
            start_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as uptime:
            up_seconds = float(uptime.read().split()[0])
        return max(0.0, up_seconds - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.monotonic() - _LOADED


_LOADED = time.monotonic()

"""An aiohttp app served on this machine for a fake (Telegram, TRON, an upstream) or a
test's receiver: on ``host:port`` (port 0: any free one the OS picks), its URL once it
listens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web


async def start_app(
    app: web.Application, host: str = "127.0.0.1", port: int = 0, shutdown_timeout: float = 1.0
) -> tuple[web.AppRunner, str]:
    """The started runner (``cleanup()`` stops it) and ``http://host:port`` as bound. No
    access log: a fake's every request is not news."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


@asynccontextmanager
async def serving_app(app: web.Application, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """``start_app`` on a free port for the ``async with`` block; yields the URL."""
    runner, url = await start_app(app, host)
    try:
        yield url
    finally:
        await runner.cleanup()

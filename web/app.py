"""The API's wiring: middlewares (request log → errors → auth and rate limit), routes (the
API's, then health and metrics), serving."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass

from aiohttp import web

from core.platform import Platform
from web import dujiao, upstream_callback
from web.auth import make_auth_middleware
from web.callback_sender import CallbackSender
from web.client_closed import CLIENT_CLOSED, ClientClosedCounter
from web.errors import MAX_BODY, SERVER_LOG, error_middleware
from web.handlers import PLATFORM, routes
from web.health import VITALS, VitalsCache
from web.health import routes as health_routes
from web.openapi import OPENAPI_PATH, serve_document
from web.payments import routes as payment_routes
from web.ratelimit import TokenBuckets
from web.request_log import observe_requests

log = logging.getLogger("kameng.api")

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class RateLimit:
    per_second: float = 10.0  # per API key
    burst: int = 20
    failures_per_second: float = 1.0  # failed authentications per client address
    failures_burst: int = 30


def build_app(platform: Platform, rate_limit: RateLimit | None = None) -> web.Application:
    limit = rate_limit or RateLimit()
    buckets = TokenBuckets(limit.per_second, limit.burst)
    failures = TokenBuckets(limit.failures_per_second, limit.failures_burst)
    app = web.Application(
        middlewares=[
            observe_requests,  # outermost: request id, latency and the status sent
            error_middleware,
            make_auth_middleware(
                platform.api_keys,
                buckets,
                failures,
                public=frozenset({OPENAPI_PATH}),
                signed_elsewhere=(dujiao.PREFIX + "/",),
            ),
        ],
        client_max_size=MAX_BODY_BYTES,
    )
    app[PLATFORM] = platform
    app[MAX_BODY] = MAX_BODY_BYTES
    app[CLIENT_CLOSED] = ClientClosedCounter()
    app[VITALS] = VitalsCache()
    app.add_routes(routes)
    app.add_routes(health_routes)  # /healthz, /readyz, /metrics: public
    app.add_routes(upstream_callback.routes)  # signed by the upstream, not an API key
    app.router.add_get(OPENAPI_PATH, serve_document)
    app.add_routes(payment_routes)  # /pay/{provider}/notify: public, signed by the provider
    app.add_routes(dujiao.routes)  # /api/v1/upstream/*: signed by a Dujiao-Next shop
    return app


class ApiServer:
    """The API listening on ``host:port`` (port 0: any free port, see ``port``)."""

    def __init__(
        self, platform: Platform, host: str, port: int, rate_limit: RateLimit | None = None
    ) -> None:
        self.app = build_app(platform, rate_limit)
        self._runner = web.AppRunner(self.app, access_log=None, logger=SERVER_LOG)
        self._host = host
        self._port = port
        self.port = port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        sockets = self._runner.addresses
        if sockets:
            self.port = int(sockets[0][1])

    async def stop(self) -> None:
        await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    async def __aenter__(self) -> ApiServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()


async def serve(platform: Platform, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    # the API on its own (``kameng api serve``) sends the shops' callbacks too, so they go
    # out whichever processes the operator runs; ``kameng serve`` starts its one loop with
    # the bot's background work instead (``bot.app.prepare``)
    callbacks = CallbackSender(platform, poll_seconds=platform.settings.outbox_poll_seconds)
    async with ApiServer(platform, host, port) as server:
        log.info("reseller API on %s", server.base_url)
        platform.payments.warn_if_unreachable()  # /pay/{provider}/notify has no address
        callbacks.start()
        try:
            await stop.wait()
        finally:
            await callbacks.stop()

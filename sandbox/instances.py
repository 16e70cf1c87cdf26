"""Several ``kameng serve`` processes of one deployment, and the balancer in front of them.

What ``tests/production`` and ``bench/scale.py`` share: each instance is a real process
(``python -m cli.main serve``) on its own port, on one database and one Redis, its log
(stderr) in a file of its own; the :class:`Balancer` is the load balancer Telegram's
webhook URL points at, passing each POST to one live instance (round robin, or the one a
test pins), as a reverse proxy in production would.

    deployment = Deployment(directory, environment)
    async with Balancer() as balancer, deployment.instances(2, balancer) as (a, b):
        ...  # the fake Telegram posts to balancer.url; a.kill() is a SIGKILL
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import NamedTuple, Self

import aiohttp
from aiohttp import web

from sandbox.local_http import start_app

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_PATH = "/telegram/webhook"
#: how long an instance may take to answer ``/readyz`` after it started
START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Routed(NamedTuple):
    """One POST the balancer passed on: to which instance (its index), and the answer."""

    path: str
    instance: int
    status: int


class Balancer:
    """A reverse proxy on 127.0.0.1: each request goes to the next live instance (round
    robin) or to the one :meth:`pin` names; an instance that refuses the connection is
    skipped (it died), as a balancer's health check would; none left: 502."""

    def __init__(self) -> None:
        self.port = free_port()
        self.backends: list[str] = []
        self.routed: list[Routed] = []
        self._pinned: int | None = None
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pin(self, instance: int | None) -> None:
        """Send everything to instance ``instance`` (an index), or round robin (None)."""
        self._pinned = instance

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner, _url = await start_app(app, port=self.port)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        count = len(self.backends)
        first = self._pinned if self._pinned is not None else next(self._turn)
        for step in range(count):
            index = (first + step) % count
            try:
                async with self._http.request(
                    request.method,
                    self.backends[index] + request.path_qs,
                    data=body,
                    headers=headers,
                ) as answer:
                    content = await answer.read()
                    self.routed.append(Routed(request.path, index, answer.status))
                    return web.Response(
                        status=answer.status,
                        body=content,
                        content_type=answer.content_type,
                    )
            except aiohttp.ClientConnectionError:
                continue  # that instance is gone: the next one
        return web.Response(status=502, text="no instance answers")


class Instance:
    """One ``kameng serve`` process."""

    def __init__(self, index: int, port: int, log_path: Path, process: asyncio.subprocess.Process):
        self.index = index
        self.port = port
        self.log_path = log_path
        self.process = process

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean stop, its leases stay until they run out."""
        if self.alive:
            self.process.send_signal(signal.SIGKILL)

    async def stop(self, timeout: float = 60.0) -> int:  # noqa: ASYNC109 - a grace period
        """SIGTERM and wait: the exit status (-9 for one killed before)."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def ready(self, http: aiohttp.ClientSession, timeout: float = START_SECONDS) -> None:  # noqa: ASYNC109
        """Until ``/readyz`` answers 200 (the process exiting first is an error)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not self.alive:
                raise RuntimeError(f"kameng serve #{self.index} exited:\n{self.log()[-3000:]}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(self.url + "/readyz") as answer:
                    if answer.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise TimeoutError(f"kameng serve #{self.index} not ready:\n{self.log()[-3000:]}")


class Deployment:
    """The environment every instance shares (database, Redis, token, webhook secret...)
    and where their logs go; ``environment`` is laid over ``os.environ``."""

    def __init__(self, directory: Path, environment: Mapping[str, str]) -> None:
        self.directory = directory
        self.environment = dict(environment)

    def env(self, port: int, webhook_base: str) -> dict[str, str]:
        return {
            **os.environ,
            **self.environment,
            "KAMENG_API_HOST": "127.0.0.1",
            "KAMENG_API_PORT": str(port),
            "KAMENG_WEBHOOK_URL": webhook_base + WEBHOOK_PATH,
        }

    async def start(self, index: int, webhook_base: str) -> Instance:
        port = free_port()
        log_path = self.directory / f"serve-{index}.log"
        with log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "cli.main", "serve"),
                cwd=self.directory,
                env={**self.env(port, webhook_base), "PYTHONPATH": str(ROOT)},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        return Instance(index, port, log_path, process)

    @contextlib.asynccontextmanager
    async def instances(self, count: int, balancer: Balancer) -> AsyncIterator[list[Instance]]:
        """``count`` instances behind ``balancer``, ready; stopped (SIGTERM) at the end."""
        started = [await self.start(index, balancer.url) for index in range(count)]
        balancer.backends = [instance.url for instance in started]
        try:
            async with aiohttp.ClientSession() as http:
                await asyncio.gather(*(instance.ready(http) for instance in started))
            yield started
        finally:
            for instance in started:
                with contextlib.suppress(TimeoutError):
                    await instance.stop()

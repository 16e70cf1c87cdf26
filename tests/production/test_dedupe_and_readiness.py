"""What production leans on and no other test covers: the webhook's update dedupe on Redis
(``RedisSeenUpdates``, what each instance asks before handling an update), and ``/readyz``
going unready while PostgreSQL stops answering and ready again once it is back, with no
restart (the API process keeps its pool)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from bot.webhook import DedupeUnavailable, RedisSeenUpdates
from core.db import Database
from core.platform import build_platform
from core.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.web.conftest import GENEROUS, Api
from tests.web.test_health import ready
from web.app import ApiServer

REDIS_URL = "redis://127.0.0.1:6379/1"


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (OSError, RedisError) as error:  # pragma: no cover - CI and dev machines have it
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}: {type(error).__name__}")
    prefix = f"twoinst-dedupe-{uuid.uuid4().hex[:10]}"
    yield prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def test_each_update_is_first_once_across_instances_and_kept_a_day(prefix: str) -> None:
    a = RedisSeenUpdates(Redis.from_url(REDIS_URL), prefix)
    b = RedisSeenUpdates(Redis.from_url(REDIS_URL), prefix)
    try:
        # the same update reaching both instances, five times at once
        answers = await asyncio.gather(*(seen.first_time(700) for seen in (a, b, a, b, a)))
        assert sorted(answers) == [False, False, False, False, True]
        assert await b.first_time(701) and not await a.first_time(701)
        inspect = Redis.from_url(REDIS_URL)
        ttl = await inspect.ttl(f"{prefix}:update:700")
        await inspect.aclose()
        assert 86_000 < ttl <= 86_400  # forgotten after a day, as the table's rows are
        other = RedisSeenUpdates(Redis.from_url(REDIS_URL), f"{prefix}-other")
        assert await other.first_time(700)  # another deployment's ids are its own
        await other.close()
    finally:
        await a.close()
        await b.close()


async def test_an_expired_update_id_is_new_again(prefix: str) -> None:
    seen = RedisSeenUpdates(Redis.from_url(REDIS_URL), prefix, keep=timedelta(seconds=1))
    try:
        assert await seen.first_time(42)
        assert not await seen.first_time(42)
        await asyncio.sleep(1.2)
        assert await seen.first_time(42)
    finally:
        await seen.close()


async def test_redis_not_answering_is_dedupe_unavailable() -> None:
    """The webhook answers 503 on it, and Telegram retries the update later."""
    seen = RedisSeenUpdates(Redis.from_url("redis://127.0.0.1:1/1"), "nobody")
    try:
        with pytest.raises(DedupeUnavailable):
            await seen.first_time(1)
    finally:
        await seen.close()


class Outage:
    """A TCP relay in front of PostgreSQL that can be cut (every connection dropped, new
    ones refused) and restored: the database server going away and coming back."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def up(self) -> None:
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        self._writers |= {writer, upstream_writer}
        pipes = [
            asyncio.create_task(self._pipe(reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, writer)),
        ]
        self._pipes.update(pipes)
        # one side closed: close the other too
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
        await asyncio.gather(*pipes, return_exceptions=True)
        self._pipes.difference_update(pipes)
        for end in (writer, upstream_writer):
            self._writers.discard(end)
            end.transport.abort()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()


@pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL going away: KAMENG_TEST_DATABASE_URL")
async def test_not_ready_while_postgresql_is_gone_and_ready_once_it_is_back(
    settings: Settings, db: Database
) -> None:
    parsed = make_url(settings.database_url)  # migrated (``db``)
    outage = Outage(parsed.host or "127.0.0.1", parsed.port or 5432)
    await outage.up()
    relayed = parsed.set(host="127.0.0.1", port=outage.port)
    url = relayed.render_as_string(hide_password=False)
    platform = build_platform(settings.model_copy(update={"database_url": url}))
    try:
        async with (
            aiohttp.ClientSession() as http,
            ApiServer(platform, "127.0.0.1", 0, GENEROUS) as server,
        ):
            api = Api(http, server.base_url)
            assert (await ready(api))[0] == 200
            await outage.down()
            status, body = await ready(api)
            assert status == 503 and "database" in body["failed"], body
            assert body["checks"]["database"].startswith("unreachable")
            await outage.up()  # the same port: the server is back
            status, body = await ready(api)
            assert status == 200, body
    finally:
        with contextlib.suppress(AssertionError):
            await outage.down()
        await platform.close()

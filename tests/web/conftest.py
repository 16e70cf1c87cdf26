"""The reseller API served by a real aiohttp server on 127.0.0.1, called over HTTP by a real
aiohttp client, backed by a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from core.platform import Platform
from web.app import ApiServer, RateLimit

GENEROUS = RateLimit(per_second=1000.0, burst=1000)


class Api:
    """A client for one server: ``await api.get(path, key=...)`` → (status, json, headers)."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        json: Any = None,
        data: str | None = None,
        headers: dict[str, str] | None = None,
        language: str = "en",
    ) -> tuple[int, Any, Any]:
        sent = {"Accept-Language": language, **(headers or {})}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        async with self.session.request(
            method, self.base_url + path, json=json, data=data, headers=sent
        ) as response:
            body = await response.json(content_type=None)
            return response.status, body, response.headers

    async def get(self, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
        return await self.call("POST", path, **kwargs)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def api(platform: Platform, http: aiohttp.ClientSession) -> AsyncIterator[Api]:
    async with ApiServer(platform, "127.0.0.1", 0, GENEROUS) as server:
        yield Api(http, server.base_url)

"""The concrete ``HttpClient``: the standard library's urllib in a worker thread.

Core may not import aiohttp; an upstream call is a few requests a minute, so a thread per
call costs nothing that matters. A transport failure (refused, reset, timed out) is
``UpstreamUnreachable``; any HTTP status is an answer for the adapter to read.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Mapping

from core.errors import UpstreamUnreachable
from core.upstreams.adapter import HttpResponse

DEFAULT_TIMEOUT = 15.0


class UrllibClient:
    def __init__(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._timeout = timeout

    async def request(
        self, method: str, url: str, *, headers: Mapping[str, str], body: bytes = b""
    ) -> HttpResponse:
        return await asyncio.to_thread(self._call, method, url, dict(headers), body)

    def _call(self, method: str, url: str, headers: dict[str, str], body: bytes) -> HttpResponse:
        if not url.startswith(("http://", "https://")):
            raise UpstreamUnreachable(reason="not an http(s) address")
        data = body if method != "GET" else None
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as answer:
                return HttpResponse(answer.status, answer.read(), dict(answer.headers))
        except urllib.error.HTTPError as error:
            return HttpResponse(error.code, error.read(), dict(error.headers or {}))
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise UpstreamUnreachable(reason=type(reason).__name__) from None

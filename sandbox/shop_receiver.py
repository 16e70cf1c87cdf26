"""The demo reseller's own shop, as far as callbacks go: a small HTTP server on 127.0.0.1
that the gold reseller's API key posts its order callbacks to (``kameng sandbox``).

``POST /callback`` keeps each callback (its body and ``X-Kameng-Signature``) and answers
200; ``GET /`` lists them, newest first, as a page; ``GET /callbacks.json`` as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from aiohttp import web

from core.order_callbacks import SIGNATURE_HEADER
from sandbox.local_http import start_app

MAX_KEPT = 200


class ShopReceiver:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self.port = port
        self.received: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/callback", self._callback)
        self.app.router.add_get("/", self._page)
        self.app.router.add_get("/callbacks.json", self._json)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Where the demo's callbacks go."""
        return f"http://{self._host}:{self.port}/callback"

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}/"

    async def __aenter__(self) -> ShopReceiver:
        self._runner, _url = await start_app(self.app, self._host, self.port)
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _callback(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.received.insert(
            0,
            {
                "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "signature": request.headers.get(SIGNATURE_HEADER, ""),
                "body": body,
            },
        )
        del self.received[MAX_KEPT:]
        return web.json_response({"ok": True})

    async def _json(self, _request: web.Request) -> web.Response:
        return web.json_response({"items": self.received})

    async def _page(self, _request: web.Request) -> web.Response:
        rows = "".join(
            f"<tr><td>{escape(item['received_at'])}</td>"
            f"<td><pre>{escape(json.dumps(item['body'], ensure_ascii=False, indent=1))}</pre></td>"
            f"<td><code>{escape(item['signature'])}</code></td></tr>"
            for item in self.received
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>Demo shop: order callbacks</title>"
            "<h1>Order callbacks received by the gold reseller's shop</h1>"
            "<table border=1 cellpadding=4><tr><th>received</th><th>body</th>"
            f"<th>{SIGNATURE_HEADER}</th></tr>{rows or '<tr><td colspan=3>none yet</td></tr>'}"
            "</table>"
        )
        return web.Response(text=page, content_type="text/html")

"""Another Kameng's reseller API (``/api/v1``, see its ``/api/v1/openapi.json``).

We are a reseller there: ``Authorization: Bearer <key>``; the catalogue is
``GET /api/v1/skus`` (our price and stock) with each SKU's card for its face value; an order
is ``POST /api/v1/orders`` with our order reference as its ``Idempotency-Key`` (the same key
replays the first order), delivered at once with its codes. It sends no callbacks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from core.errors import UpstreamCallbackRefused, UpstreamError
from core.upstreams.adapter import (
    AccountRef,
    Credentials,
    HttpClient,
    OrderState,
    UpstreamOrder,
    UpstreamProduct,
)

PROTOCOL = "kameng"
PAGE = 100


def code_text(card: dict[str, Any]) -> str:
    """A delivered card as one line: its number, then its password or link if any."""
    parts = [str(card.get(name)) for name in ("number", "password", "link") if card.get(name)]
    return " ".join(parts)


def order_of(ref: str, body: dict[str, Any]) -> UpstreamOrder:
    codes = tuple(code_text(c) for c in body.get("codes") or [] if isinstance(c, dict))
    quantity = int(body.get("quantity", len(codes)))
    state = OrderState.DELIVERED if len(codes) >= quantity else OrderState.PARTIAL
    if body.get("status") == "refunded":
        state = OrderState.FAILED
    return UpstreamOrder(
        ref,
        state,
        str(body["id"]) if body.get("id") is not None else None,
        codes,
        len(codes),
        int(body["total"]) if body.get("total") is not None else None,
    )


class KamengAdapter:
    protocol = PROTOCOL

    def __init__(self, credentials: Credentials, http: HttpClient) -> None:
        self._creds = credentials
        self._http = http
        self._base = credentials.base_url.rstrip("/")

    async def _call(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Authorization": f"Bearer {self._creds.key}", **(extra or {})}
        body = b""
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        answer = await self._http.request(method, self._base + path, headers=headers, body=body)
        if answer.status >= 500:
            raise UpstreamError(upstream=PROTOCOL, reason=f"http {answer.status}")
        try:
            data = json.loads(answer.body)
        except ValueError:
            raise UpstreamError(upstream=PROTOCOL, reason="unreadable answer") from None
        if not isinstance(data, dict):
            raise UpstreamError(upstream=PROTOCOL, reason="unreadable answer")
        if answer.status in (401, 403):
            raise UpstreamError(upstream=PROTOCOL, reason=_error_code(data) or "refused")
        return answer.status, data

    async def _ok(self, path: str) -> dict[str, Any]:
        status, data = await self._call("GET", path)
        if status != 200:
            raise UpstreamError(upstream=PROTOCOL, reason=_error_code(data) or f"http {status}")
        return data

    async def products(self) -> list[UpstreamProduct]:
        out: list[UpstreamProduct] = []
        offset = 0
        while True:
            page = await self._ok(f"/api/v1/skus?offset={offset}&limit={PAGE}")
            for line in page.get("items") or []:
                card = await self._ok(f"/api/v1/skus/{quote(str(line['code']), safe='')}")
                out.append(
                    UpstreamProduct(
                        id=str(line["code"]),
                        name=str(line["name"])[:128],
                        cost=int(line["price"]),
                        face_value=int(card["face_value"]),
                        stock=None if line.get("stock") is None else int(line["stock"]),
                        selling=True,  # the catalogue lists only SKUs on sale
                        category=str(card.get("category") or "") or None,
                    )
                )
            offset += PAGE
            if offset >= int(page.get("total", 0)):
                return out

    async def balance(self) -> int | None:
        me = await self._ok("/api/v1/me")
        return int(me["spendable"]) if me.get("spendable") is not None else None

    async def place_order(
        self, ref: str, product_id: str, quantity: int, account: AccountRef | None = None
    ) -> UpstreamOrder:
        status, data = await self._call(
            "POST",
            "/api/v1/orders",
            {"sku": product_id, "quantity": quantity},
            {"Idempotency-Key": ref},
        )
        if status >= 400:  # refused: out of stock, balance, unknown SKU — nothing charged
            return UpstreamOrder(ref, OrderState.FAILED, error=_error_code(data) or str(status))
        return order_of(ref, data)

    async def query_order(self, ref: str, upstream_id: str | None = None) -> UpstreamOrder:
        if upstream_id is None or not upstream_id.isdigit():
            raise UpstreamError(upstream=PROTOCOL, reason="order id unknown")
        status, data = await self._call("GET", f"/api/v1/orders/{upstream_id}")
        if status == 404:
            return UpstreamOrder(ref, OrderState.FAILED, upstream_id, error="not_found")
        if status != 200:
            raise UpstreamError(upstream=PROTOCOL, reason=_error_code(data) or f"http {status}")
        return order_of(ref, data)

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> UpstreamOrder:
        raise UpstreamCallbackRefused(reason="no_callbacks")  # a Kameng delivers at once


def _error_code(data: dict[str, Any]) -> str | None:
    error = data.get("error")
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else None

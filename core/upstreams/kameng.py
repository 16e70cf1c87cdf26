"""Another Kameng's reseller API (``/api/v1``, see its ``/api/v1/openapi.json``).

We are a reseller there: ``Authorization: Bearer <key>``; the catalogue is
``GET /api/v1/skus`` (our price and stock) with each SKU's card for its face value, kind
and a direct top-up's ``account_fields``; an order is ``POST /api/v1/orders`` with our order
reference as its ``Idempotency-Key`` (the same key replays the first order) and the
``account`` of a direct top-up. Codes in stock come at once; an order it buys upstream itself
or a direct top-up its supplier fulfils is ``pending``/``fulfilling`` (processing here) until
``delivered``, ``partially_delivered`` or ``failed``, which we ask ``GET /api/v1/orders/{id}``
for. It sends no callbacks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from core.decisions.fulfilment import AccountField
from core.errors import UpstreamCallbackRefused, UpstreamError
from core.upstreams.adapter import (
    AccountRef,
    Credentials,
    HttpClient,
    OrderState,
    ProductKind,
    UpstreamOrder,
    UpstreamProduct,
)
from core.upstreams.fields import upstream_field

PROTOCOL = "kameng"
PAGE = 100


def code_text(card: dict[str, Any]) -> str:
    """A delivered card as one line: its number, then its password or link if any."""
    parts = [str(card.get(name)) for name in ("number", "password", "link") if card.get(name)]
    return " ".join(parts)


#: a Kameng order's status (``OrderStatus``) → what it means for us
_PROCESSING = frozenset({"pending", "fulfilling"})
_FAILED = frozenset({"failed", "refunded"})


def order_of(ref: str, body: dict[str, Any]) -> UpstreamOrder:
    """A Kameng order as we see it: still ``pending``/``fulfilling`` there is processing;
    ``failed`` (or refunded whole) failed; ``partially_delivered`` partial, its units delivered
    from the fulfilment; otherwise delivered when every unit came (codes, or a direct top-up's
    fulfilment), partial when fewer did."""
    codes = tuple(code_text(c) for c in body.get("codes") or [] if isinstance(c, dict))
    quantity = int(body.get("quantity", len(codes)))
    status = str(body.get("status") or "")
    fulfilment = body.get("fulfilment") if isinstance(body.get("fulfilment"), dict) else None
    delivered = len(codes)
    if fulfilment is not None and fulfilment.get("delivered") is not None:
        delivered = max(delivered, int(fulfilment["delivered"]))
    reason = fulfilment.get("reason") if fulfilment is not None else None
    error = str(reason) if reason else None
    if status in _PROCESSING:
        state = OrderState.PROCESSING
    elif status in _FAILED:
        state = OrderState.FAILED
    elif status == "partially_delivered" or delivered < quantity:
        state = OrderState.PARTIAL
    else:
        state = OrderState.DELIVERED
    return UpstreamOrder(
        ref,
        state,
        str(body["id"]) if body.get("id") is not None else None,
        codes,
        delivered,
        _charged(body, fulfilment, state),
        error if state in (OrderState.FAILED, OrderState.PARTIAL) else None,
    )


def _charged(
    body: dict[str, Any], fulfilment: dict[str, Any] | None, state: OrderState
) -> int | None:
    """What the order cost us there: its ``total`` (``unit_price`` × quantity, taken when
    ordered) less ``unit_price`` × the units it refunded (a Kameng refunds what it did not
    deliver: ``fulfilment.refunded``). A partial delivery that does not say what it refunded
    says nothing of its cost."""
    if body.get("total") is None:
        return None
    refunded = int(fulfilment.get("refunded") or 0) if fulfilment is not None else 0
    if not refunded:
        return None if state is OrderState.PARTIAL else int(body["total"])
    if body.get("unit_price") is None:
        return None
    return int(body["total"]) - int(body["unit_price"]) * refunded


def _fields(card: dict[str, Any]) -> tuple[AccountField, ...]:
    """A Kameng describes each field as we do (``AccountField.as_json``); one too old to
    say ``required`` asks for every field, one too old for hints gives none."""
    fields = [f for f in card.get("account_fields") or [] if isinstance(f, dict) and f.get("name")]
    return tuple(
        upstream_field(
            PROTOCOL,
            str(f["name"]),
            _str(f.get("label_en")),
            _str(f.get("label_zh")),
            _str(f.get("pattern")),
            f.get("required") is not False,
            _str(f.get("hint_en")),
            _str(f.get("hint_zh")),
        )
        for f in fields
    )


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


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
                        kind=ProductKind.DIRECT
                        if card.get("kind") == "direct"
                        else ProductKind.CODES,
                        account_fields=_fields(card),
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
        payload: dict[str, Any] = {"sku": product_id, "quantity": quantity}
        if account is not None and account.fields:
            payload["account"] = dict(account.fields)
        status, data = await self._call("POST", "/api/v1/orders", payload, {"Idempotency-Key": ref})
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
        raise UpstreamCallbackRefused(reason="no_callbacks")  # a Kameng is polled


def _error_code(data: dict[str, Any]) -> str | None:
    error = data.get("error")
    return str(error.get("code")) if isinstance(error, dict) and error.get("code") else None

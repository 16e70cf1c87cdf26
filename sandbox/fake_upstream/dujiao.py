"""A fake Dujiao-Next upstream: ``/api/v1/upstream/*`` as its Open API documents it.

Every request's ``Dujiao-Next-Api-Key`` / ``-Timestamp`` / ``-Signature`` is checked as
section 2 says (HMAC-SHA256 of ``METHOD\\nPATH\\nTIMESTAMP\\nmd5(body)``, ±60 s), with the
documented error codes; answers use the ``{"ok": …}`` envelope and string amounts.
``deliver(ref)`` completes a slow order and pushes the signed callback (section 5).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from core.money import format_amount
from sandbox.fake_upstream.base import (
    Catalogue,
    FakeField,
    FakeOrder,
    FakeProduct,
    FakeUpstream,
    Mode,
)

PREFIX = "/api/v1/upstream"
WINDOW = 60


def _sign(secret: str, method: str, path: str, stamp: str, body: bytes) -> str:
    text = "\n".join([method, path, stamp, hashlib.md5(body).hexdigest()])
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _refuse(status: int, code: str, **extra: Any) -> web.Response:
    body = {"ok": False, "error_code": code, "error_message": code.replace("_", " "), **extra}
    return web.json_response(body, status=status)


#: the fake's order status → a Dujiao-Next order's ``status`` (its parent order's, summed
#: from the child orders as Dujiao-Next's ``calcParentStatus`` does)
STATUS = {
    "paid": "paid",
    "delivering": "partially_delivered",  # some children delivered, the others still paid
    "delivered": "delivered",
    "partially_delivered": "partially_refunded",  # ended: the undelivered children refunded
    "canceled": "canceled",
}


def _form_field(f: FakeField) -> dict[str, Any]:
    """One ``manual_form_schema`` field as Dujiao-Next serves it (its normalized schema:
    ``key``, ``type``, ``required``, locale maps for ``label`` and ``placeholder``, and a
    Go ``regex`` matched anywhere in the value, hence anchored). The placeholder is the
    field's hint when it has one, as a shop writes the expected format there ("请输入5-12位数字"),
    else a prompt that only names the field."""
    if isinstance(f, str):
        return {"key": f, "type": "text", "required": True}
    return {
        "key": f.name,
        "type": "text",
        "required": f.required,
        "label": {"zh-CN": f.label_zh, "en-US": f.label_en},
        "placeholder": {
            "zh-CN": f"请输入{f.hint_zh or f.label_zh}",
            "en-US": f.hint_en or f"Enter your {f.label_en}",
        },
        "regex": f"^{f.pattern}$",
    }


class FakeDujiao(FakeUpstream):
    def __init__(
        self,
        catalogue: Catalogue | None = None,
        *,
        key: str = "dj-key",
        secret: str = "dj-secret",
        now: Callable[[], float] = time.time,
        port: int = 0,
    ) -> None:
        super().__init__(catalogue, port=port)
        self.key, self.secret, self._now = key, secret, now
        self.callbacks: list[tuple[str, int]] = []  # (url, our answer's status)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_post(f"{PREFIX}/ping", self._ping)
        app.router.add_get(f"{PREFIX}/categories", self._categories)
        app.router.add_get(f"{PREFIX}/products", self._products)
        app.router.add_post(f"{PREFIX}/orders", self._create)
        app.router.add_get(f"{PREFIX}/orders/{{id}}", self._order)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if self.catalogue.failing is not None:
            return _refuse(self.catalogue.failing, "internal_error")
        key = request.headers.get("Dujiao-Next-Api-Key")
        stamp = request.headers.get("Dujiao-Next-Timestamp")
        signature = request.headers.get("Dujiao-Next-Signature")
        if not key or not stamp or not signature:
            return _refuse(401, "missing_auth_headers")
        if not stamp.isdigit():
            return _refuse(401, "invalid_timestamp")
        if abs(self._now() - int(stamp)) > WINDOW:
            return _refuse(401, "timestamp_expired")
        if key != self.key:
            return _refuse(401, "invalid_api_key")
        body = await request.read()
        if signature != _sign(self.secret, request.method, request.path, stamp, body):
            return _refuse(401, "invalid_signature")
        response: web.StreamResponse = await handler(request)
        return response

    async def _ping(self, _request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "site_name": "Fake Dujiao",
                "protocol_version": "1.0",
                "user_id": 42,
                "balance": format_amount(self.catalogue.balance),
                "currency": "CNY",
                "member_level": None,
            }
        )

    def _product(self, p: FakeProduct) -> dict[str, Any]:
        price = format_amount(p.cost)
        sku: dict[str, Any] = {
            "id": p.id,
            "sku_code": "DEFAULT",
            "spec_values": {},
            "price_amount": price,
            "stock_status": "unlimited" if p.stock is None else "in_stock",
            "stock_quantity": -1 if p.stock is None else p.stock,
            "is_active": p.selling,
        }
        if p.face_value is not None:
            sku["original_price"] = format_amount(p.face_value)
        manual = bool(p.direct_fields)
        return {
            "id": p.id,
            "slug": f"p-{p.id}",
            "title": {"zh-CN": p.name, "en": p.name},
            "price_amount": price,
            "fulfillment_type": "manual" if manual else "auto",
            "manual_form_schema": (
                {"fields": [_form_field(f) for f in p.direct_fields]} if manual else None
            ),
            "is_active": True,  # only active products are listed; ``selling`` is the SKU's
            "category_id": self._category_ids()[p.category],
            "skus": [sku],
        }

    def _category_ids(self) -> dict[str, int]:
        """Its categories are its products' (section 4.2), numbered by name."""
        names = sorted({p.category for p in self.catalogue.products.values()})
        return {name: i for i, name in enumerate(names, start=1)}

    async def _categories(self, _request: web.Request) -> web.Response:
        categories = [
            {"id": i, "parent_id": 0, "slug": f"c-{i}", "name": {"zh-CN": name, "en": name}}
            for name, i in self._category_ids().items()
        ]
        return web.json_response({"ok": True, "categories": categories})

    async def _products(self, request: web.Request) -> web.Response:
        page = max(int(request.query.get("page", "1")), 1)
        size = min(max(int(request.query.get("page_size", "20")), 1), 100)
        items = sorted(self.catalogue.products.values(), key=lambda p: p.id)
        chunk = items[(page - 1) * size : page * size]
        return web.json_response(
            {
                "ok": True,
                "items": [self._product(p) for p in chunk],
                "total": len(items),
                "page": page,
                "page_size": size,
            }
        )

    def _order_body(self, order: FakeOrder) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": True,
            "order_id": order.id,
            "order_no": f"DJ{order.id:08d}",
            "status": STATUS[order.status],
            "amount": format_amount(order.amount),
            "currency": "CNY",
        }
        if order.codes:
            body["fulfillment"] = {
                "type": "auto",
                "status": "delivered",
                "payload": "\n".join(order.codes),
                "delivery_data": None,
            }
        return body

    async def _create(self, request: web.Request) -> web.StreamResponse:
        try:
            data = json.loads(await request.read())
            sku_id, quantity = int(data["sku_id"]), int(data["quantity"])
        except (ValueError, KeyError, TypeError):
            return _refuse(400, "bad_request")
        if quantity < 1:
            return _refuse(400, "bad_request")
        ref = str(data.get("downstream_order_no") or f"anon-{len(self.catalogue.orders)}")
        taken = self.catalogue.take(ref, sku_id, quantity)
        if isinstance(taken, str):
            status = {"insufficient_stock": 409, "insufficient_balance": 402}.get(taken, 400)
            return _refuse(status, taken)
        taken.callback_url = data.get("callback_url") or taken.callback_url
        if self.catalogue.mode is Mode.TIMEOUT:
            await self.hang()
        body = self._order_body(taken)
        body.pop("fulfillment", None)  # the create answer carries no delivery (section 4.5)
        if taken.status == "canceled":
            body |= {"ok": False, "error_code": "payment_failed"}
        return web.json_response(body)

    async def _order(self, request: web.Request) -> web.Response:
        wanted = request.match_info["id"]
        for order in self.catalogue.orders.values():
            if str(order.id) == wanted:
                return web.json_response(self._order_body(order))
        return _refuse(404, "order_not_found")

    async def deliver(self, ref: str, *, units: int | None = None) -> int | None:
        """Complete a slow order and push its callback (none in CALLBACK_LOST); returns the
        status our callback endpoint answered, or None if no callback was sent."""
        order = self.catalogue.orders[ref]
        self.catalogue.fill(
            order,
            order.quantity if units is None else units,
            partial=units is not None and units < order.quantity,
        )
        if self.catalogue.mode is Mode.CALLBACK_LOST or not order.callback_url:
            return None
        body = {
            "event": "order.status_changed",
            **self._order_body(order),
            "downstream_order_no": order.ref,
            "timestamp": int(self._now()),
        }
        raw = json.dumps(body).encode()
        secret = "not-the-secret" if self.catalogue.mode is Mode.WRONG_SIGNATURE else self.secret
        stamp = str(int(self._now()))
        headers = {
            "Dujiao-Next-Api-Key": self.key,
            "Dujiao-Next-Timestamp": stamp,
            "Dujiao-Next-Signature": _sign(
                secret, "POST", urlsplit(order.callback_url).path, stamp, raw
            ),
            "Content-Type": "application/json",
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(order.callback_url, data=raw, headers=headers) as answer,
        ):
            self.callbacks.append((order.callback_url, answer.status))
            return answer.status

"""A fake Kameng reseller API (``/api/v1``): the catalogue, ``me``, orders with
``Idempotency-Key`` replay, errors as ``{"error": {"code", …}}`` — as ``web/`` answers.
An order not delivered at once is ``fulfilling`` (with its ``fulfilment``) until the
scenario delivers it (``delivered``, ``partially_delivered``) or fails it (``failed``), as a
Kameng's order bought upstream or fulfilled by its supplier is."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from sandbox.fake_upstream.base import (
    Catalogue,
    FakeOrder,
    FakeProduct,
    FakeUpstream,
    Mode,
    field_name,
)


def _error(status: int, code: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": code, "details": {}}}, status=status
    )


#: the fake's order status → a Kameng order's ``status``
STATUS = {
    "paid": "fulfilling",  # taken, not delivered yet
    "delivering": "fulfilling",  # a Kameng shows nothing before its order ends
    "delivered": "delivered",
    "partially_delivered": "partially_delivered",
    "canceled": "failed",
}


class FakeKameng(FakeUpstream):
    def __init__(
        self, catalogue: Catalogue | None = None, *, key: str = "km-key", port: int = 0
    ) -> None:
        super().__init__(catalogue, port=port)
        self.key = key

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/api/v1/me", self._me)
        app.router.add_get("/api/v1/skus", self._skus)
        app.router.add_get("/api/v1/skus/{code}", self._sku)
        app.router.add_post("/api/v1/orders", self._create)
        app.router.add_get("/api/v1/orders/{id}", self._order)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        if self.catalogue.failing is not None:
            return _error(self.catalogue.failing, "internal")
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return _error(401, "unauthorized")
        response: web.StreamResponse = await handler(request)
        return response

    def _on_sale(self) -> list[FakeProduct]:
        items = self.catalogue.products.values()
        return sorted((p for p in items if p.selling), key=lambda p: p.id)

    @staticmethod
    def _line(p: FakeProduct) -> dict[str, Any]:
        return {
            "code": f"SKU{p.id}",
            "name": p.name,
            "price": p.cost,
            "stock": p.stock,
            "in_stock": p.stock is None or p.stock > 0,
        }

    async def _me(self, _request: web.Request) -> web.Response:
        b = self.catalogue.balance
        return web.json_response(
            {"balance": b, "credit_limit": 0, "spendable": b, "currency": "CNY"}
        )

    async def _skus(self, request: web.Request) -> web.Response:
        offset = int(request.query.get("offset", "0"))
        limit = min(int(request.query.get("limit", "50")), 100)
        items = self._on_sale()
        return web.json_response(
            {
                "items": [self._line(p) for p in items[offset : offset + limit]],
                "total": len(items),
                "offset": offset,
                "limit": limit,
                "currency": "CNY",
            }
        )

    def _find(self, code: str) -> FakeProduct | None:
        return next((p for p in self._on_sale() if f"SKU{p.id}" == code), None)

    async def _sku(self, request: web.Request) -> web.Response:
        p = self._find(request.match_info["code"])
        if p is None:
            return _error(404, "not_found")
        face = p.face_value if p.face_value is not None else p.cost
        return web.json_response(
            {
                **self._line(p),
                "category": p.category,
                "face_value": face,
                "currency": "CNY",
                "kind": "direct" if p.direct_fields else "codes",
                "account_fields": [
                    {"name": f, "pattern": ".+", "label_en": f, "label_zh": f}
                    if isinstance(f, str)
                    else f.as_json()
                    for f in p.direct_fields
                ],
            }
        )

    def _order_body(self, order: FakeOrder) -> dict[str, Any]:
        product = self.catalogue.products.get(order.product_id)
        direct = product is not None and bool(product.direct_fields)
        open_ = order.status in ("paid", "delivering")  # a Kameng shows no unit before the end
        codes = [] if direct or open_ else order.codes  # a direct top-up delivers no codes
        body: dict[str, Any] = {
            "id": order.id,
            "sku": f"SKU{order.product_id}",
            "quantity": order.quantity,
            "unit_price": order.unit_price,
            "total": order.amount,
            "status": STATUS[order.status],
            "codes": [{"number": c} for c in codes],
            "currency": "CNY",
        }
        if order.status != "delivered" or direct:  # delivered later: its fulfilment
            units = 0 if open_ or order.status == "canceled" else len(order.codes)
            body["fulfilment"] = {
                "account": order.account,
                "delivered": units,
                "refunded": 0 if open_ else order.quantity - units,
                "reason": "upstream failed" if order.status == "canceled" else None,
            }
        return body

    async def _create(self, request: web.Request) -> web.StreamResponse:
        ref = request.headers.get("Idempotency-Key", "").strip()
        if not ref:
            return _error(400, "idempotency_key_required")
        try:
            data = json.loads(await request.read())
            code, quantity = str(data["sku"]), int(data["quantity"])
            account = {str(k): str(v) for k, v in (data.get("account") or {}).items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error(400, "invalid_input")
        replay = ref in self.catalogue.orders
        product = self._find(code)
        if product is None and not replay:
            return _error(404, "not_found")
        fields = product.direct_fields if product is not None else ()
        names = {field_name(f) for f in fields}
        needed = {field_name(f) for f in fields if isinstance(f, str) or f.required}
        if product is not None and not replay and not needed <= set(account) <= names:
            return _error(400, "invalid_account")
        taken = self.catalogue.take(ref, product.id if product else 0, quantity)
        if isinstance(taken, str):
            return _error(409, "out_of_stock" if taken == "insufficient_stock" else taken)
        if not replay:
            taken.account = account
        if self.catalogue.mode is Mode.TIMEOUT and not replay:
            await self.hang()
        return web.json_response(self._order_body(taken), status=200 if replay else 201)

    async def _order(self, request: web.Request) -> web.Response:
        for order in self.catalogue.orders.values():
            if str(order.id) == request.match_info["id"]:
                return web.json_response(self._order_body(order))
        return _error(404, "not_found")

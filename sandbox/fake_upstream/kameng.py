"""A fake Kameng reseller API (``/api/v1``): the catalogue, ``me``, orders with
``Idempotency-Key`` replay, errors as ``{"error": {"code", …}}`` — as ``web/`` answers."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox.fake_upstream.base import Catalogue, FakeOrder, FakeProduct, FakeUpstream, Mode


def _error(status: int, code: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": code, "details": {}}}, status=status
    )


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
            {**self._line(p), "category": p.category, "face_value": face, "currency": "CNY"}
        )

    @staticmethod
    def _order_body(order: FakeOrder) -> dict[str, Any]:
        return {
            "id": order.id,
            "sku": f"SKU{order.product_id}",
            "quantity": order.quantity,
            "total": order.amount,
            "status": "refunded" if order.status == "canceled" else "paid",
            "codes": [{"number": c} for c in order.codes],
            "currency": "CNY",
        }

    async def _create(self, request: web.Request) -> web.StreamResponse:
        ref = request.headers.get("Idempotency-Key", "").strip()
        if not ref:
            return _error(400, "idempotency_key_required")
        try:
            data = json.loads(await request.read())
            code, quantity = str(data["sku"]), int(data["quantity"])
        except (ValueError, KeyError, TypeError):
            return _error(400, "invalid_input")
        replay = ref in self.catalogue.orders
        product = self._find(code)
        if product is None and not replay:
            return _error(404, "not_found")
        taken = self.catalogue.take(ref, product.id if product else 0, quantity)
        if isinstance(taken, str):
            return _error(409, "out_of_stock" if taken == "insufficient_stock" else taken)
        if self.catalogue.mode is Mode.TIMEOUT and not replay:
            await self.hang()
        return web.json_response(self._order_body(taken), status=200 if replay else 201)

    async def _order(self, request: web.Request) -> web.Response:
        for order in self.catalogue.orders.values():
            if str(order.id) == request.match_info["id"]:
                return web.json_response(self._order_body(order))
        return _error(404, "not_found")

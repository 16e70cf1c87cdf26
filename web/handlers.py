"""The endpoints: parse the request → one core use case → render JSON."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from core.errors import InvalidInput, InvalidQuantity, NotFound, SkuNotForSale
from core.orders import Requoted
from core.platform import Platform
from core.pricing.quotes import MAX_QUANTITY
from web import render
from web.auth import caller_of
from web.errors import ApiError

PLATFORM = web.AppKey("platform", Platform)
routes = web.RouteTableDef()
MAX_PAGE = 100


def _platform(request: web.Request) -> Platform:
    return request.app[PLATFORM]


def _currency(request: web.Request) -> str:
    return _platform(request).settings.currency


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(field=name, min=low, max=high)
    return int(raw)


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json")
    return body


def _sku_field(body: dict[str, Any]) -> str:
    sku = body.get("sku")
    if not isinstance(sku, str) or not sku.strip() or len(sku) > 32:
        raise InvalidInput(field="sku")
    return sku.strip().upper()


def _quantity_field(body: dict[str, Any]) -> int:
    quantity = body.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(quantity=str(quantity)[:20], max=MAX_QUANTITY)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(quantity=quantity, max=MAX_QUANTITY)
    return quantity


@routes.get("/api/v1/me")
async def me(request: web.Request) -> web.Response:
    caller, platform = caller_of(request), _platform(request)
    user = await platform.catalogue.user(caller.telegram_id)
    balance = await platform.balances.balance(caller.telegram_id)
    return web.json_response(render.me(user, balance, _currency(request)))


@routes.get("/api/v1/categories")
async def categories(request: web.Request) -> web.Response:
    lines = await _platform(request).storefront.categories()
    return web.json_response({"items": [{"name": c.name, "skus": c.skus} for c in lines]})


@routes.get("/api/v1/skus")
async def skus(request: web.Request) -> web.Response:
    caller, platform = caller_of(request), _platform(request)
    offset = _int_query(request, "offset", 0, 0, 1_000_000)
    limit = _int_query(request, "limit", 50, 1, MAX_PAGE)
    category_id = None
    if category := request.query.get("category", "").strip():
        names = {c.name.lower(): c.id for c in await platform.storefront.categories()}
        category_id = names.get(category.lower(), -1)  # an unknown category lists nothing
    search = request.query.get("q", "").strip()[:64] or None
    page = await platform.storefront.skus(
        caller.telegram_id, category_id=category_id, search=search, offset=offset, limit=limit
    )
    return web.json_response(
        {
            "items": [render.sku_line(line) for line in page.lines],
            "total": page.total,
            "offset": offset,
            "limit": limit,
            "currency": _currency(request),
        }
    )


@routes.get("/api/v1/skus/{code}")
async def sku(request: web.Request) -> web.Response:
    code = request.match_info["code"]
    try:
        card = await _platform(request).storefront.card(caller_of(request).telegram_id, code)
    except SkuNotForSale:  # drafts and suspended SKUs are not part of the catalogue
        raise NotFound(kind="sku", ref=code) from None
    return web.json_response(render.sku_card(card, _currency(request)))


@routes.post("/api/v1/quotes")
async def quote(request: web.Request) -> web.Response:
    body = await _json_object(request)
    sku_code, quantity = _sku_field(body), _quantity_field(body)
    view = await _platform(request).quotes.quote(caller_of(request).telegram_id, sku_code, quantity)
    return web.json_response(render.quote(view, _currency(request)), status=201)


def _order_request(body: dict[str, Any]) -> dict[str, Any]:
    """The order asked for, normalised: ``{"quote_id"}`` or ``{"sku", "quantity"}``."""
    if "quote_id" in body:
        quote_id = body["quote_id"]
        if set(body) - {"quote_id"} or not isinstance(quote_id, str) or not 0 < len(quote_id) <= 32:
            raise InvalidInput(field="quote_id")
        return {"quote_id": quote_id}
    return {"sku": _sku_field(body), "quantity": _quantity_field(body)}


@routes.post("/api/v1/orders")
async def create_order(request: web.Request) -> web.Response:
    caller, platform = caller_of(request), _platform(request)
    client_key = request.headers.get("Idempotency-Key", "").strip()
    if not client_key or len(client_key) > 128 or not client_key.isprintable():
        raise ApiError(400, "idempotency_key_required")
    wanted = _order_request(await _json_object(request))
    request_hash = hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()
    key = await platform.api_keys.order_key(caller, client_key, request_hash)
    if "quote_id" in wanted:
        result = await platform.shop.buy(
            caller.telegram_id, wanted["quote_id"], idempotency_key=key
        )
    else:
        result = await platform.shop.buy_now(
            caller.telegram_id, wanted["sku"], wanted["quantity"], idempotency_key=key
        )
    if isinstance(result, Requoted):
        raise ApiError(
            409,
            "quote_requoted",
            reason=result.reason,
            quote=render.quote(result.quote, _currency(request)),
        )
    return web.json_response(
        render.order(result, _currency(request), just_bought=True),
        status=200 if result.replayed else 201,
        headers={"Idempotent-Replayed": "true"} if result.replayed else None,
    )


@routes.get("/api/v1/orders")
async def orders(request: web.Request) -> web.Response:
    offset = _int_query(request, "offset", 0, 0, 10_000_000)
    limit = _int_query(request, "limit", 20, 1, MAX_PAGE)
    items, total = await _platform(request).shop.orders(
        caller_of(request).telegram_id, offset=offset, limit=limit
    )
    return web.json_response(
        {
            "items": [render.order_summary(o) for o in items],
            "total": total,
            "offset": offset,
            "limit": limit,
            "currency": _currency(request),
        }
    )


@routes.get("/api/v1/orders/{order_id}")
async def order(request: web.Request) -> web.Response:
    raw = request.match_info["order_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(kind="order", ref=raw[:20])
    receipt = await _platform(request).shop.order(caller_of(request).telegram_id, int(raw))
    return web.json_response(render.order(receipt, _currency(request)))

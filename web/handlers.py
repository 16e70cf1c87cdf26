"""The endpoints: parse the request → one core use case → render JSON."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

from aiohttp import web

from core.apikeys import MAX_CLIENT_KEY
from core.errors import InvalidAccount, InvalidInput, InvalidQuantity, NotFound, SkuNotForSale
from core.order_callbacks import SIGNATURE_HEADER, CallbackInfo
from core.orders import Requoted
from core.platform import Platform
from core.pricing.quotes import MAX_QUANTITY
from telemetry import metrics
from web import render
from web.auth import caller_of
from web.errors import ApiError

PLATFORM = web.AppKey("platform", Platform)
routes = web.RouteTableDef()
MAX_PAGE = 100
MAX_SKU_CODE = 32
MAX_QUOTE_ID = 32
MAX_ACCOUNT_FIELDS = 5  # a direct SKU asks for at most this many
MAX_FILTER = 64  # ?category= and ?q=
MAX_SKUS_OFFSET = 1_000_000
MAX_ORDERS_OFFSET = 10_000_000
MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns: a larger one cannot exist
_DIGITS = re.compile(r"[0-9]{1,18}")
QUOTE_FIELDS = frozenset({"sku", "quantity"})
ORDER_FIELDS = frozenset({"quote_id", "sku", "quantity", "account", "external_id"})
CALLBACK_FIELDS = frozenset({"url"})


def _platform(request: web.Request) -> Platform:
    return request.app[PLATFORM]


def _currency(request: web.Request) -> str:
    return _platform(request).settings.currency


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    number = _ascii_number(raw)
    if number is None or not low <= number <= high:
        raise InvalidInput(field=name, min=low, max=high)
    return number


def _ascii_number(raw: str) -> int | None:
    """``raw`` as a whole number when it is 1 to 18 ASCII digits (``str.isdigit`` also
    takes '²' and '٣', which ``int`` then refuses or reads differently)."""
    return int(raw) if _DIGITS.fullmatch(raw) else None


def _text(value: str, field: str) -> str:
    """``value`` when it holds no control character (NUL above all: PostgreSQL refuses it,
    SQLite ends the string there) and no lone surrogate (not encodable)."""
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidInput(field=field)
    return value


def _text_query(request: web.Request, name: str, max_length: int) -> str | None:
    """An optional text filter: absent or blank is no filter; too long is refused."""
    raw = _text(request.query.get(name, ""), name).strip()
    if len(raw) > max_length:
        raise InvalidInput(field=name, max_length=max_length)
    return raw or None


async def _json_object(request: web.Request, fields: frozenset[str]) -> dict[str, Any]:
    """The body as a JSON object with no field outside ``fields``. Read as bytes and
    decoded as UTF-8 whatever the Content-Type says (``curl -d`` sends a form type)."""
    raw = await request.read()  # over client_max_size: 413 body_too_large
    try:
        body = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        # ValueError also covers integers of more than 4,300 digits; RecursionError, nesting
        raise ApiError("invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError("invalid_json")
    unknown = sorted(set(body) - fields)
    if unknown:
        raise ApiError("unknown_field", field=unknown[0][:64])
    return body


def _sku_field(body: dict[str, Any]) -> str:
    sku = body.get("sku")
    if not isinstance(sku, str) or not sku.strip() or len(sku) > MAX_SKU_CODE:
        raise InvalidInput(field="sku")
    return _text(sku, "sku").strip().upper()


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
    offset = _int_query(request, "offset", 0, 0, MAX_SKUS_OFFSET)
    limit = _int_query(request, "limit", 50, 1, MAX_PAGE)
    category_id = None
    if category := _text_query(request, "category", MAX_FILTER):
        names = {c.name.lower(): c.id for c in await platform.storefront.categories()}
        category_id = names.get(category.lower(), -1)  # an unknown category lists nothing
    search = _text_query(request, "q", MAX_FILTER)
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
    code = _text(request.match_info["code"], "code")
    if len(code) > MAX_SKU_CODE:
        raise NotFound(kind="sku", ref=code[:MAX_SKU_CODE])
    try:
        card = await _platform(request).storefront.card(caller_of(request).telegram_id, code)
    except SkuNotForSale:  # drafts and suspended SKUs are not part of the catalogue
        raise NotFound(kind="sku", ref=code) from None
    spec = await _platform(request).fulfilments.direct_spec(code)
    return web.json_response(render.sku_card(card, _currency(request), spec))


@routes.post("/api/v1/quotes")
async def quote(request: web.Request) -> web.Response:
    body = await _json_object(request, QUOTE_FIELDS)
    sku_code, quantity = _sku_field(body), _quantity_field(body)
    view = await _platform(request).quotes.quote(caller_of(request).telegram_id, sku_code, quantity)
    return web.json_response(render.quote(view, _currency(request)), status=201)


def _account_field(body: dict[str, Any]) -> dict[str, Any]:
    """A direct top-up's account: ``{"account": {field: value}}``, checked against the SKU's
    fields by the core (``invalid_account``); absent for a SKU of codes."""
    if "account" not in body:
        return {}
    account = body["account"]
    if not isinstance(account, dict) or len(account) > MAX_ACCOUNT_FIELDS:
        raise InvalidAccount(field="account", reason="missing")
    for name, value in account.items():
        if not isinstance(value, str) or len(name) > 32 or len(value) > 64:
            raise InvalidAccount(field=_text(name[:32], "account"), reason="pattern")
        _text(value, "account")
    return {"account": account}


def _order_request(body: dict[str, Any]) -> dict[str, Any]:
    """The order asked for, normalised: ``{"quote_id"}`` or ``{"sku", "quantity"}``, each
    with the ``account`` of a direct top-up when given."""
    account = _account_field(body)
    body = {k: v for k, v in body.items() if k != "account"}
    if "quote_id" in body:
        quote_id = body["quote_id"]
        if set(body) - {"quote_id"} or not isinstance(quote_id, str):
            raise InvalidInput(field="quote_id")  # a quote, or a SKU and quantity: not both
        if not 0 < len(quote_id) <= MAX_QUOTE_ID:
            raise InvalidInput(field="quote_id", max_length=MAX_QUOTE_ID)
        return {"quote_id": _text(quote_id, "quote_id")} | account
    return {"sku": _sku_field(body), "quantity": _quantity_field(body)} | account


@routes.post("/api/v1/orders")
async def create_order(request: web.Request) -> web.Response:
    caller, platform = caller_of(request), _platform(request)
    header_key = request.headers.get("Idempotency-Key", "").strip()
    body = await _json_object(request, ORDER_FIELDS)
    # the shop's own order number is its Idempotency-Key: one mechanism, either way given
    external_id = _external_id(body.pop("external_id", None))
    if external_id is not None and header_key and header_key != external_id:
        raise InvalidInput(field="external_id", differs_from="Idempotency-Key")
    client_key = external_id or header_key
    if not client_key:
        raise ApiError("idempotency_key_required")
    if len(client_key) > MAX_CLIENT_KEY or not client_key.isprintable():
        raise InvalidInput(field="Idempotency-Key", max_length=MAX_CLIENT_KEY)
    wanted = _order_request(body)
    request_hash = hashlib.sha256(json.dumps(wanted, sort_keys=True).encode()).hexdigest()
    key = platform.api_keys.client_key(caller, client_key, request_hash)
    if "quote_id" in wanted:
        result = await platform.shop.buy(
            caller.telegram_id, wanted["quote_id"], client_key=key, account=wanted.get("account")
        )
    else:
        result = await platform.shop.buy_now(
            caller.telegram_id,
            wanted["sku"],
            wanted["quantity"],
            client_key=key,
            account=wanted.get("account"),
        )
    if isinstance(result, Requoted):
        raise ApiError(
            "quote_requoted",
            reason=result.reason,
            quote=render.quote(result.quote, _currency(request)),
        )
    if not result.replayed:
        metrics.order_placed("api", result)
    return web.json_response(
        render.order(result, _currency(request), just_bought=True),
        status=200 if result.replayed else 201,
        headers={"Idempotent-Replayed": "true"} if result.replayed else None,
    )


def _external_id(value: Any) -> str | None:
    """The order's ``external_id`` (absent: None): 1 to 128 printable characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field="external_id", max_length=MAX_CLIENT_KEY)
    text = str(value).strip()
    if len(text) > MAX_CLIENT_KEY or not text.isprintable():
        raise InvalidInput(field="external_id", max_length=MAX_CLIENT_KEY)
    return text


@routes.get("/api/v1/orders")
async def orders(request: web.Request) -> web.Response:
    offset = _int_query(request, "offset", 0, 0, MAX_ORDERS_OFFSET)
    limit = _int_query(request, "limit", 20, 1, MAX_PAGE)
    external_id = None
    if "external_id" in request.query:
        external_id = _external_id(_text(request.query["external_id"], "external_id"))
    items, total = await _platform(request).shop.orders(
        caller_of(request).telegram_id, offset=offset, limit=limit, external_id=external_id
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
    order_id = _ascii_number(raw)
    if order_id is None or order_id > MAX_ROW_ID:
        raise NotFound(kind="order", ref=_text(raw, "order_id")[:20])
    receipt = await _platform(request).shop.order(caller_of(request).telegram_id, order_id)
    return web.json_response(render.order(receipt, _currency(request)))


def _callback(info: CallbackInfo | None) -> dict[str, Any]:
    if info is None:
        return {"url": None}
    return {"url": info.url, "created_at": render.timestamp(info.created_at)}


@routes.get("/api/v1/callback")
async def callback(request: web.Request) -> web.Response:
    info = await _platform(request).order_callbacks.current(caller_of(request).telegram_id)
    return web.json_response(_callback(info))


@routes.put("/api/v1/callback")
async def set_callback(request: web.Request) -> web.Response:
    body = await _json_object(request, CALLBACK_FIELDS)
    url = body.get("url")
    if not isinstance(url, str):
        raise InvalidInput(field="url")
    caller = caller_of(request)
    done = await _platform(request).order_callbacks.set(
        caller.telegram_id, _text(url, "url"), actor=f"api:{caller.key_id}"
    )
    return web.json_response(
        {"url": done.url, "secret": done.secret, "signature_header": SIGNATURE_HEADER}
    )


@routes.delete("/api/v1/callback")
async def clear_callback(request: web.Request) -> web.Response:
    caller = caller_of(request)
    removed = await _platform(request).order_callbacks.clear(
        caller.telegram_id, actor=f"api:{caller.key_id}"
    )
    return web.json_response({"removed": removed})


@routes.get("/api/v1/callbacks/deliveries")
async def callback_deliveries(request: web.Request) -> web.Response:
    limit = _int_query(request, "limit", 20, 1, MAX_PAGE)
    items = await _platform(request).order_callbacks.deliveries(
        caller_of(request).telegram_id, limit=limit
    )
    return web.json_response(
        {
            "items": [
                {
                    "order_id": d.order_id,
                    "event": d.event,
                    "url": d.url,
                    "attempted_at": render.timestamp(d.attempted_at),
                    "status_code": d.status_code,
                    "error": d.error,
                    "next_retry_at": None
                    if d.next_retry_at is None
                    else render.timestamp(d.next_retry_at),
                    "outcome": d.outcome,
                }
                for d in items
            ]
        }
    )

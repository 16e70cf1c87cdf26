"""``/api/v1/upstream/*``: Kameng as a Dujiao-Next upstream (``core/dujiao_server.py``).

Signed by the shop (``Dujiao-Next-*`` headers), not by a Bearer key, so the API's auth
middleware lets these paths through and each handler authenticates here. Every answer uses
the document's envelope (``{"ok": …}``, string amounts) and every refusal one of its error
codes (section 7): a bad request is a 4xx with a code, never a 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from core.apikeys import ApiCaller
from core.dujiao_server import MAX_CALLBACK_URL, MAX_ORDER_NO, PAGE_SIZE_MAX, order_body
from core.errors import (
    InsufficientBalance,
    InvalidInput,
    KamengError,
    NotFound,
    OutOfStock,
    SkuNotForSale,
    UpstreamCallbackRefused,
    UserBanned,
)
from core.platform import Platform
from web.handlers import PLATFORM

log = logging.getLogger("kameng.dujiao")
PREFIX = "/api/v1/upstream"
routes = web.RouteTableDef()
MAX_ID = 2**31 - 1
MAX_QUANTITY = 1000

Signed = Callable[[web.Request, Platform, ApiCaller, bytes], Awaitable[dict[str, Any]]]


class Refused(Exception):
    def __init__(self, status: int, code: str) -> None:
        super().__init__(code)
        self.status, self.code = status, code


def refusal(status: int, code: str) -> web.Response:
    body = {"ok": False, "error_code": code, "error_message": code.replace("_", " ")}
    return web.json_response(body, status=status)


def _business(error: KamengError) -> tuple[int, str]:
    """A core refusal as the document's business error (section 7.2)."""
    match error:
        case InvalidInput(params={"field": "callback_url"}):
            return 400, "invalid_callback_url"
        case NotFound(params={"kind": "order"}):
            return 404, "order_not_found"
        case NotFound() | SkuNotForSale():
            return 400, "sku_unavailable"
        case OutOfStock():
            return 409, "insufficient_stock"
        case InsufficientBalance():
            return 402, "insufficient_balance"
        case UserBanned():
            return 403, "user_disabled"
    return 400, "bad_request"


def signed(handler: Signed) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        platform: Platform = request.app[PLATFORM]
        body = await request.read()
        try:
            caller = await platform.dujiao.authenticate(
                dict(request.headers), request.method, request.path, body
            )
        except UpstreamCallbackRefused as refused:
            code = str(refused.params.get("reason", "invalid_signature"))
            return refusal(403 if code == "user_disabled" else 401, code)
        try:
            return web.json_response(await handler(request, platform, caller, body))
        except Refused as refused:
            return refusal(refused.status, refused.code)
        except KamengError as error:
            return refusal(*_business(error))

    return serve


def _id(raw: str, missing: Refused) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > MAX_ID:
        raise missing
    return int(raw)


def _page(request: web.Request, name: str, default: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= high:
        raise Refused(400, "bad_request")
    return int(raw)


async def _ping(
    _request: web.Request, platform: Platform, caller: ApiCaller, _body: bytes
) -> dict[str, Any]:
    return await platform.dujiao.ping(caller)


async def _categories(
    _request: web.Request, platform: Platform, _caller: ApiCaller, _body: bytes
) -> dict[str, Any]:
    lines = await platform.storefront.categories()
    return {
        "ok": True,
        "categories": [
            {
                "id": c.id,
                "parent_id": 0,
                "slug": f"c{c.id}",
                "name": {"zh-CN": c.name, "en": c.name},
                "icon": "",
                "sort_order": 0,
            }
            for c in lines
        ],
    }


async def _products(
    request: web.Request, platform: Platform, caller: ApiCaller, _body: bytes
) -> dict[str, Any]:
    page = _page(request, "page", 1, 100_000)
    size = _page(request, "page_size", 20, PAGE_SIZE_MAX)
    return await platform.dujiao.products(caller, page, size)


async def _product(
    request: web.Request, platform: Platform, caller: ApiCaller, _body: bytes
) -> dict[str, Any]:
    wanted = _id(request.match_info["id"], Refused(404, "product_not_found"))
    page = 1
    while True:  # a reseller's catalogue is a few hundred lines: read it page by page
        listed = await platform.dujiao.products(caller, page, PAGE_SIZE_MAX)
        for item in listed["items"]:
            if item["id"] == wanted:
                return {"ok": True, "product": item}
        if page * PAGE_SIZE_MAX >= listed["total"]:
            raise Refused(404, "product_not_found")
        page += 1


def _order_request(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise Refused(400, "bad_request") from None
    if not isinstance(data, dict):
        raise Refused(400, "bad_request")
    sku_id, quantity = data.get("sku_id"), data.get("quantity")
    if isinstance(sku_id, str) and sku_id.isascii() and sku_id.isdigit() and len(sku_id) < 10:
        sku_id = int(sku_id)
    if not isinstance(sku_id, int) or isinstance(sku_id, bool) or not 0 < sku_id <= MAX_ID:
        raise Refused(400, "bad_request")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise Refused(400, "bad_request")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Refused(400, "bad_request")
    order_no = data.get("downstream_order_no")
    if order_no is not None and (
        not isinstance(order_no, str)
        or not 0 < len(order_no) <= MAX_ORDER_NO
        or not order_no.isprintable()
    ):
        raise Refused(400, "bad_request")
    form = data.get("manual_form_data")
    if form is not None and (
        not isinstance(form, dict)
        or len(form) > 5
        or not all(isinstance(v, str) and len(v) <= 64 and v.isprintable() for v in form.values())
        or not all(len(k) <= 32 and k.isprintable() for k in form)
    ):
        raise Refused(400, "bad_request")
    url = data.get("callback_url")
    if url is not None and (
        not isinstance(url, str)
        or len(url) > MAX_CALLBACK_URL
        or not url.startswith(("http://", "https://"))
        or not url.isprintable()
    ):
        raise Refused(400, "invalid_callback_url")
    return {
        "sku_id": sku_id,
        "quantity": quantity,
        "order_no": order_no,
        "account": form or None,
        "callback_url": url,
    }


async def _create(
    _request: web.Request, platform: Platform, caller: ApiCaller, body: bytes
) -> dict[str, Any]:
    wanted = _order_request(body)
    placed = await platform.dujiao.place(caller, **wanted)
    answer = order_body(placed.receipt, placed.order_no, platform.settings.currency)
    answer.pop("fulfillment", None)  # section 4.5: the create answer carries no delivery
    answer.pop("items", None)
    return answer


async def _order(
    request: web.Request, platform: Platform, caller: ApiCaller, _body: bytes
) -> dict[str, Any]:
    order_id = _id(request.match_info["id"], Refused(404, "order_not_found"))
    placed = await platform.dujiao.order(caller, order_id)
    return order_body(placed.receipt, placed.order_no, platform.settings.currency)


async def _cancel(
    request: web.Request, platform: Platform, caller: ApiCaller, _body: bytes
) -> dict[str, Any]:
    """A paid order is not cancelled on request: a direct top-up the supplier has not done
    fails by its deadline and is refunded then (section 4.7's ``cancel_not_allowed``)."""
    order_id = _id(request.match_info["id"], Refused(404, "order_not_found"))
    await platform.dujiao.order(caller, order_id)  # order_not_found if not the caller's
    raise Refused(409, "cancel_not_allowed")


routes.post(f"{PREFIX}/ping")(signed(_ping))
routes.get(f"{PREFIX}/categories")(signed(_categories))
routes.get(f"{PREFIX}/products")(signed(_products))
routes.get(f"{PREFIX}/products/{{id}}")(signed(_product))
routes.post(f"{PREFIX}/orders")(signed(_create))
routes.get(f"{PREFIX}/orders/{{id}}")(signed(_order))
routes.post(f"{PREFIX}/orders/{{id}}/cancel")(signed(_cancel))

"""The API's contract: an OpenAPI 3.1 document, written by hand, served at
``GET /api/v1/openapi.json``.

Each operation lists the error codes it can answer with, by status; ``tests/web/
test_openapi.py`` proves every route is here and every code is one ``web/errors.py`` knows
with that status, and runs schemathesis against a live server to prove the rest.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core.apikeys import MAX_CLIENT_KEY
from core.pricing.quotes import MAX_QUANTITY
from web.handlers import (
    MAX_FILTER,
    MAX_ORDERS_OFFSET,
    MAX_PAGE,
    MAX_QUOTE_ID,
    MAX_SKU_CODE,
    MAX_SKUS_OFFSET,
)

OPENAPI_PATH = "/api/v1/openapi.json"

# Text with no control character (Unicode category Cc): what the API accepts in a string.
NO_CONTROLS = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"

Json = dict[str, Any]


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_body(*codes: str) -> Json:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "enum": list(codes)},
                    "message": {"type": "string", "description": "zh-CN or en"},
                    "details": {"type": "object"},
                },
            }
        },
    }


def _page(item: str) -> Json:
    """A page of a list: ``offset``/``limit`` as asked, ``total`` across all pages."""
    return {
        "type": "object",
        "required": ["items", "total", "offset", "limit", "currency"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "total": {"type": "integer", "minimum": 0},
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "currency": _CURRENCY,
        },
    }


def _refusal(description: str, *codes: str, headers: Json | None = None) -> Json:
    return {
        "description": description,
        "headers": {"Content-Language": {"$ref": "#/components/headers/ContentLanguage"}}
        | (headers or {}),
        "content": {"application/json": {"schema": _error_body(*codes)}},
    }


def _refusals(by_status: dict[int, tuple[str, ...]]) -> Json:
    """Responses for these error codes, by status, plus those every call can get."""
    every_call: dict[int, tuple[str, ...]] = {
        401: ("unauthorized",),
        403: ("user_banned", "forbidden"),
        429: ("rate_limited",),
        500: ("internal",),
        503: ("storage_unavailable",),
    }
    merged = {status: tuple(codes) for status, codes in every_call.items()}
    for status, codes in by_status.items():
        merged[status] = merged.get(status, ()) + codes
    responses: Json = {}
    for status in sorted(merged):
        headers = None
        if status == 401:
            headers = {"WWW-Authenticate": {"$ref": "#/components/headers/WWWAuthenticate"}}
        if status in (429, 503):
            headers = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
        responses[str(status)] = _refusal(_STATUS_TEXT[status], *merged[status], headers=headers)
    return responses


_STATUS_TEXT = {
    400: "The request is malformed (see the code and details.field)",
    401: "No valid API key",
    403: "The account may not do this",
    404: "Not found, or not yours",
    409: "Conflicts with an earlier request or a stale quote; nothing was charged",
    413: "The body is over the size limit",
    422: "Refused by the platform's rules; nothing was charged",
    429: "Too many requests; retry after Retry-After seconds",
    500: "Our fault; details.reference is in the server log",
    503: "The database cannot be written right now (disk read-only, full or failing); "
    "nothing was charged: retry the same request after Retry-After seconds",
}


def _ok(description: str, schema: Json, *, headers: Json | None = None) -> Json:
    response: Json = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _page_query(max_offset: int, default_limit: int) -> list[Json]:
    return [
        {
            "name": "offset",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": max_offset, "default": 0},
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PAGE,
                "default": default_limit,
            },
        },
    ]


def _text_query(name: str, description: str) -> Json:
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": "string", "maxLength": MAX_FILTER, "pattern": NO_CONTROLS},
    }


_LANGUAGE = {"$ref": "#/components/parameters/AcceptLanguage"}
_MONEY = {"type": "integer", "description": "minor units (fen) of `currency`"}
_CURRENCY = {"type": "string", "minLength": 3, "maxLength": 3}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_EXTERNAL_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_CLIENT_KEY,
    "pattern": "^[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$",
    "description": "your own order number: the order's Idempotency-Key (the header may be "
    "left out, or must be equal)",
}
_ORDER_STATUS = {
    "type": "string",
    "enum": [
        "paid",
        "partly_refunded",
        "refunded",
        # delivered later (a direct top-up): pending → fulfilling → one of the last three
        "pending",
        "fulfilling",
        "delivered",
        "failed",
        "partially_delivered",
    ],
}
_ACCOUNT = {
    "type": "object",
    "description": "a direct top-up's account: each field the SKU asks for (GET /skus/{code} "
    "lists them), its value a string matching the field's pattern",
    "maxProperties": 5,
    "additionalProperties": {"type": "string", "maxLength": 64},
    "examples": [{"phone": "13800138000"}],
}
_BODY_REFUSALS: dict[int, tuple[str, ...]] = {
    400: ("invalid_json", "unknown_field", "invalid_input", "invalid_quantity"),
    413: ("body_too_large",),
}


def _schemas() -> Json:
    sku_line_properties: Json = {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "price": _MONEY | {"description": "your unit price, minor units"},
        "stock": {"type": ["integer", "null"], "description": "null: cyclic, never runs out"},
        "in_stock": {"type": "boolean"},
    }
    break_schema = {
        "type": "object",
        "required": ["min_quantity", "discount_bps"],
        "properties": {
            "min_quantity": {"type": "integer"},
            "discount_bps": {"type": "integer"},
        },
    }
    order_properties: Json = {
        "id": {"type": "integer"},
        "sku": {"type": "string"},
        "name": {"type": "string"},
        "quantity": {"type": "integer", "minimum": 1},
        "unit_price": _MONEY,
        "total": _MONEY,
        "status": _ORDER_STATUS,
        "created_at": _TIMESTAMP,
    }
    return {
        "Me": {
            "type": "object",
            "required": [
                "telegram_id",
                "username",
                "level",
                "balance",
                "credit_limit",
                "spendable",
                "currency",
            ],
            "properties": {
                "telegram_id": {"type": "integer"},
                "username": {"type": ["string", "null"]},
                "level": {"type": "string"},
                "balance": _MONEY,
                "credit_limit": _MONEY,
                "spendable": _MONEY,
                "currency": _CURRENCY,
            },
        },
        "Categories": {
            "type": "object",
            "required": ["items"],
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name", "skus"],
                        "properties": {
                            "name": {"type": "string"},
                            "skus": {"type": "integer", "minimum": 0},
                        },
                    },
                }
            },
        },
        "SkuLine": {
            "type": "object",
            "required": list(sku_line_properties),
            "properties": sku_line_properties,
        },
        "SkuPage": _page("SkuLine"),
        "SkuCard": {
            "type": "object",
            "required": [
                *sku_line_properties,
                "category",
                "face_value",
                "quantity_breaks",
                "promotion",
                "currency",
                "kind",
                "account_fields",
            ],
            "properties": sku_line_properties
            | {
                "kind": {"type": "string", "enum": ["codes", "direct"]},
                "account_fields": {
                    "type": "array",
                    "description": "a direct SKU's account fields: send each in the order's "
                    "account, its value matching the pattern whole; one not required may be "
                    "left out",
                    "items": {
                        "type": "object",
                        "required": ["name", "pattern", "label_en", "label_zh", "required"],
                        "properties": {
                            "name": {"type": "string"},
                            "pattern": {"type": "string"},
                            "label_en": {"type": "string"},
                            "label_zh": {"type": "string"},
                            "required": {"type": "boolean"},
                            # present only when known: what a value looks like, in words
                            "hint_en": {"type": "string"},
                            "hint_zh": {"type": "string"},
                        },
                    },
                },
                "category": {"type": "string"},
                "face_value": _MONEY,
                "quantity_breaks": {"type": "array", "items": break_schema},
                "promotion": {
                    "oneOf": [
                        {"type": "null"},
                        {
                            "type": "object",
                            "required": ["name", "ends_at"],
                            "properties": {"name": {"type": "string"}, "ends_at": _TIMESTAMP},
                        },
                    ]
                },
                "currency": _CURRENCY,
            },
        },
        "QuoteRequest": {
            "type": "object",
            "required": ["sku", "quantity"],
            "additionalProperties": False,
            "properties": {
                "sku": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": MAX_SKU_CODE,
                    "pattern": NO_CONTROLS,
                    "description": "the SKU's code, any case",
                    "examples": ["STEAM-100"],
                },
                "quantity": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_QUANTITY,
                    "examples": [1],
                },
            },
        },
        "Quote": {
            "type": "object",
            "required": [
                "id",
                "sku",
                "name",
                "quantity",
                "unit_price",
                "total",
                "breakdown",
                "balance",
                "credit_limit",
                "balance_after",
                "shortfall",
                "stock",
                "expires_at",
                "currency",
            ],
            "properties": {
                "id": {"type": "string", "maxLength": MAX_QUOTE_ID},
                "sku": {"type": "string"},
                "name": {"type": "string"},
                "quantity": {"type": "integer", "minimum": 1},
                "unit_price": _MONEY,
                "total": _MONEY,
                "breakdown": {
                    "type": "object",
                    "required": [
                        "base_price",
                        "level_price",
                        "quantity_break",
                        "after_quantity_break",
                        "promotion",
                        "capped_at_supply_price",
                        "unit_price",
                    ],
                    "properties": {
                        "base_price": _MONEY,
                        "level_price": {"type": "boolean"},
                        "quantity_break": {"oneOf": [{"type": "null"}, break_schema]},
                        "after_quantity_break": _MONEY,
                        "promotion": {
                            "oneOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {"name": {"type": "string"}},
                                },
                            ]
                        },
                        "capped_at_supply_price": {"type": "boolean"},
                        "unit_price": _MONEY,
                    },
                },
                "balance": _MONEY,
                "credit_limit": _MONEY,
                "balance_after": _MONEY,
                "shortfall": _MONEY,
                "stock": {"type": ["integer", "null"]},
                "expires_at": _TIMESTAMP,
                "currency": _CURRENCY,
            },
        },
        "OrderRequest": {
            "description": "a quote to buy, or a SKU and quantity to quote and buy at once",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["quote_id"],
                    "additionalProperties": False,
                    "properties": {
                        "quote_id": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": MAX_QUOTE_ID,
                            "pattern": NO_CONTROLS,
                        },
                        "external_id": _EXTERNAL_ID,
                        "account": _ACCOUNT,
                    },
                },
                {
                    "type": "object",
                    "required": ["sku", "quantity"],
                    "additionalProperties": False,
                    "properties": {
                        "sku": {"type": "string", "minLength": 1, "maxLength": MAX_SKU_CODE},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
                        "external_id": _EXTERNAL_ID,
                        "account": _ACCOUNT,
                    },
                },
            ],
        },
        "Callback": {
            "type": "object",
            "required": ["url"],
            "properties": {
                "url": {"type": ["string", "null"]},
                "created_at": _TIMESTAMP,
            },
        },
        "CallbackSet": {
            "type": "object",
            "required": ["url", "secret", "signature_header"],
            "properties": {
                "url": {"type": "string"},
                "secret": {
                    "type": "string",
                    "description": "signs every callback (HMAC-SHA256); shown only this once",
                },
                "signature_header": {"type": "string", "const": "X-Kameng-Signature"},
            },
        },
        "CallbackDelivery": {
            "type": "object",
            "required": [
                "order_id",
                "event",
                "url",
                "attempted_at",
                "status_code",
                "error",
                "next_retry_at",
                "outcome",
            ],
            "properties": {
                "order_id": {"type": "integer"},
                "event": {"type": "string"},
                "url": {"type": "string"},
                "attempted_at": _TIMESTAMP,
                "status_code": {"type": ["integer", "null"]},
                "error": {"type": ["string", "null"]},
                "next_retry_at": {"anyOf": [_TIMESTAMP, {"type": "null"}]},
                "outcome": {"type": "string", "enum": ["delivered", "retrying", "given_up"]},
            },
        },
        "Fulfilment": {
            "description": "an order delivered later (direct top-up): the account, the "
            "deadline, what was delivered or refunded, the proof or the reason, each change",
            "type": "object",
            "required": ["account", "deadline_at", "delivered", "refunded", "events"],
            "properties": {
                "account": {"type": "object", "additionalProperties": {"type": "string"}},
                "deadline_at": _TIMESTAMP,
                "delivered": {"type": "integer", "minimum": 0},
                "refunded": {"type": "integer", "minimum": 0},
                "proof": {"type": "string"},
                "reason": {"type": "string"},
                "events": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["status", "at"],
                        "properties": {
                            "status": _ORDER_STATUS,
                            "note": {"type": "string"},
                            "at": _TIMESTAMP,
                        },
                    },
                },
            },
        },
        "Code": {
            "description": "one code (卡密): its card number, and its password, link or expiry "
            "when the supplier gave them",
            "type": "object",
            "required": ["number"],
            "additionalProperties": False,
            "properties": {
                "number": {"type": "string"},
                "password": {"type": "string"},
                "link": {"type": "string"},
                "expires": {"type": "string"},
            },
        },
        "Order": {
            "type": "object",
            "required": [*order_properties, "codes", "currency"],
            "properties": order_properties
            | {
                "codes": {"type": "array", "items": _ref("Code")},
                "currency": _CURRENCY,
                "balance_after": _MONEY | {"description": "in a purchase's answer only"},
                "replayed": {"type": "boolean", "description": "in a purchase's answer only"},
                "fulfilment": _ref("Fulfilment"),
            },
        },
        "OrderSummary": {
            "type": "object",
            "required": list(order_properties),
            "properties": order_properties,
        },
        "OrderPage": _page("OrderSummary"),
    }


def _paths() -> Json:
    return {
        OPENAPI_PATH: {
            "get": {
                "operationId": "openapi",
                "summary": "This document (no key needed)",
                "security": [],
                "responses": {
                    "200": _ok("The OpenAPI 3.1 document", {"type": "object"}),
                },
            }
        },
        "/api/v1/me": {
            "get": {
                "operationId": "me",
                "summary": "Your balance, credit limit, spendable, level and currency",
                "parameters": [_LANGUAGE],
                "responses": {"200": _ok("You", _ref("Me"))} | _refusals({}),
            }
        },
        "/api/v1/categories": {
            "get": {
                "operationId": "listCategories",
                "summary": "Categories with their number of SKUs",
                "parameters": [_LANGUAGE],
                "responses": {"200": _ok("Categories", _ref("Categories"))} | _refusals({}),
            }
        },
        "/api/v1/skus": {
            "get": {
                "operationId": "listSkus",
                "summary": "Active SKUs with your price and stock",
                "parameters": [
                    _LANGUAGE,
                    _text_query("category", "a category's name, any case; blank: all"),
                    _text_query("q", "text in the SKU's name or code, any case; blank: all"),
                    *_page_query(MAX_SKUS_OFFSET, 50),
                ],
                "responses": {
                    "200": _ok(
                        "A page of SKUs",
                        _ref("SkuPage"),
                    )
                    | {
                        "links": {
                            "FirstSku": {
                                "operationId": "getSku",
                                "parameters": {"code": "$response.body#/items/0/code"},
                            },
                            "QuoteTheFirstSku": {
                                "operationId": "createQuote",
                                "requestBody": {
                                    "sku": "$response.body#/items/0/code",
                                    "quantity": 1,
                                },
                            },
                        }
                    }
                }
                | _refusals({400: ("invalid_input",)}),
            }
        },
        "/api/v1/skus/{code}": {
            "get": {
                "operationId": "getSku",
                "summary": "One SKU: face value, your price, stock, quantity breaks, promotion",
                "parameters": [
                    _LANGUAGE,
                    {
                        "name": "code",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "examples": ["STEAM-100"]},
                    },
                ],
                "responses": {"200": _ok("The SKU", _ref("SkuCard"))}
                | _refusals({400: ("invalid_input",), 404: ("not_found",)}),
            }
        },
        "/api/v1/quotes": {
            "post": {
                "operationId": "createQuote",
                "summary": "A priced offer to buy, valid until expires_at",
                "parameters": [_LANGUAGE],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("QuoteRequest")}},
                },
                "responses": {
                    "201": _ok("The quote", _ref("Quote"))
                    | {
                        "links": {
                            "BuyTheQuote": {
                                "operationId": "createOrder",
                                "requestBody": {"quote_id": "$response.body#/id"},
                            }
                        }
                    }
                }
                | _refusals(
                    _BODY_REFUSALS
                    | {
                        403: ("not_registered",),
                        404: ("not_found",),
                        422: ("sku_not_for_sale",),
                    }
                ),
            }
        },
        "/api/v1/orders": {
            "post": {
                "operationId": "createOrder",
                "summary": "Buy a quote, or a SKU and quantity: the order with its codes",
                "description": (
                    "The same Idempotency-Key and body again returns the same order (200, "
                    "Idempotent-Replayed: true) and never charges twice; the same key with "
                    "another body is 409 idempotency_conflict. A quote is bought once: a "
                    "second order for it under another key is 409 quote_used, with "
                    "details.order_id. A refused order charges nothing."
                ),
                "parameters": [
                    _LANGUAGE,
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "your own id for this order (printable characters); "
                        "required unless the body has external_id",
                        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_CLIENT_KEY},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("OrderRequest")}},
                },
                "responses": {
                    "200": _ok(
                        "The same order again (a replay: nothing charged)",
                        _ref("Order"),
                        headers={
                            "Idempotent-Replayed": {
                                "required": True,
                                "schema": {"type": "string", "const": "true"},
                            }
                        },
                    ),
                    "201": _ok("Bought: the order and its codes", _ref("Order"))
                    | {
                        "links": {
                            "TheOrder": {
                                "operationId": "getOrder",
                                "parameters": {"order_id": "$response.body#/id"},
                            }
                        }
                    },
                }
                | _refusals(
                    {
                        400: (*_BODY_REFUSALS[400], "idempotency_key_required", "invalid_account"),
                        403: ("not_registered",),
                        404: ("not_found",),
                        409: ("idempotency_conflict", "quote_requoted", "quote_used"),
                        413: ("body_too_large",),
                        422: (
                            "insufficient_balance",
                            "credit_blocked",
                            "out_of_stock",
                            "sku_not_for_sale",
                        ),
                    }
                ),
            },
            "get": {
                "operationId": "listOrders",
                "summary": "Your orders, newest first (no codes)",
                "parameters": [
                    _LANGUAGE,
                    *_page_query(MAX_ORDERS_OFFSET, 20),
                    {
                        "name": "external_id",
                        "in": "query",
                        "description": "only the order with this external_id (your number)",
                        "schema": _EXTERNAL_ID,
                    },
                ],
                "responses": {"200": _ok("A page of orders", _ref("OrderPage"))}
                | _refusals({400: ("invalid_input",)}),
            },
        },
        "/api/v1/callback": {
            "get": {
                "operationId": "getCallback",
                "summary": "Where your order callbacks go (url null: none)",
                "parameters": [_LANGUAGE],
                "responses": {"200": _ok("The callback", _ref("Callback"))} | _refusals({}),
            },
            "put": {
                "operationId": "setCallback",
                "summary": "Set the URL every order state change is POSTed to; a new secret",
                "description": (
                    "Each callback is a JSON POST signed in the header X-Kameng-Signature: "
                    "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.' + body under the secret>. "
                    "Private and loopback addresses are refused (422 callback_url_refused)."
                ),
                "parameters": [_LANGUAGE],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["url"],
                                "additionalProperties": False,
                                "properties": {
                                    "url": {"type": "string", "maxLength": 500},
                                },
                            }
                        }
                    },
                },
                "responses": {"200": _ok("Set: the secret, shown once", _ref("CallbackSet"))}
                | _refusals(
                    _BODY_REFUSALS | {409: ("invalid_state",), 422: ("callback_url_refused",)}
                ),
            },
            "delete": {
                "operationId": "clearCallback",
                "summary": "Stop sending callbacks",
                "parameters": [_LANGUAGE],
                "responses": {
                    "200": _ok(
                        "Whether there was one",
                        {
                            "type": "object",
                            "required": ["removed"],
                            "properties": {"removed": {"type": "boolean"}},
                        },
                    )
                }
                | _refusals({}),
            },
        },
        "/api/v1/callbacks/deliveries": {
            "get": {
                "operationId": "listCallbackDeliveries",
                "summary": "Your latest callback attempts, newest first",
                "parameters": [_LANGUAGE, _page_query(MAX_ORDERS_OFFSET, 20)[1]],
                "responses": {
                    "200": _ok(
                        "The attempts",
                        {
                            "type": "object",
                            "required": ["items"],
                            "properties": {
                                "items": {"type": "array", "items": _ref("CallbackDelivery")}
                            },
                        },
                    )
                }
                | _refusals({400: ("invalid_input",)}),
            }
        },
        "/api/v1/orders/{order_id}": {
            "get": {
                "operationId": "getOrder",
                "summary": "One of your orders with its codes",
                "parameters": [
                    _LANGUAGE,
                    {
                        "name": "order_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 0},
                    },
                ],
                "responses": {"200": _ok("The order", _ref("Order"))}
                | _refusals({400: ("invalid_input",), 404: ("not_found",)}),
            }
        },
    }


def document() -> Json:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kameng reseller API",
            "version": "1",
            "description": (
                "Browse, quote and buy codes from your prepaid balance. Amounts are integers "
                "in minor units (fen) beside `currency`. Errors are "
                '`{"error": {"code", "message", "details"}}`, the message in zh-CN (default) '
                "or en by Accept-Language. An unknown path is 404 route_not_found, a method a "
                "path does not take is 405 method_not_allowed (with Allow)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a key from `kameng api key issue` or the bot's /apikey",
                }
            },
            "parameters": {
                "AcceptLanguage": {
                    "name": "Accept-Language",
                    "in": "header",
                    "description": "zh-CN (default) or en, q-values honoured",
                    "schema": {"type": "string"},
                }
            },
            "headers": {
                "ContentLanguage": {
                    "required": True,
                    "schema": {"type": "string", "enum": ["zh-CN", "en"]},
                },
                "RetryAfter": {
                    "required": True,
                    "description": "whole seconds",
                    "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"},
                },
                "WWWAuthenticate": {
                    "required": True,
                    "schema": {"type": "string", "const": "Bearer"},
                },
            },
            "responses": {
                "RouteNotFound": _refusal("No such endpoint", "route_not_found"),
                "MethodNotAllowed": _refusal(
                    "The path does not take this method",
                    "method_not_allowed",
                    headers={"Allow": {"required": True, "schema": {"type": "string"}}},
                ),
            },
            "schemas": _schemas(),
        },
    }


_DOCUMENT = document()


async def serve_document(request: web.Request) -> web.Response:
    """``GET /api/v1/openapi.json``, open to anyone (the auth middleware lets it through)."""
    return web.json_response(_DOCUMENT)

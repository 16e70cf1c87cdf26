"""Dujiao-Next's site-to-site upstream API (``/api/v1/upstream/*``), protocol 1.0.

As documented in Dujiao-Next's "Site Integration Open API" (dujiao-next/document,
``docs/en/api/integration-open-api.md``, sections 2, 4, 5):

- every request carries ``Dujiao-Next-Api-Key``, ``Dujiao-Next-Timestamp`` (Unix seconds)
  and ``Dujiao-Next-Signature`` = lowercase hex HMAC-SHA256 under the API secret of
  ``"{METHOD}\\n{PATH}\\n{TIMESTAMP}\\n{BODY_MD5}"``, PATH without domain or query, BODY_MD5
  the lowercase hex MD5 of the raw body (of ``b""`` when there is none);
- a timestamp more than 60 seconds from the receiver's clock is refused;
- ``downstream_order_no`` is the idempotency key (same key + same number = one order);
- callbacks (upstream → us) are signed the same way with the same key and secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from core.clock import Clock
from core.decisions.account_fields import search_regex_pattern
from core.decisions.fulfilment import AccountField
from core.errors import UpstreamCallbackRefused, UpstreamError
from core.money import parse_amount
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

PROTOCOL = "dujiao"
PREFIX = "/api/v1/upstream"
CALLBACK_PATH = "/api/v1/upstream/callback"
REPLAY_WINDOW_SECONDS = 60
KEY_HEADER = "Dujiao-Next-Api-Key"
TIMESTAMP_HEADER = "Dujiao-Next-Timestamp"
SIGNATURE_HEADER = "Dujiao-Next-Signature"
PAGE_SIZE = 100

# An order's status, as Dujiao-Next's own source sets it (``internal/constants``: an order
# is the sum of its child orders, ``calcParentStatus``): ``pending_payment``, ``paid``,
# ``fulfilling`` and ``partially_delivered`` (some children delivered, the others still
# paid or fulfilling; it moves on to ``delivered``) have not ended. It ends ``delivered`` /
# ``completed``, ``canceled`` / ``refunded`` (every child), or ``partially_refunded`` (some
# children refunded, the rest delivered): a partial delivery, the rest given back.
_DELIVERED = frozenset({"delivered", "completed"})
_FAILED = frozenset({"canceled", "refunded"})
_PARTIAL = frozenset({"partially_refunded"})


def sign(secret: str, method: str, path: str, timestamp: int | str, body: bytes) -> str:
    """The documented signature (section 2.2)."""
    body_md5 = hashlib.md5(body).hexdigest()
    message = f"{method.upper()}\n{path}\n{timestamp}\n{body_md5}"
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    key: str, secret: str, method: str, path: str, now: int, body: bytes
) -> dict[str, str]:
    return {
        KEY_HEADER: key,
        TIMESTAMP_HEADER: str(now),
        SIGNATURE_HEADER: sign(secret, method, path, now, body),
        "Content-Type": "application/json",
    }


def check_signature(
    key: str,
    secret: str,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    now: int,
) -> None:
    """Section 2.4: the key is ours, the timestamp within ±60 s, the signature right;
    else ``UpstreamCallbackRefused`` with the documented error code as ``reason``."""
    lower = {k.lower(): v for k, v in headers.items()}
    given_key = lower.get(KEY_HEADER.lower())
    stamp = lower.get(TIMESTAMP_HEADER.lower())
    signature = lower.get(SIGNATURE_HEADER.lower())
    if not given_key or not stamp or not signature:
        raise UpstreamCallbackRefused(reason="missing_auth_headers")
    if not hmac.compare_digest(given_key, key):
        raise UpstreamCallbackRefused(reason="invalid_api_key")
    if not stamp.isascii() or not stamp.isdigit():
        raise UpstreamCallbackRefused(reason="invalid_timestamp")
    if abs(now - int(stamp)) > REPLAY_WINDOW_SECONDS:
        raise UpstreamCallbackRefused(reason="timestamp_expired")
    if not hmac.compare_digest(signature.lower(), sign(secret, method, path, stamp, body)):
        raise UpstreamCallbackRefused(reason="invalid_signature")


def _text(value: Any) -> str:
    if isinstance(value, dict):
        for lang in ("zh-CN", "en"):
            if value.get(lang):
                return str(value[lang])
        return next((str(v) for v in value.values() if v), "")
    return "" if value is None else str(value)


def _fen(value: Any) -> int:
    try:
        return parse_amount(str(value))
    except ValueError:
        raise UpstreamError(upstream=PROTOCOL, reason="unreadable amount") from None


def _locale(label: Any, language: str) -> str | None:
    """A label in ``language`` (``en``/``zh``): Dujiao-Next's labels are locale maps
    (``{"zh-CN": …, "en-US": …}``); a plain string counts as Chinese if it is not ASCII."""
    if isinstance(label, str):
        return label if label.isascii() == (language == "en") else None
    if not isinstance(label, dict):
        return None
    exact = ("en", "en-US") if language == "en" else ("zh-CN", "zh", "zh-Hans")
    found = [label.get(k) for k in exact] + [
        v for k, v in label.items() if str(k).lower().startswith(language)
    ]
    return next((str(v) for v in found if isinstance(v, str) and v.strip()), None)


#: a form field's ``type`` → the pattern it implies, when it gives no ``regex`` (Dujiao-Next
#: checks a phone's and an email's shape itself)
_TYPE_PATTERNS = {
    "phone": r"\+?[0-9\-()\s]{6,20}",
    "email": r"[^@\s]+@[^@\s]+\.[^@\s]+",
    "number": r"-?[0-9]+(?:\.[0-9]+)?",
}


def _type_pattern(field: dict[str, Any]) -> str | None:
    options = field.get("options")
    if field.get("type") in ("select", "radio") and isinstance(options, list) and options:
        return "(?:" + "|".join(re.escape(str(o)) for o in options) + ")"
    return _TYPE_PATTERNS.get(str(field.get("type")))


def _form_fields(schema: Any) -> tuple[AccountField, ...]:
    """``manual_form_schema.fields``: each ``key`` with its ``label``, its ``placeholder``
    (a locale map like the label: what to type, e.g. "5–12 digits", kept as the hint), and
    its ``regex`` (matched anywhere in the value there) or what its ``type`` implies;
    optional only when it says ``required: false`` (asking for more than needed is safe,
    less is not)."""
    fields = schema.get("fields") if isinstance(schema, dict) else None
    if not isinstance(fields, list):
        return ()
    out = []
    for field in fields:
        name = (field.get("key") or field.get("name")) if isinstance(field, dict) else None
        if not name:
            continue
        regex = field.get("regex") if isinstance(field.get("regex"), str) else None
        pattern = search_regex_pattern(regex) or _type_pattern(field)
        label = field.get("label")
        en, zh = _locale(label, "en"), _locale(label, "zh")
        required = field.get("required") is not False
        hint = field.get("placeholder")
        hint_en, hint_zh = _locale(hint, "en"), _locale(hint, "zh")
        out.append(upstream_field(PROTOCOL, str(name), en, zh, pattern, required, hint_en, hint_zh))
    return tuple(out)


def products_of(
    item: dict[str, Any], categories: Mapping[str, str] | None = None
) -> list[UpstreamProduct]:
    """One Dujiao-Next product (section 4.3) → one of ours per SKU (orders name SKU ids).
    ``categories``: the upstream's category names by id (section 4.2); a product names only
    its ``category_id``."""
    title = _text(item.get("title"))
    category = (categories or {}).get(str(item.get("category_id")))
    manual = item.get("fulfillment_type") == "manual"
    out = []
    skus = item.get("skus") or []
    for sku in skus:
        spec = sku.get("spec_values") or {}
        name = title if not spec else f"{title} {' '.join(str(v) for v in spec.values())}"
        quantity = int(sku.get("stock_quantity", 0))
        original = sku.get("original_price")
        out.append(
            UpstreamProduct(
                id=str(sku["id"]),
                name=name.strip()[:128] or f"#{sku['id']}",
                cost=_fen(sku["price_amount"]),
                face_value=_fen(original) if original else None,
                stock=None if quantity < 0 else quantity,
                selling=bool(item.get("is_active", True)) and bool(sku.get("is_active", True)),
                kind=ProductKind.DIRECT if manual else ProductKind.CODES,
                account_fields=_form_fields(item.get("manual_form_schema")) if manual else (),
                category=category,
            )
        )
    return out


def _codes(fulfillment: Any) -> tuple[str, ...]:
    if not isinstance(fulfillment, dict):
        return ()
    payload = str(fulfillment.get("payload") or "")
    return tuple(line.strip() for line in payload.splitlines() if line.strip())


def order_of(ref: str, body: dict[str, Any]) -> UpstreamOrder:
    status = str(body.get("status", ""))
    upstream_id = None if body.get("order_id") is None else str(body["order_id"])
    codes = _codes(body.get("fulfillment"))
    cost = _fen(body["amount"]) if body.get("amount") else None  # the order's amount, taken
    if body.get("ok") is False or status in _FAILED:
        return UpstreamOrder(
            ref, OrderState.FAILED, upstream_id, error=str(body.get("error_code") or status)
        )
    if status in _DELIVERED:
        return UpstreamOrder(ref, OrderState.DELIVERED, upstream_id, codes, len(codes), cost)
    if status in _PARTIAL:
        # ``amount`` is the whole order's; protocol 1.0 does not say what a partially
        # refunded order gave back, so its cost is not known (we keep the synced price)
        return UpstreamOrder(ref, OrderState.PARTIAL, upstream_id, codes, len(codes))
    # not ended (``partially_delivered`` among them): the codes so far are not taken now —
    # the final answer lists them all, so none is delivered twice; asked again till then
    return UpstreamOrder(ref, OrderState.PROCESSING, upstream_id, delivered=len(codes), cost=cost)


class DujiaoAdapter:
    protocol = PROTOCOL

    def __init__(
        self,
        credentials: Credentials,
        http: HttpClient,
        clock: Clock,
        *,
        callback_url: str | None = None,
        callback_path: str = CALLBACK_PATH,
    ) -> None:
        self._creds = credentials
        self._http = http
        self._clock = clock
        self._callback_url = callback_url
        self._callback_path = callback_path
        base = credentials.base_url.rstrip("/")
        self._base = base if base.endswith(PREFIX) else base + PREFIX
        self._path_prefix = urlsplit(self._base).path

    async def _call(
        self, method: str, path: str, payload: dict[str, Any] | None = None, query: str = ""
    ) -> tuple[int, dict[str, Any]]:
        body = b"" if payload is None else json.dumps(payload, separators=(",", ":")).encode()
        full_path = self._path_prefix + path
        now = int(self._clock.now().timestamp())
        headers = signed_headers(self._creds.key, self._creds.secret, method, full_path, now, body)
        url = self._base + path + (f"?{query}" if query else "")
        answer = await self._http.request(method, url, headers=headers, body=body)
        if answer.status >= 500:
            raise UpstreamError(upstream=PROTOCOL, reason=f"http {answer.status}")
        try:
            data = json.loads(answer.body)
        except ValueError:
            raise UpstreamError(upstream=PROTOCOL, reason="unreadable answer") from None
        if not isinstance(data, dict):
            raise UpstreamError(upstream=PROTOCOL, reason="unreadable answer")
        if answer.status in (401, 403):
            raise UpstreamError(upstream=PROTOCOL, reason=str(data.get("error_code", "refused")))
        return answer.status, data

    async def categories(self) -> dict[str, str]:
        """The upstream's category names by id (section 4.2), to shelve its products by
        ``kameng upstream category``. An upstream that will not list them (refused, not
        found) costs nothing: its products go to the default category."""
        status, data = await self._call("GET", "/categories")
        if status != 200 or not data.get("ok"):
            return {}
        return {
            str(c["id"]): _text(c.get("name"))
            for c in data.get("categories") or []
            if isinstance(c, dict) and c.get("id") is not None and _text(c.get("name"))
        }

    async def products(self) -> list[UpstreamProduct]:
        out: list[UpstreamProduct] = []
        categories = await self.categories()
        page = 1
        while True:
            status, data = await self._call(
                "GET", "/products", query=f"page={page}&page_size={PAGE_SIZE}"
            )
            if status != 200 or not data.get("ok"):
                raise UpstreamError(upstream=PROTOCOL, reason=str(data.get("error_code", status)))
            items = data.get("items") or []
            for item in items:
                out.extend(products_of(item, categories))
            if not items or page * PAGE_SIZE >= int(data.get("total", 0)):
                return out
            page += 1

    async def balance(self) -> int | None:
        status, data = await self._call("POST", "/ping")
        if status != 200 or not data.get("ok"):
            raise UpstreamError(upstream=PROTOCOL, reason=str(data.get("error_code", status)))
        return _fen(data["balance"]) if data.get("balance") is not None else None

    async def place_order(
        self, ref: str, product_id: str, quantity: int, account: AccountRef | None = None
    ) -> UpstreamOrder:
        payload: dict[str, Any] = {
            "sku_id": int(product_id),
            "quantity": quantity,
            "downstream_order_no": ref,
        }
        if account is not None and account.fields:
            payload["manual_form_data"] = dict(account.fields)
        if self._callback_url:
            payload["callback_url"] = self._callback_url
        status, data = await self._call("POST", "/orders", payload)
        if status >= 400:  # refused before taking the order: nothing was charged
            return UpstreamOrder(ref, OrderState.FAILED, error=str(data.get("error_code", status)))
        order = order_of(ref, data)
        if order.state is OrderState.DELIVERED and not order.codes and order.upstream_id:
            return await self.query_order(ref, order.upstream_id)  # the codes are on the order
        return order

    async def query_order(self, ref: str, upstream_id: str | None = None) -> UpstreamOrder:
        if upstream_id is None or not upstream_id.isdigit():
            raise UpstreamError(upstream=PROTOCOL, reason="order id unknown")
        status, data = await self._call("GET", f"/orders/{upstream_id}")
        if status == 404:
            return UpstreamOrder(ref, OrderState.FAILED, upstream_id, error="order_not_found")
        return order_of(ref, data)

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> UpstreamOrder:
        now = int(self._clock.now().timestamp())
        check_signature(
            self._creds.key,
            self._creds.secret,
            headers,
            "POST",
            self._callback_path,
            body,
            now,
        )
        try:
            data = json.loads(body)
            ref = str(data["downstream_order_no"])
        except (ValueError, KeyError, TypeError):
            raise UpstreamCallbackRefused(reason="bad_request") from None
        return order_of(ref, data)

"""Kameng answering as a Dujiao-Next upstream (``/api/v1/upstream/*``, protocol 1.0), so a
Dujiao-Next shop adds Kameng as a "site connection" without writing code.

The protocol is the one ``core/upstreams/dujiao.py`` speaks as a client (dujiao-next/document,
``docs/en/api/integration-open-api.md``): the shop signs each request with
``Dujiao-Next-Api-Key`` (here: the reseller's API key id), ``Dujiao-Next-Timestamp`` and
``Dujiao-Next-Signature`` = HMAC-SHA256 under the secret of
``METHOD\\nPATH\\nTIMESTAMP\\nmd5(body)``, ±60 s; the same ``check_signature`` checks it.

Nothing here is a second sale: products are the storefront's lines at the key owner's
prices, an order is ``Shop.buy_now`` with the shop's ``downstream_order_no`` as the API
idempotency key (``api_keys.client_key``), an order's state is ``Shop.order``. A state change
of an order delivered later (``core.fulfilment.change``) enqueues a ``dujiao_callback``
outbox row in its transaction when the shop gave a ``callback_url`` (kept with the order in
the sale's own transaction); the one HTTP callback sender (``core/http_callbacks.py``) claims
those rows and asks ``Dujiao.request`` for each: the body built from the order as it is then
(codes are decrypted only to be sent, never stored in the outbox), signed as the document
says. Posting, the delivery log and the retry schedule are the sender's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, fulfilment, outbox
from core.apikeys import ApiCaller, ApiKeys
from core.balances import Balances
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.crypto import CodeCipher
from core.db import Database
from core.decisions.account_fields import upstream_fields
from core.decisions.callbacks import accepted_dujiao
from core.decisions.fulfilment import AccountField, fields_from_json
from core.errors import (
    CallbackUrlRefused,
    InvalidInput,
    InvalidState,
    NotFound,
    UpstreamCallbackRefused,
)
from core.http_callbacks import Gone, Request, check_url
from core.models import (
    ApiKey,
    DirectSku,
    DujiaoAccess,
    DujiaoOrder,
    OrderStatus,
    Sku,
    UpstreamSku,
    User,
    UserStatus,
)
from core.money import format_amount
from core.orders import Receipt, Requoted, Shop
from core.storefront import Storefront
from core.upstreams.dujiao import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    check_signature,
    signed_headers,
)

log = logging.getLogger("kameng.dujiao")

PROTOCOL_VERSION = "1.0"
CALLBACK = "dujiao_callback"  # outbox kind
MAX_ORDER_NO = 100
MAX_CALLBACK_URL = 512
PAGE_SIZE_MAX = 100

# Kameng's order states → the document's (section 6); an order of codes is delivered at once.
# Dujiao-Next ends a part delivery ``partially_refunded`` (some child orders delivered, the
# rest refunded); its ``partially_delivered`` is an in-between status (the rest still
# coming) that a client asks about again — for an order we ended part-delivered, it would
# ask until its deadline and then fail an order that had its codes. Ours is in between only
# while an upstream's SKU is still being bought for the units our stock did not give
# (``order_body``).
STATUS = {
    OrderStatus.PAID: "delivered",
    OrderStatus.PARTLY_REFUNDED: "partially_refunded",  # codes refunded after the sale
    OrderStatus.REFUNDED: "refunded",  # every code refunded after the sale
    OrderStatus.PENDING: "paid",
    OrderStatus.FULFILLING: "fulfilling",
    OrderStatus.DELIVERED: "delivered",
    OrderStatus.FAILED: "canceled",
    OrderStatus.PARTIALLY_DELIVERED: "partially_refunded",  # ended: the rest refunded
}
IN_BETWEEN = "partially_delivered"  # some codes handed over, the rest still coming
DELIVERED_SOME = ("delivered", "partially_refunded", IN_BETWEEN)  # with ``fulfillment``


@dataclass(frozen=True)
class DujiaoCredentials:
    """What a Dujiao-Next shop enters as the connection's API key and secret (shown once)."""

    key: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class DujiaoCaller:
    caller: ApiCaller
    secret: str = field(repr=False)


@dataclass(frozen=True)
class PlacedOrder:
    receipt: Receipt
    order_no: str


def _direct_fields(own: str | None, upstream: str | None) -> tuple[AccountField, ...] | None:
    if own is not None:
        return fields_from_json(own)
    return upstream_fields(upstream) if upstream is not None else None


class Dujiao:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cipher: CodeCipher,
        api_keys: ApiKeys,
        storefront: Storefront,
        shop: Shop,
        balances: Balances,
        *,
        site_name: str,
        currency: str,
        allow_private: bool = False,
    ) -> None:
        self._db, self._clock, self._cipher = db, clock, cipher
        self._api_keys, self._storefront, self._shop = api_keys, storefront, shop
        self._balances = balances
        self.site_name, self.currency = site_name, currency
        self._allow_private = allow_private

    # the reseller's switch ------------------------------------------------------------

    async def enable(
        self, telegram_id: int, *, actor: str, first_for: int | None = None
    ) -> DujiaoCredentials:
        """A new secret for the reseller's active API key (a previous one stops working).

        ``first_for`` (the key id a button showed) makes it a first enabling only: if that
        key is no longer the active one, or is enabled already (a double tap), nothing
        changes and ``InvalidState`` is raised."""
        secret = secrets.token_hex(24)
        now = self._clock.now()
        async with self._db.transaction() as session:
            key = await _active_key(session, telegram_id)
            access = await session.get(DujiaoAccess, key.id)
            if first_for is not None and (key.id != first_for or access is not None):
                raise InvalidState(subject="dujiao", reason="enabled meanwhile")
            if access is None:
                session.add(
                    DujiaoAccess(
                        api_key_id=key.id, secret=self._cipher.encrypt(secret), created_at=now
                    )
                )
            else:
                access.secret, access.created_at = self._cipher.encrypt(secret), now
            await audit.append(
                session,
                action="dujiao_enable",
                actor=actor,
                subject=f"user:{telegram_id}",
                payload={"key_id": key.id},
                now=now,
            )
        return DujiaoCredentials(str(key.id), secret)

    async def disable(self, telegram_id: int, *, actor: str) -> bool:
        async with self._db.transaction() as session:
            key = await _active_key(session, telegram_id)
            access = await session.get(DujiaoAccess, key.id)
            if access is None:
                return False
            await session.delete(access)
            await audit.append(
                session,
                action="dujiao_disable",
                actor=actor,
                subject=f"user:{telegram_id}",
                payload={"key_id": key.id},
                now=self._clock.now(),
            )
            return True

    async def enabled(self, telegram_id: int) -> str | None:
        """The protocol key (the API key's id) when enabled on the active key."""
        async with self._db.reading() as session:
            try:
                key = await _active_key(session, telegram_id)
            except InvalidState:
                return None
            return str(key.id) if await session.get(DujiaoAccess, key.id) else None

    # requests -------------------------------------------------------------------------

    async def authenticate(
        self, headers: Mapping[str, str], method: str, path: str, body: bytes
    ) -> ApiCaller:
        """The reseller behind a signed request, or ``UpstreamCallbackRefused`` with the
        document's error code (section 7.1) as ``reason``."""
        lower = {k.lower(): v for k, v in headers.items()}
        key = lower.get(KEY_HEADER.lower(), "")
        if not key or not lower.get(TIMESTAMP_HEADER.lower()):
            raise UpstreamCallbackRefused(reason="missing_auth_headers")
        if not lower.get(SIGNATURE_HEADER.lower()):
            raise UpstreamCallbackRefused(reason="missing_auth_headers")
        found = await self._caller(key)
        if found is None:
            raise UpstreamCallbackRefused(reason="invalid_api_key")
        now = int(self._clock.now().timestamp())
        check_signature(key, found.secret, headers, method, path, body, now)
        if found.caller.banned:
            raise UpstreamCallbackRefused(reason="user_disabled")
        if not found.caller.reseller:
            raise UpstreamCallbackRefused(reason="invalid_api_key")
        return found.caller

    async def _caller(self, key: str) -> DujiaoCaller | None:
        if not key.isascii() or not key.isdigit() or len(key) > 9:
            return None
        async with self._db.reading() as session:
            row = (
                await session.execute(
                    select(DujiaoAccess.secret, ApiKey.id, User)
                    .join(ApiKey, ApiKey.id == DujiaoAccess.api_key_id)
                    .join(User, User.id == ApiKey.user_id)
                    .where(DujiaoAccess.api_key_id == int(key), ApiKey.revoked_at.is_(None))
                )
            ).first()
        if row is None:
            return None
        secret, key_id, user = row
        caller = ApiCaller(
            key_id, user.id, user.telegram_id, user.status == UserStatus.BANNED, user.is_reseller
        )
        return DujiaoCaller(caller, self._cipher.decrypt(secret))

    async def ping(self, caller: ApiCaller) -> dict[str, Any]:
        balance = await self._balances.balance(caller.telegram_id)
        return {
            "ok": True,
            "site_name": self.site_name,
            "protocol_version": PROTOCOL_VERSION,
            "user_id": caller.user_id,
            "balance": format_amount(balance.spendable),
            "currency": self.currency,
            "member_level": None,
        }

    async def products(self, caller: ApiCaller, page: int, page_size: int) -> dict[str, Any]:
        """Section 4.3: one product per SKU (its one SKU is itself), the caller's price."""
        listed = await self._storefront.skus(
            caller.telegram_id, offset=(page - 1) * page_size, limit=page_size
        )
        codes = [line.code for line in listed.lines]
        async with self._db.reading() as session:
            rows = await session.execute(
                select(
                    Sku.code,
                    Sku.id,
                    Sku.face_value,
                    Sku.category_id,
                    DirectSku.fields,
                    UpstreamSku.account_fields,
                )
                .outerjoin(DirectSku, DirectSku.sku_id == Sku.id)
                .outerjoin(
                    UpstreamSku, and_(UpstreamSku.sku_id == Sku.id, UpstreamSku.kind == "direct")
                )
                .where(Sku.code.in_(codes))
            )
            # a direct SKU's fields: its own, or its upstream's as synced (as ``direct_spec``)
            extra = {
                code: (sku_id, face, cat, _direct_fields(own, upstream))
                for code, sku_id, face, cat, own, upstream in rows
            }
        items = []
        for line in listed.lines:
            sku_id, face_value, category_id, fields = extra[line.code]
            price = format_amount(line.my_price)
            quantity = -1 if line.stock is None else line.stock
            direct = fields is not None
            schema = (
                {
                    "fields": [
                        {
                            "key": f.name,
                            "type": "text",
                            "required": f.required,
                            # Dujiao-Next's ``regex`` is matched anywhere in the
                            # value: anchored, it is our whole-value pattern
                            "regex": f"^(?:{f.pattern})$",
                            "label": {"zh-CN": f.label_zh, "en": f.label_en},
                        }
                        for f in fields or ()
                    ]
                }
                if direct
                else None
            )
            sku = {
                "id": sku_id,
                "sku_code": line.code,
                "spec_values": {},
                "price_amount": price,
                "original_price": format_amount(face_value),
                "stock_status": _stock_status(line.stock),
                "stock_quantity": quantity,
                "is_active": True,
            }
            items.append(
                {
                    "id": sku_id,
                    "slug": line.code.lower(),
                    "title": {"zh-CN": line.name, "en": line.name},
                    "price_amount": price,
                    "original_price": format_amount(face_value),
                    "fulfillment_type": "manual" if direct else "auto",
                    "manual_form_schema": schema,
                    "is_active": True,
                    "category_id": category_id,
                    "skus": [sku],
                }
            )
        return {
            "ok": True,
            "items": items,
            "total": listed.total,
            "page": page,
            "page_size": page_size,
        }

    async def place(
        self,
        caller: ApiCaller,
        *,
        sku_id: int,
        quantity: int,
        order_no: str | None,
        account: Mapping[str, object] | None,
        callback_url: str | None,
    ) -> PlacedOrder:
        """Section 4.5: the reseller's normal purchase; the same ``downstream_order_no``
        from the same key is the same order (``IdempotencyConflict`` for another SKU or
        quantity)."""
        async with self._db.reading() as session:
            code = await session.scalar(select(Sku.code).where(Sku.id == sku_id))
        if code is None:
            raise NotFound(kind="sku", ref=str(sku_id))
        if callback_url and not await self.public_address(callback_url):
            raise InvalidInput(field="callback_url")
        number = order_no or f"anon-{secrets.token_hex(8)}"
        client_key = self._api_keys.client_key(
            caller, f"dujiao:{number}", hashlib.sha256(number.encode()).hexdigest()
        )
        now = self._clock.now()

        async def keep(session: AsyncSession, order_id: int) -> None:
            # in the sale's transaction: a crash after the sale cannot lose where to call back
            session.add(
                DujiaoOrder(
                    order_id=order_id,
                    api_key_id=caller.key_id,
                    order_no=number,
                    callback_url=callback_url,
                    created_at=now,
                )
            )
            await session.flush()

        result = await self._shop.buy_now(
            caller.telegram_id, code, quantity, client_key=client_key, account=account, keep=keep
        )
        if isinstance(result, Requoted):  # buy_now quotes afresh: only if the price moved
            raise InvalidInput(field="sku_id")
        return PlacedOrder(result, number)

    async def public_address(self, url: str) -> bool:
        """Section 8.4: a callback URL may not point at loopback or a private network; the
        one rule for callback URLs is ``core/order_callbacks.py`` ``check_url``."""
        try:
            await check_url(url, allow_private=self._allow_private)
        except CallbackUrlRefused:
            return False
        return True

    async def order(self, caller: ApiCaller, order_id: int) -> PlacedOrder:
        receipt = await self._shop.order(caller.telegram_id, order_id)
        async with self._db.reading() as session:
            mine = await session.get(DujiaoOrder, order_id)
        return PlacedOrder(receipt, mine.order_no if mine else "")

    # callbacks ------------------------------------------------------------------------

    kind = CALLBACK  # the builder the one sender (``core/http_callbacks.py``) asks

    async def request(self, envelope: outbox.Envelope) -> Request | Gone:
        """The claimed row as the document's callback (section 5): the order as it is now
        (codes decrypted only to be sent), signed like a request to Kameng, taken when the
        shop answers ``{"ok": true}``."""
        order_id = int(envelope.payload["order_id"])
        event = f"dujiao.{envelope.payload.get('status', '')}"
        async with self._db.reading() as session:
            mine = await session.get(DujiaoOrder, order_id)
            access = await session.get(DujiaoAccess, mine.api_key_id) if mine else None
        if mine is None or access is None or not mine.callback_url:
            return Gone(event=event, reason="gone", url=(mine.callback_url or "") if mine else "")
        try:
            receipt = await self._shop.order(envelope.telegram_id, order_id)
        except NotFound:  # the order is not the key owner's any more: nothing to say
            return Gone(event=event, reason="gone", url=mine.callback_url)
        now = int(self._clock.now().timestamp())
        body = {
            "event": "order.status_changed",
            **order_body(receipt, mine.order_no, self.currency),
            "downstream_order_no": mine.order_no,
            "timestamp": now,
        }
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        path = urlsplit(mine.callback_url).path or "/"
        headers = signed_headers(
            str(mine.api_key_id), self._cipher.decrypt(access.secret), "POST", path, now, raw
        )
        return Request(mine.callback_url, raw, headers, event, accepted_dujiao)


def order_body(receipt: Receipt, order_no: str, currency: str) -> dict[str, Any]:
    """An order as section 4.6 shows it; ``fulfillment`` (the codes) once delivered, or so
    far: an order still fulfilling that handed over codes already (from our late stock,
    the rest bought upstream) is ``partially_delivered``, the in-between status."""
    status = STATUS[receipt.status]
    if receipt.status is OrderStatus.FULFILLING and receipt.codes:
        status = IN_BETWEEN
    body: dict[str, Any] = {
        "ok": True,
        "order_id": receipt.order_id,
        "order_no": f"KM{receipt.order_id:010d}",
        "downstream_order_no": order_no,
        "status": status,
        "amount": format_amount(receipt.total),
        "currency": currency,
        "items": [
            {
                "product_id": None,
                "sku_id": None,
                "title": {"zh-CN": receipt.sku_name, "en": receipt.sku_name},
                "quantity": receipt.quantity,
                "unit_price": format_amount(receipt.unit_price),
                "total_price": format_amount(receipt.total),
                "fulfillment_type": "auto" if receipt.fulfilment is None else "manual",
            }
        ],
    }
    if status in DELIVERED_SOME:
        proof = receipt.fulfilment.proof if receipt.fulfilment else ""
        body["fulfillment"] = {
            "type": "auto" if receipt.fulfilment is None else "manual",
            "status": "delivered",
            # only the codes the buyer keeps: a client counts the payload's codes as
            # delivered, so a code refunded after the sale is not listed
            "payload": "\n".join(receipt.kept_codes) if receipt.codes else proof,
            "delivery_data": None,
            "delivered_at": as_utc(receipt.created_at).isoformat(),
        }
    return body


def _stock_status(stock: int | None) -> str:
    if stock is None:
        return "unlimited"
    if stock <= 0:
        return "out_of_stock"
    return "low_stock" if stock <= 20 else "in_stock"


async def _active_key(session: AsyncSession, telegram_id: int) -> ApiKey:
    user = await load_user(session, telegram_id)
    key = await session.scalar(
        select(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id.desc())
        .limit(1)
    )
    if key is None:
        raise InvalidState(subject="api_key", reason="no active key")
    return key


async def enqueue_callback(session: AsyncSession, change: fulfilment.StateChange) -> None:
    """A ``fulfilment.HOOKS`` hook: the shop's callback, in the state change's transaction."""
    url = await session.scalar(
        select(DujiaoOrder.callback_url).where(DujiaoOrder.order_id == change.order_id)
    )
    if url:
        await outbox.enqueue(
            session,
            kind=CALLBACK,
            user_id=change.user_id,
            payload={"order_id": change.order_id, "status": change.status.value},
            now=change.at,
        )


if enqueue_callback not in fulfilment.HOOKS:
    fulfilment.HOOKS.append(enqueue_callback)

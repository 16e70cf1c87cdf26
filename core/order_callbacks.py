"""Callbacks to resellers' own systems: every order state change POSTed, signed, to the URL
the reseller set on their API key.

- ``enqueue`` (the one function order state changes call) writes an ``order_callback``
  outbox row in the state change's own transaction, when the buyer's active API key has a
  callback: the JSON body is fixed then; it never holds a code (the shop fetches those with
  ``GET /api/v1/orders/{id}``).
- The one HTTP callback sender (``core/http_callbacks.py``, looped by
  ``web/callback_sender.py``) claims those rows with the Dujiao-Next ones and asks
  ``OrderCallbacks.request`` for each: the body signed now under the callback's secret.
  Checking the URL again, posting, logging the attempt in ``callback_deliveries`` and the
  retry schedule are the sender's, the same for every protocol.
- The signature: header ``X-Kameng-Signature: t=<unix seconds>,v1=<hex>`` where ``<hex>``
  is HMAC-SHA256 under the callback's secret of ``"<t>." + body`` (the raw bytes).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.crypto import CodeCipher
from core.db import Database
from core.decisions.callbacks import accepted_kameng
from core.errors import InvalidState
from core.http_callbacks import Gone, Request, Resolve, check_url, resolve
from core.models import (
    ApiCallback,
    ApiIdempotencyKey,
    ApiKey,
    CallbackDelivery,
    Order,
    OutboxMessage,
    UtcDateTime,
)
from core.outbox import Envelope

KIND = "order_callback"
SIGNATURE_HEADER = "X-Kameng-Signature"
SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 300  # what a receiver should accept between t= and its own clock

# events (fulfilment's moves and refunds reach ``enqueue`` through ``on_state_change``)
DELIVERED = "order.delivered"
REFUNDED = "order.refunded"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` under ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (the README has the same few lines): parse ``t`` and ``v1``,
    refuse a timestamp too far from ``now``, compare in constant time."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


@dataclass(frozen=True)
class CallbackSet:
    url: str
    secret: str  # shown once

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"CallbackSet(url={self.url!r})"


@dataclass(frozen=True)
class CallbackInfo:
    url: str
    created_at: datetime


@dataclass(frozen=True)
class DeliveryView:
    order_id: int
    event: str
    url: str
    attempted_at: datetime
    status_code: int | None
    error: str | None
    next_retry_at: datetime | None
    outcome: str  # delivered | retrying | given_up


async def external_id_of(session: AsyncSession, order_key: str) -> str | None:
    """The reseller's own order number (its API client key) of the order with this key."""
    found = await session.scalar(
        select(ApiIdempotencyKey.client_key).where(ApiIdempotencyKey.order_key == order_key)
    )
    return None if found is None else str(found)


async def enqueue(
    session: AsyncSession,
    *,
    user_id: int,
    order_id: int,
    event: str,
    status: str,
    now: datetime,
    external_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """In the state change's transaction: promise the callback of ``event`` to the
    buyer's shop, if their active API key has a callback (one statement either way)."""
    body = {
        "event": event,
        "order_id": order_id,
        "external_id": external_id,
        "status": status,
        "occurred_at": as_utc(now).isoformat(),
        **(details or {}),
    }
    payload = json.dumps(
        {"order_id": order_id, "event": event, "body": body}, ensure_ascii=False, sort_keys=True
    )
    has_callback = (
        select(
            literal(KIND),
            ApiCallback.user_id,
            literal(payload),
            literal(now, UtcDateTime),
            literal(now, UtcDateTime),
            literal(0),
        )
        .join(ApiKey, ApiKey.id == ApiCallback.api_key_id)
        .where(ApiCallback.user_id == user_id, ApiKey.revoked_at.is_(None))
        .limit(1)
    )
    columns = ["kind", "user_id", "payload", "created_at", "available_at", "attempts"]
    await session.execute(insert(OutboxMessage).from_select(columns, has_callback))


class OrderCallbacks:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        cipher: CodeCipher,
        *,
        allow_private: bool = False,
        resolver: Resolve = resolve,
    ) -> None:
        self._db = db
        self._clock = clock
        self._cipher = cipher
        self._allow_private = allow_private
        self._resolver = resolver

    # the reseller's settings ------------------------------------------------

    async def set(self, telegram_id: int, url: str, *, actor: str) -> CallbackSet:
        """Set (or replace) the callback of the reseller's active API key; a new secret
        each time, returned once."""
        checked = await check_url(url, allow_private=self._allow_private, resolver=self._resolver)
        try:
            return await self._set_once(telegram_id, checked, actor)
        except IntegrityError:  # a concurrent set for this key committed first: replace it
            return await self._set_once(telegram_id, checked, actor)

    async def _set_once(self, telegram_id: int, checked: str, actor: str) -> CallbackSet:
        secret = SECRET_PREFIX + secrets.token_urlsafe(32)
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            key_id = await _active_key(session, user.id)
            await session.execute(delete(ApiCallback).where(ApiCallback.api_key_id == key_id))
            session.add(
                ApiCallback(
                    api_key_id=key_id,
                    user_id=user.id,
                    url=checked,
                    secret_ciphertext=self._cipher.encrypt(secret),
                    created_at=now,
                )
            )
            await audit.append(
                session,
                action="callback_set",
                actor=actor,
                subject=f"user:{telegram_id}",
                payload={"key_id": key_id, "url": checked},
                now=now,
            )
        return CallbackSet(checked, secret)

    async def clear(self, telegram_id: int, *, actor: str) -> bool:
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            result = await session.execute(
                delete(ApiCallback).where(ApiCallback.user_id == user.id)
            )
            removed = bool(result.rowcount)  # type: ignore[attr-defined]
            if removed:
                await audit.append(
                    session,
                    action="callback_clear",
                    actor=actor,
                    subject=f"user:{telegram_id}",
                    payload={},
                    now=now,
                )
            return removed

    async def current(self, telegram_id: int) -> CallbackInfo | None:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            row = await _active_callback(session, user.id)
            return None if row is None else CallbackInfo(row.url, as_utc(row.created_at))

    async def deliveries(self, telegram_id: int, *, limit: int = 20) -> list[DeliveryView]:
        """The reseller's latest delivery attempts, newest first."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            rows = await session.scalars(
                select(CallbackDelivery)
                .where(CallbackDelivery.user_id == user.id)
                .order_by(CallbackDelivery.id.desc())
                .limit(limit)
            )
            return [
                DeliveryView(
                    order_id=r.order_id,
                    event=r.event,
                    url=r.url,
                    attempted_at=as_utc(r.attempted_at),
                    status_code=r.status_code,
                    error=r.error,
                    next_retry_at=None if r.next_retry_at is None else as_utc(r.next_retry_at),
                    outcome=r.outcome,
                )
                for r in rows
            ]

    # the builder the one sender (``core/http_callbacks.py``) asks ---------------

    kind = KIND

    async def request(self, envelope: Envelope) -> Request | Gone:
        """The claimed row as Kameng's signed JSON POST: the body fixed at the state change,
        signed now under the secret of the buyer's active callback."""
        event = str(envelope.payload["event"])
        async with self._db.reading() as session:
            row = await _active_callback(session, envelope.user_id)
            target = None if row is None else (row.url, self._cipher.decrypt(row.secret_ciphertext))
        if target is None:
            return Gone(event=event, reason="no callback set")
        url, secret = target
        body = json.dumps(envelope.payload["body"], ensure_ascii=False, sort_keys=True).encode()
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(secret, timestamp, body),
            "User-Agent": "kameng-callbacks",
        }
        return Request(url, body, headers, event, accepted_kameng)


async def _active_key(session: AsyncSession, user_id: int) -> int:
    key_id = await session.scalar(
        select(ApiKey.id)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.id.desc())
        .limit(1)
    )
    if key_id is None:
        raise InvalidState(subject="api_key", reason="no active key")
    return int(key_id)


async def _active_callback(session: AsyncSession, user_id: int) -> ApiCallback | None:
    return await session.scalar(
        select(ApiCallback)
        .join(ApiKey, ApiKey.id == ApiCallback.api_key_id)
        .where(ApiCallback.user_id == user_id, ApiKey.revoked_at.is_(None))
        .order_by(ApiCallback.id.desc())
        .limit(1)
    )


class StateChanged(Protocol):
    """A fulfilment's state change as its hooks see it (``core.fulfilment.StateChange``)."""

    @property
    def order_id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def status(self) -> Any: ...  # an OrderStatus
    @property
    def note(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def refund(self) -> Any: ...  # a ``core.fulfilment.Refunded`` (units, amount) or None


async def on_state_change(session: AsyncSession, change: StateChanged) -> None:
    """The hook (``core.fulfilment.HOOKS``): each state change of an order that is
    delivered later (``fulfilling``, ``delivered``, ``failed``, ``partially_delivered``)
    becomes the callback ``order.<status>``; a refund after the sale becomes
    ``order.refunded`` with the order's new status and the ``units`` and ``amount`` given
    back; in the change's transaction."""
    status = str(getattr(change.status, "value", change.status))
    key = await session.scalar(select(Order.idempotency_key).where(Order.id == change.order_id))
    details: dict[str, Any] = {"note": change.note} if change.note else {}
    event = f"order.{status}"[:32]
    if change.refund is not None:
        event = REFUNDED
        details = {"units": change.refund.units, "amount": change.refund.amount}
    await enqueue(
        session,
        user_id=change.user_id,
        order_id=change.order_id,
        event=event,
        status=status,
        now=change.at,
        external_id=None if key is None else await external_id_of(session, key),
        details=details or None,
    )

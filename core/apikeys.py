"""Resellers' keys to the HTTP API, and the ``Idempotency-Key`` of their API orders.

A key is shown once when issued; the database keeps only its keyed digest
(HMAC-SHA256 under a key derived from ``KAMENG_SECRET_KEY``), so a copy of the database
does not let anyone call the API. Each reseller has at most one active key: issuing a new
one revokes the old.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import BindParameter

from core import audit
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.crypto import derive_key
from core.db import Database, Driver, Prepared
from core.errors import Forbidden, IdempotencyConflict, InvalidInput, InvalidState
from core.models import ApiIdempotencyKey, ApiKey, User, UserStatus

KEY_PREFIX = "kmg_"
PREFIX_CHARS = 12  # what is stored in clear to tell keys apart: "kmg_" + 8 characters
MAX_CLIENT_KEY = 128


@dataclass(frozen=True)
class IssuedKey:
    key_id: int
    token: str  # the key itself: shown once, never stored
    prefix: str
    created_at: datetime

    def __repr__(self) -> str:  # keep the key out of logs and tracebacks
        return f"IssuedKey(key_id={self.key_id}, prefix={self.prefix!r})"


@dataclass(frozen=True)
class KeyInfo:
    """An active key as its owner may see it again: never the key itself."""

    key_id: int
    prefix: str
    created_at: datetime


@dataclass(frozen=True)
class ApiCaller:
    """Who a valid key belongs to."""

    key_id: int
    user_id: int
    telegram_id: int
    banned: bool
    reseller: bool


class ApiKeys:
    def __init__(self, db: Database, clock: Clock, secret: str) -> None:
        self._db = db
        self._clock = clock
        self._hmac_key = derive_key(secret, b"api-key")

    def digest(self, token: str) -> bytes:
        return hmac.new(self._hmac_key, token.encode(), hashlib.sha256).digest()

    async def issue(
        self, telegram_id: int, *, actor: str, replacing: int | None = None
    ) -> IssuedKey:
        """A new key for a reseller; any key they had stops working in the same step.

        ``replacing`` (the active key's id, 0 for none) makes it conditional: if the
        active key is another by now (a double tap already replaced it), nothing happens
        and ``InvalidState`` is raised."""
        now = self._clock.now()
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            if not user.is_reseller:
                raise Forbidden(action="api.key")
            if replacing is not None:
                active = await session.scalar(
                    select(func.max(ApiKey.id)).where(
                        ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None)
                    )
                )
                if (active or 0) != replacing:
                    raise InvalidState(subject="api_key", reason="replaced meanwhile")
            revoked = await _revoke_all(session, user, now)
            key = ApiKey(
                user_id=user.id,
                prefix=token[:PREFIX_CHARS],
                digest=self.digest(token),
                created_at=now,
            )
            session.add(key)
            await session.flush()
            await audit.append(
                session,
                action="api_key_issue",
                actor=actor,
                subject=f"user:{telegram_id}",
                payload={"key_id": key.id, "prefix": key.prefix, "revoked": revoked},
                now=now,
            )
            return IssuedKey(key.id, token, key.prefix, now)

    async def revoke(self, telegram_id: int, *, actor: str) -> int:
        """Revoke the reseller's active key(s); returns how many were active."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            revoked = await _revoke_all(session, user, now)
            if revoked:
                await audit.append(
                    session,
                    action="api_key_revoke",
                    actor=actor,
                    subject=f"user:{telegram_id}",
                    payload={"revoked": revoked},
                    now=now,
                )
            return revoked

    async def current(self, telegram_id: int) -> KeyInfo | None:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            key = await session.scalar(
                select(ApiKey)
                .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
                .order_by(ApiKey.id.desc())
                .limit(1)
            )
            return None if key is None else KeyInfo(key.id, key.prefix, as_utc(key.created_at))

    async def authenticate(self, token: str) -> ApiCaller | None:
        """The caller a presented key belongs to, or None for an unknown or revoked key."""
        if not token.startswith(KEY_PREFIX) or len(token) > 200:
            return None
        rows = await self._db.read_rows(_CALLER, {"digest": self.digest(token)})
        if not rows:
            return None
        key_id, user_id, telegram_id, banned, reseller = rows[0]
        return ApiCaller(key_id, user_id, telegram_id, bool(banned), bool(reseller))

    def client_key(self, caller: ApiCaller, client_key: str, request_hash: str) -> ClientKey:
        """The caller's ``Idempotency-Key`` for the order request whose hash is given; the
        order's use case remembers it in its own transaction (``remember_client_key``)."""
        if not client_key or len(client_key) > MAX_CLIENT_KEY or not client_key.isprintable():
            raise InvalidInput(field="idempotency_key", max=MAX_CLIENT_KEY)
        return ClientKey(caller.user_id, client_key, request_hash)


@dataclass(frozen=True)
class ClientKey:
    """A client's ``Idempotency-Key`` on one API order request. The order's idempotency key
    derives from it; the key is remembered with the request's hash, so using it again for
    another request is refused (``IdempotencyConflict``) even when the first was refused."""

    user_id: int
    key: str  # as the client sent it
    request_hash: str  # of the request, normalised

    @property
    def order_key(self) -> str:
        return f"api:{self.user_id}:{hashlib.sha256(self.key.encode()).hexdigest()[:40]}"


_CALLER = Prepared(
    select(
        ApiKey.id,
        User.id,
        User.telegram_id,
        User.status == UserStatus.BANNED,
        User.is_reseller,
    )
    .join(User, User.id == ApiKey.user_id)
    .where(ApiKey.digest == bindparam("digest"), ApiKey.revoked_at.is_(None))
)
_CLIENT_KEY: dict[str, BindParameter[Any]] = {
    "user_id": bindparam("user_id"),
    "client_key": bindparam("client_key"),
    "request_hash": bindparam("request_hash"),
    "order_key": bindparam("order_key"),
    "created_at": bindparam("now"),
}
_BIND_CLIENT_KEY = Prepared(  # the key's first use binds it; a later one changes nothing
    insert(ApiIdempotencyKey).values(_CLIENT_KEY).returning(ApiIdempotencyKey.id),
    variants={
        name: dialect_insert(ApiIdempotencyKey)
        .values(_CLIENT_KEY)
        .on_conflict_do_nothing(
            index_elements=[ApiIdempotencyKey.user_id, ApiIdempotencyKey.client_key]
        )
        .returning(ApiIdempotencyKey.id)
        for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
    },
)
_BOUND_REQUEST = Prepared(
    select(ApiIdempotencyKey.request_hash).where(
        ApiIdempotencyKey.user_id == bindparam("user_id"),
        ApiIdempotencyKey.client_key == bindparam("client_key"),
    )
)


async def remember_client_key(driver: Driver, client_key: ClientKey, now: datetime) -> bool:
    """In the caller's transaction: the key's first use binds it to its request (True); a
    later use with the same request is a replay (False), with another one is refused. One
    statement on a first use; two uses at once: the second waits for the first to commit
    (PostgreSQL) or runs after it (SQLite), then sees its row."""
    params = {
        "user_id": client_key.user_id,
        "client_key": client_key.key,
        "request_hash": client_key.request_hash,
        "order_key": client_key.order_key,
        "now": now,
    }
    if await driver.rows(_BIND_CLIENT_KEY, params):
        return True
    [(bound,)] = await driver.rows(_BOUND_REQUEST, params)
    if bound != client_key.request_hash:
        raise IdempotencyConflict(key=client_key.key)
    return False


async def _revoke_all(session: AsyncSession, user: User, now: datetime) -> int:
    result = await session.execute(
        update(ApiKey)
        .where(ApiKey.user_id == user.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

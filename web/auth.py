"""``Authorization: Bearer <key>`` → the calling reseller, then the per-key rate limit.

Failed attempts are limited per client address too, so guessing keys is slow."""

from __future__ import annotations

from collections.abc import Hashable

from aiohttp import web
from aiohttp.typedefs import Middleware

from core.apikeys import ApiCaller, ApiKeys
from telemetry import context
from web.errors import ApiError, Handler
from web.ratelimit import TokenBuckets, retry_after_header

CALLER = web.RequestKey("caller", ApiCaller)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def make_auth_middleware(
    keys: ApiKeys,
    buckets: TokenBuckets,
    failures: TokenBuckets,
    public: frozenset[str] = frozenset(),
    signed_elsewhere: tuple[str, ...] = (),
) -> Middleware:
    """Every ``/api/`` path needs a key, except those in ``public`` and those under a
    prefix of ``signed_elsewhere`` (their handlers check another protocol's signature)."""

    @web.middleware
    async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/") or request.path in public:
            return await handler(request)
        if signed_elsewhere and request.path.startswith(signed_elsewhere):
            return await handler(request)
        token = bearer_token(request)
        caller = await keys.authenticate(token) if token else None
        if caller is None:
            _limit(failures, ("address", request.remote))
            raise ApiError("unauthorized", headers={"WWW-Authenticate": "Bearer"})
        _limit(buckets, caller.key_id)
        if caller.banned:
            raise ApiError("user_banned")
        if not caller.reseller:
            raise ApiError("forbidden")
        request[CALLER] = caller
        context.bind(user_id=caller.telegram_id)  # in this request's log lines
        return await handler(request)

    return authenticate


def _limit(buckets: TokenBuckets, key: Hashable) -> None:
    wait = buckets.take(key)
    if wait:
        retry = retry_after_header(wait)
        raise ApiError("rate_limited", headers={"Retry-After": retry}, retry_after=int(retry))


def caller_of(request: web.Request) -> ApiCaller:
    return request[CALLER]

"""Every refusal as ``{"error": {"code", "message", "details"}}`` with its HTTP status.

The platform's refusals (``KamengError``) keep their code; the message is translated for
the caller's ``Accept-Language``. Anything unexpected is a 500 with a reference id that
is also in the log, where only the exception's type and stack frames go (never its text:
that could quote a code). Two things are not errors of ours: a storage fault is 503
``storage_unavailable`` with ``Retry-After``, and a client that hung up is counted and
logged at INFO (``web/client_closed.py``).
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from core.errors import KamengError, StorageUnavailable
from web import client_closed
from web.messages import message, negotiate

log = logging.getLogger("kameng.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_BODY = web.AppKey("max_body_bytes", int)

# Every code the API answers with and its status: the core's refusals, then the HTTP
# layer's own. The OpenAPI document (web/openapi.py) lists them per operation; a test
# holds the two together.
STATUS_OF = {
    "not_found": 404,
    "invalid_quantity": 400,
    "invalid_amount": 400,
    "invalid_input": 400,
    "sku_not_for_sale": 422,
    "out_of_stock": 422,
    "insufficient_balance": 422,
    "insufficient_payable": 422,
    "credit_blocked": 422,
    "forbidden": 403,
    "user_banned": 403,
    "not_registered": 403,
    "idempotency_conflict": 409,
    "invalid_state": 409,
    "quote_used": 409,
    "callback_url_refused": 422,
    "invalid_account": 400,
    # the HTTP layer's
    "invalid_json": 400,
    "unknown_field": 400,
    "idempotency_key_required": 400,
    "unauthorized": 401,
    "route_not_found": 404,
    "method_not_allowed": 405,
    "quote_requoted": 409,
    "body_too_large": 413,
    "rate_limited": 429,
    "internal": 500,
    "storage_unavailable": 503,
}
# How long a client should wait before retrying after a storage fault (the operator has to
# fix the disk; nothing was charged, so the same request with the same key is safe).
STORAGE_RETRY_AFTER_SECONDS = 30


class ApiError(Exception):
    """A refusal the HTTP layer itself makes; its status is the code's (``STATUS_OF``)."""

    def __init__(
        self,
        code: str,
        *,
        headers: dict[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(code)
        self.status = STATUS_OF[code]
        self.code = code
        self.details = details
        self.headers = headers or {}


def language_of(request: web.Request) -> str:
    return negotiate(request.headers.get("Accept-Language"))


def error_response(
    request: web.Request,
    status: int,
    code: str,
    details: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> web.Response:
    language = language_of(request)
    text = message(code, language, details)
    body = {"error": {"code": code, "message": text, "details": details}}
    return web.json_response(
        body, status=status, headers={"Content-Language": language, **(headers or {})}
    )


def _safe_details(params: dict[str, Any]) -> dict[str, Any]:
    plain = (int, str, bool, type(None))
    return {k: v if isinstance(v, plain) else str(v) for k, v in params.items()}


def _internal(request: web.Request, exc: Exception) -> web.Response:
    """500 ``internal`` with a reference id, logged as an ERROR with the stack frames."""
    reference = secrets.token_hex(6)
    # Type and frames only: an exception's text could quote user input or a code.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error(
        "unhandled %s on %s %s (ref %s)\n%s",
        type(exc).__name__,
        request.method,
        request.rel_url.raw_path,  # percent-encoded as sent: no NUL or newline in the log
        reference,
        frames,
    )
    return error_response(request, 500, "internal", {"reference": reference})


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except ConnectionResetError as exc:
        if not client_closed.hung_up(request):
            return _internal(request, exc)
        client_closed.count(request, "before its body was read")
        # nobody will read it: aiohttp's write fails quietly (a debug line) and closes
        return web.Response(status=499)
    except ApiError as exc:
        return error_response(request, exc.status, exc.code, exc.details, exc.headers)
    except StorageUnavailable as exc:  # core/db.py logged it (one WARNING line)
        retry = {"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)}
        details = {"retry_after": STORAGE_RETRY_AFTER_SECONDS, **_safe_details(exc.params)}
        return error_response(request, 503, exc.code, details, retry)
    except KamengError as exc:
        status = STATUS_OF.get(exc.code, 400)
        return error_response(request, status, exc.code, _safe_details(exc.params))
    except web.HTTPException as exc:
        if exc.status == 404:
            return error_response(request, 404, "route_not_found", {})
        if exc.status == 405:
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
            return error_response(request, 405, "method_not_allowed", {}, allow)
        if exc.status == 413:  # a body over the app's client_max_size
            limit = request.app[MAX_BODY]
            return error_response(request, 413, "body_too_large", {"max_bytes": limit})
        raise
    except Exception as exc:
        return _internal(request, exc)
    if client_closed.hung_up(request):  # done (an order is complete), but no one to tell
        client_closed.count(request, "before its answer")
    return response


class MalformedQuiet(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server logger for the API's runner: a request aiohttp cannot parse (a URL
    over 8190 bytes, a broken header) is the client's fault and already answered 400, so it
    is one INFO line instead of an ERROR with a traceback; anything else is logged as is."""

    def exception(self, msg: object, *args: object, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError) and exc.code < 500:
            self.info("malformed request refused (%s): %s", exc.code, exc.message[:200])
            return
        super().exception(msg, *args, **kwargs)


SERVER_LOG = MalformedQuiet(logging.getLogger("aiohttp.server"), {})

"""Each API request: an id (``X-Request-Id``, and in every log line it causes), its latency
by route and status (``kameng_api_request_seconds``) and one log line when it is done.

The outermost middleware, so it sees the status the client gets after ``error_middleware``
has worded a refusal. The route is the matched route's canonical path
(``/api/v1/orders/{order_id}``), never the raw URL: a metric label per order id or per
random path would grow without end.
"""

from __future__ import annotations

import logging
import secrets
import time

from aiohttp import web

from telemetry import context
from telemetry.metrics import API_REQUESTS
from web.errors import Handler

log = logging.getLogger("kameng.api")

REQUEST_ID_HEADER = "X-Request-Id"
# probes and scrapes come every few seconds: their lines only at DEBUG
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def observe_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    request_id = secrets.token_hex(8)
    started = time.perf_counter()
    status = 500
    with context.scope(request_id=request_id, user_id=None, order_id=None, update_id=None):
        try:
            response = await handler(request)
            status = response.status
            if not response.prepared:
                response.headers[REQUEST_ID_HEADER] = request_id
            return response
        except web.HTTPException as exc:  # what error_middleware lets through as it is
            status = exc.status
            exc.headers[REQUEST_ID_HEADER] = request_id
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_of(request)
            API_REQUESTS.labels(request.method, route, str(status)).observe(seconds)
            level = logging.DEBUG if request.path in QUIET_PATHS else logging.INFO
            log.log(
                level,
                "%s %s %d in %.1f ms",
                request.method,
                route,
                status,
                seconds * 1000,
                extra={"duration_ms": round(seconds * 1000, 1)},
            )

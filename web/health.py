"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics``: public, for the load balancer and
Prometheus (no API key: the auth middleware guards ``/api/`` only).

* ``/healthz``: the process answers (200). Nothing else is checked: a load balancer that
  restarts on it must not restart every instance because the database is down.
* ``/readyz``: 200 when this instance can serve: the database answers within a short
  timeout, its Alembic revision is not behind the code's head (a revision newer than the
  code knows is a rolling upgrade in progress: still ready), no storage fault is current
  (``Database.storage_fault``), and Redis answers a PING when ``KAMENG_REDIS_URL`` is set;
  else 503 with a JSON body naming each check that failed.
* ``/metrics``: Prometheus' text format: this process's counters and histograms
  (``telemetry/metrics.py``) and what the database knows (``core/vitals.py``), read at
  most once every ``VITALS_SECONDS``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import redis.asyncio as redis
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

from core import schema
from core.platform import Platform
from core.vitals import Vitals, read_vitals
from telemetry.metrics import Families, vitals_families
from web.client_closed import CLIENT_CLOSED
from web.handlers import PLATFORM

log = logging.getLogger("kameng.api")

CHECK_TIMEOUT_SECONDS = 2.0  # each readiness check: an unreachable host must not hang it
VITALS_SECONDS = 5.0  # scrape-time numbers are read again at most this often
OK = "ok"

routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": OK})


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    checks = await _database_checks(platform)
    fault = platform.db.storage_fault()
    checks["storage"] = OK if fault is None else f"storage fault: {fault.reason}"
    if platform.settings.redis_url:
        checks["redis"] = await _redis_check(platform.settings.redis_url)
    failed = sorted(name for name, result in checks.items() if result != OK)
    body = {"status": "not ready" if failed else "ready", "failed": failed, "checks": checks}
    return web.json_response(body, status=503 if failed else 200)


async def _database_checks(platform: Platform) -> dict[str, str]:
    """``database`` (reachable) and ``migrations`` (at the code's head), in one read."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            revision = await schema.current_revision(platform.db)
    except TimeoutError:
        return {"database": "no answer", "migrations": "unknown"}
    except Exception as exc:  # its text could name the host and user: the type is enough
        return {"database": f"unreachable ({type(exc).__name__})", "migrations": "unknown"}
    head = schema.head_revision()
    if revision is None:
        return {"database": OK, "migrations": f"database not migrated, code at {head}"}
    if revision != head and schema.is_known_revision(revision):
        return {"database": OK, "migrations": f"database at {revision}, code at {head}"}
    # at the head, or ahead of it: migrations are additive, so an instance of the previous
    # version keeps serving while `kameng db upgrade` runs for the next (README: upgrade)
    return {"database": OK, "migrations": OK}


async def _redis_check(url: str) -> str:
    client = redis.Redis.from_url(
        url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS, socket_timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await cast(Awaitable[bool], client.ping())  # redis-py types ping() as either
    except TimeoutError:
        return "no answer"
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"
    finally:
        await client.aclose()
    return OK


@dataclass
class VitalsCache:
    """The last vitals read and when (the platform's clock); one read at a time."""

    vitals: Vitals | None = None
    read_at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, platform: Platform) -> Vitals:
        async with self.lock:
            now = platform.clock.now()
            if (
                self.vitals is None
                or self.read_at is None
                or (now - self.read_at).total_seconds() > VITALS_SECONDS
            ):
                async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                    self.vitals = await read_vitals(
                        platform.db,
                        platform.clock,
                        low_stock_below=platform.settings.low_stock_below,
                    )
                self.read_at = now
            return self.vitals


VITALS = web.AppKey("vitals", VitalsCache)


@routes.get("/metrics")
async def metrics(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM]
    up = GaugeMetricFamily(
        "kameng_database_up", "1 when the scrape could read the database's numbers."
    )
    families = []
    try:
        vitals = await request.app[VITALS].get(platform)
    except Exception as exc:  # the process's own metrics are still worth serving
        log.warning("metrics: the database's numbers could not be read (%s)", type(exc).__name__)
        up.add_metric([], 0)
    else:
        up.add_metric([], 1)
        families = vitals_families(vitals, client_closed=request.app[CLIENT_CLOSED].count)
    body = generate_latest(REGISTRY) + generate_latest(Families([up, *families]))
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

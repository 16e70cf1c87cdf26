"""Clients that hang up before their answer: ordinary behaviour, not a server error.

A shop that gives up waiting closes its connection; aiohttp then fails the body's read
with ``ConnectionResetError``, or has nobody to write the answer to. Neither is a bug:
it is logged at INFO without a traceback and counted here, apart from the 500s, where a
future ``/metrics`` can read it (``app[CLIENT_CLOSED].count``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

log = logging.getLogger("kameng.api")


@dataclass
class ClientClosedCounter:
    count: int = 0


CLIENT_CLOSED = web.AppKey("client_closed", ClientClosedCounter)


def hung_up(request: web.Request) -> bool:
    """True when the client's connection is gone (aiohttp drops the transport then)."""
    return request.transport is None or request.transport.is_closing()


def count(request: web.Request, when: str) -> None:
    """One more client that closed its connection ``when`` (before its body was read,
    before its answer), and one INFO line saying so."""
    request.app[CLIENT_CLOSED].count += 1
    # the path as sent (percent-encoded): no NUL or newline in the log
    log.info(
        "client closed the connection %s: %s %s", when, request.method, request.rel_url.raw_path
    )

"""A shop that hangs up is ordinary behaviour: no ERROR in the log, counted apart
(``app[CLIENT_CLOSED]``), the server keeps serving, and an order whose body arrived is
complete or absent, never half. Raw sockets, as an impatient client really behaves."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
from collections.abc import Callable

import pytest

from core.checks import check_ledger
from core.platform import Platform
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.conftest import GENEROUS, Api
from web.app import ApiServer
from web.client_closed import CLIENT_CLOSED

RESELLER = 2301


async def raw_request(port: int, head: str, body: bytes, *, reset: bool) -> None:
    """Send ``head`` and ``body`` and close without reading an answer (``reset``: abort
    the connection with a TCP RST, as a killed client does)."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    if reset:
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()
    await writer.wait_closed()


def order_head(port: int, key: str, token: str, length: int) -> str:
    return (
        f"POST /api/v1/orders HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n"
    )


async def settled(condition: Callable[[], bool]) -> None:
    """Wait (bounded) for the server to have handled a connection it was sent."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server did not handle the connection")


async def test_hanging_up_is_no_server_error(
    platform: Platform, api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await make_sku(platform, "STEAM-100", stock=5)
    await make_reseller(platform, RESELLER, balance=500_00)
    token = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    body = json.dumps({"sku": "STEAM-100", "quantity": 2}).encode()

    async with ApiServer(platform, "127.0.0.1", 0, GENEROUS) as server:
        closed = server.app[CLIENT_CLOSED]
        base = f"http://127.0.0.1:{server.port}/api/v1"
        api.base_url = base.removesuffix("/api/v1")

        # headers with a Content-Length, then gone before the body: nothing is bought
        for n, reset in enumerate((False, True)):
            head = order_head(server.port, f"early-{n}", token, len(body))
            await raw_request(server.port, head, body[:5], reset=reset)
            await settled(lambda n=n: closed.count == n + 1)  # type: ignore[misc]
        status, listed, _ = await api.get("/api/v1/orders", key=token)
        assert (status, listed["total"]) == (200, 0)

        # the whole order sent, gone before the answer: complete or absent, never half
        head = order_head(server.port, "impatient", token, len(body))
        await raw_request(server.port, head, body, reset=True)
        status, again, _ = await api.post(
            "/api/v1/orders",
            key=token,
            json={"sku": "STEAM-100", "quantity": 2},
            headers={"Idempotency-Key": "impatient"},
        )
        # the same key now: the order the server finished (replayed), or a first one
        assert status in (200, 201) and len(again["codes"]) == 2
        status, listed, _ = await api.get("/api/v1/orders", key=token)
        assert listed["total"] == 1

        status, me, _ = await api.get("/api/v1/me", key=token)  # still serving
        assert status == 200 and me["balance"] == 500_00 - 2 * 92_00

    assert closed.count >= 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    hung_up = [r for r in caplog.records if "client closed the connection" in r.getMessage()]
    assert hung_up and all(r.levelno == logging.INFO and r.exc_info is None for r in hung_up)
    assert (await check_ledger(platform.db)).ok

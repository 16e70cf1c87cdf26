"""Dujiao-Next's request signature and callback checks, against its Open API document.

Source: dujiao-next/document, docs/en/api/integration-open-api.md, section 2 ("Authentication
& Signature"): ``hex(hmac_sha256("{METHOD}\\n{PATH}\\n{TIMESTAMP}\\n{BODY_MD5}", secret))``,
MD5 of an empty body ``d41d8cd98f00b204e9800998ecf8427e``, timestamps within ±60 seconds.
The expected signatures are the document's section 2.3 example (secret ``your_api_secret``,
``POST /api/v1/upstream/orders`` with body ``{"sku_id":1,"quantity":1}``) at a fixed
timestamp, computed by the documented algorithm.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from core.errors import UpstreamCallbackRefused
from core.upstreams.adapter import Credentials, OrderState
from core.upstreams.dujiao import DujiaoAdapter, check_signature, sign, signed_headers
from core.upstreams.http import UrllibClient
from tests.conftest import FakeClock

SECRET = "your_api_secret"
TS = 1772366400  # 2026-03-01T12:00:00Z
ORDER_BODY = b'{"sku_id":1,"quantity":1}'


def test_empty_body_md5_is_the_documented_one() -> None:
    assert hashlib.md5(b"").hexdigest() == "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        (
            "POST",
            "/api/v1/upstream/orders",
            ORDER_BODY,
            "88444ca5a52c0ebfb343ac92fc81723552f70fcbf589c22c0801f94458e2da7f",
        ),
        (
            "GET",
            "/api/v1/upstream/products",
            b"",
            "f0d298125eea05352267e35e342f8e2ab809db8edbeff8cbaea4380b6119934e",
        ),
    ],
)
def test_signature_worked_examples(method: str, path: str, body: bytes, expected: str) -> None:
    assert sign(SECRET, method, path, TS, body) == expected
    assert sign(SECRET, method.lower(), path, str(TS), body) == expected  # method upper-cased


def _headers(secret: str = SECRET, ts: int = TS, body: bytes = ORDER_BODY) -> dict[str, str]:
    return signed_headers("your_api_key", secret, "POST", "/cb", ts, body)


@pytest.mark.parametrize(
    ("headers", "now", "reason"),
    [
        ({}, TS, "missing_auth_headers"),
        (_headers() | {"Dujiao-Next-Api-Key": "another"}, TS, "invalid_api_key"),
        (_headers() | {"Dujiao-Next-Timestamp": "12a"}, TS, "invalid_timestamp"),
        (_headers(), TS + 61, "timestamp_expired"),
        (_headers(), TS - 61, "timestamp_expired"),
        (_headers(secret="not-it"), TS, "invalid_signature"),
        (_headers(body=b"{}"), TS, "invalid_signature"),
    ],
)
def test_a_bad_callback_is_refused_with_the_documented_code(
    headers: dict[str, str], now: int, reason: str
) -> None:
    with pytest.raises(UpstreamCallbackRefused) as refused:
        check_signature("your_api_key", SECRET, headers, "POST", "/cb", ORDER_BODY, now)
    assert refused.value.params["reason"] == reason


@pytest.mark.parametrize("skew", [-60, 0, 60])
def test_the_replay_window_is_sixty_seconds_either_way(skew: int) -> None:
    check_signature("your_api_key", SECRET, _headers(), "POST", "/cb", ORDER_BODY, TS + skew)


def test_a_signed_callback_becomes_the_order_update() -> None:
    clock = FakeClock(datetime.fromtimestamp(TS, UTC))
    adapter = DujiaoAdapter(
        Credentials("http://127.0.0.1:9", "your_api_key", SECRET), UrllibClient(), clock
    )
    body = json.dumps(
        {
            "order_id": 101,
            "downstream_order_no": "K-7",
            "status": "completed",
            "fulfillment": {"type": "auto", "status": "delivered", "payload": "AAA\nBBB"},
        }
    ).encode()
    headers = signed_headers("your_api_key", SECRET, "POST", "/api/v1/upstream/callback", TS, body)
    update = adapter.verify_callback(headers, body)
    assert (update.ref, update.state, update.upstream_id) == ("K-7", OrderState.DELIVERED, "101")
    assert update.codes == ("AAA", "BBB")
    assert "AAA" not in repr(update)  # codes never in a log line
    with pytest.raises(UpstreamCallbackRefused):
        adapter.verify_callback(headers, body.replace(b"completed", b"canceled"))

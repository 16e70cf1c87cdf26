"""No secret reaches the logs: a full scenario with every logger at DEBUG, written both as
JSON lines and as plain text, and each secret's plaintext grepped for in every line.

The scenario: a reseller gets an API key in the bot and orders codes over the API (and
tries a wrong key), buys codes in the bot, redeems a voucher an admin issued there, and a
supplier uploads codes as a file. The secrets: every code (stocked, sold, uploaded), the
API keys, the voucher and the secret key. The fake Telegram server is Telegram's side,
not ours: its own log lines (none today) would be left out by logger name.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import aiohttp
import pytest

from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from telemetry.logs import JsonFormatter, PlainFormatter
from tests.bot.conftest import ADMIN_ID
from tests.conftest import TEST_SECRET
from tests.factories import SUPPLIER_TID, make_reseller, make_sku
from tests.web.conftest import GENEROUS, Api
from web.app import ApiServer

RESELLER = 3303
KEY = re.compile(r"kmg_[A-Za-z0-9_-]{20,}")
UPLOADED = [f"UPLOADED-{n:04d}-PLAINTEXT" for n in range(5)]


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """Every log record at DEBUG, as JSON lines and as plain text."""
    as_json, as_plain = io.StringIO(), io.StringIO()
    handlers = []
    for stream, formatter in ((as_json, JsonFormatter()), (as_plain, PlainFormatter())):
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        handler.setLevel(logging.DEBUG)
        handlers.append(handler)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield as_json, as_plain
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


async def test_no_secret_in_the_logs_of_a_full_scenario(
    captured: tuple[io.StringIO, io.StringIO], server: FakeTelegramServer, shop: Platform
) -> None:
    stocked = await make_sku(shop, "STEAM-100", stock=8)
    await make_reseller(shop, RESELLER, balance=1000_00)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", started=True)
    sam = server.user(SUPPLIER_TID, language_code="en", started=True)
    await shop.catalogue.set_language(SUPPLIER_TID, "en")

    # an API key, shown once in the bot
    await ann.send_text("/apikey")
    offer = await ann.wait_for_message(lambda m: "no API key yet" in m.content)
    await ann.press("🔑 Create a new key", message=offer)
    shown = await ann.wait_for_message(lambda m: "shown only this once" in m.content)
    found = KEY.search(shown.content)
    assert found is not None
    api_key = found.group()

    # an API order with codes, and a wrong key
    async with aiohttp.ClientSession() as http, ApiServer(shop, "127.0.0.1", 0, GENEROUS) as s:
        api = Api(http, s.base_url)
        status, bought, _ = await api.post(
            "/api/v1/orders",
            key=api_key,
            json={"sku": "STEAM-100", "quantity": 2},
            headers={"Idempotency-Key": "log-1"},
        )
        assert status == 201 and len(bought["codes"]) == 2
        wrong_key = api_key[:-4] + "XXXX"
        status, _, _ = await api.get("/api/v1/me", key=wrong_key)
        assert status == 401

    # a purchase in the bot
    await ann.send_text("/buy STEAM-100 2")
    quote = await ann.wait_for_message(lambda m: "Total: ¥184.00" in m.content)
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)
    assert len(receipt.codes) == 2

    # a voucher issued by the admin and redeemed
    await admin.send_text("/voucher 50.00 1")
    issued = await admin.wait_for_message(lambda m: "1 voucher(s) of ¥50.00 each" in m.content)
    (voucher,) = issued.codes
    await ann.send_text(f"/redeem {voucher}")
    await ann.wait_for_message(lambda m: "Voucher redeemed" in m.content)

    # a supplier's upload
    await sam.send_text("/upload STEAM-100")
    await sam.wait_for_message(lambda m: "Send the codes" in m.content)
    await sam.send_document("codes.txt", "\n".join(UPLOADED).encode())
    await sam.wait_for_message(lambda m: "Added: 5" in m.content, timeout=30)

    as_json, as_plain = (stream.getvalue() for stream in captured)
    json_lines = as_json.splitlines()
    records = [json.loads(line) for line in json_lines if line.startswith("{")]
    assert len(records) > 20  # the scenario did log: requests, updates, orders
    # the context an operator searches by
    assert any("request_id" in r and r.get("order_id") == bought["id"] for r in records)
    assert any("update_id" in r and r.get("user_id") == RESELLER for r in records)
    assert any(r["logger"] == "kameng.orders" and "order_id" in r for r in records)
    assert any("duration_ms" in r for r in records)
    secrets = {
        "secret key": [TEST_SECRET],
        "API key": [api_key, wrong_key],
        "voucher": [voucher, voucher.lower()],
        "code": [*stocked, *UPLOADED],
    }
    for kind, values in secrets.items():
        for value in values:
            for name, text in (("JSON", as_json), ("plain", as_plain)):
                leaked = [line for line in text.splitlines() if value in line]
                assert not leaked, f"a {kind} in the {name} log: {leaked[0][:300]}"

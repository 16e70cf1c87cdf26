"""Whatever a client sends, the API answers with a 4xx and an error code, never a 500, and
nothing it refuses reaches the database or the log."""

from __future__ import annotations

import asyncio
import logging

import pytest

from core.checks import check_ledger
from core.platform import Platform
from tests.factories import make_sku
from tests.web.conftest import Api
from tests.web.test_api import RESELLER, order, reseller_key


async def test_numbers_must_be_ascii_digits_in_range(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=2)

    for path in ("/api/v1/skus", "/api/v1/orders"):
        for query, field in (
            ("limit=²", "limit"),
            ("offset=１", "offset"),
            ("limit=" + "9" * 5000, "limit"),
        ):
            status, body, _ = await api.get(f"{path}?{query}", key=key)
            assert status == 400, (path, query, body)
            assert body["error"]["code"] == "invalid_input"
            assert body["error"]["details"]["field"] == field
    for order_id in ("²", "٣", "2147483648", "9223372036854775808", "9" * 40):
        status, body, _ = await api.get(f"/api/v1/orders/{order_id}", key=key)
        assert status == 404 and body["error"]["code"] == "not_found", order_id


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/skus?q=%00", "q"),
        ("/api/v1/skus?q=steam%00", "q"),
        ("/api/v1/skus?category=%00", "category"),
        ("/api/v1/skus?q=a%0Ab", "q"),
        ("/api/v1/skus/STEAM%00", "code"),
        ("/api/v1/orders/1%00", "order_id"),
    ],
)
async def test_nul_and_control_characters_in_the_url_are_400_naming_the_field(
    api: Api, platform: Platform, caplog: pytest.LogCaptureFixture, path: str, field: str
) -> None:
    key = await reseller_key(platform)
    await make_sku(platform, stock=2)

    with caplog.at_level(logging.DEBUG):
        status, body, _ = await api.get(path, key=key)
    assert status == 400 and body["error"]["code"] == "invalid_input"
    assert body["error"]["details"]["field"] == field
    assert "\x00" not in caplog.text


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/v1/quotes", '{"sku": "STEAM-100\\u0000", "quantity": 1}', "sku"),
        ("/api/v1/quotes", '{"sku": "\\ud800", "quantity": 1}', "sku"),
        ("/api/v1/orders", '{"sku": "\\u0000", "quantity": 1}', "sku"),
        ("/api/v1/orders", '{"quote_id": "abc\\u0000"}', "quote_id"),
    ],
)
async def test_nul_in_a_body_string_is_400_naming_the_field(
    api: Api, platform: Platform, path: str, payload: str, field: str
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=2)

    status, body, _ = await api.post(path, key=key, data=payload, headers=order("nul"))
    assert status == 400 and body["error"]["code"] == "invalid_input"
    assert body["error"]["details"]["field"] == field
    assert (await platform.balances.balance(RESELLER)).balance == 100_00


async def test_an_idempotency_key_with_control_characters_is_refused(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=2)
    request = {"sku": "STEAM-100", "quantity": 1}

    for bad in ("a\tb", "x" * 129):
        status, body, _ = await api.post(
            "/api/v1/orders", key=key, json=request, headers=order(bad)
        )
        assert status == 400 and body["error"]["code"] == "invalid_input"
        assert body["error"]["details"]["field"] == "Idempotency-Key"
    assert (await platform.balances.balance(RESELLER)).balance == 100_00


async def test_a_search_never_matches_everything_by_accident(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform)
    await make_sku(platform, "STEAM-100", stock=1)
    await make_sku(platform, "XBOX-50", stock=1, category="Xbox")

    for wildcard in ("%25", "_", "%25%25", "*"):
        status, body, _ = await api.get(f"/api/v1/skus?q={wildcard}", key=key)
        assert status == 200 and body["items"] == [] and body["total"] == 0, wildcard
    status, body, _ = await api.get("/api/v1/skus?q=" + "s" * 65, key=key)
    assert status == 400 and body["error"]["details"]["field"] == "q"
    _, found, _ = await api.get("/api/v1/skus?q=xbox", key=key)
    assert [item["code"] for item in found["items"]] == ["XBOX-50"]


@pytest.mark.parametrize(
    "payload",
    [
        '{"sku": "STEAM-100", "quantity": ' + "1" * 5000 + "}",  # int() refuses > 4300 digits
        "[" * 30_000 + "]" * 30_000,  # nesting deeper than the parser recurses
        b'{"sku": "\xff\xfe", "quantity": 1}',  # not UTF-8
    ],
    ids=["huge-integer", "deep-nesting", "not-utf8"],
)
async def test_json_the_parser_chokes_on_is_invalid_json(
    api: Api, platform: Platform, payload: str
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=2)

    for path in ("/api/v1/quotes", "/api/v1/orders"):
        status, body, _ = await api.post(path, key=key, data=payload, headers=order("j"))
        assert status == 400 and body["error"]["code"] == "invalid_json", (path, body)


async def test_a_body_over_the_limit_is_413_body_too_large(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=2)
    huge = '{"sku": "STEAM-100", "quantity": 1, "pad": "' + "x" * 10_000_000 + '"}'

    for path in ("/api/v1/quotes", "/api/v1/orders"):
        status, body, _ = await api.post(path, key=key, data=huge, headers=order("big"))
        assert status == 413, path
        assert body["error"] == {
            "code": "body_too_large",
            "message": "The request body is too large (at most 65536 bytes).",
            "details": {"max_bytes": 65536},
        }
    _, zh, _ = await api.post("/api/v1/quotes", key=key, data=huge, language="zh-CN")
    assert zh["error"]["message"] == "请求体过大（最多 65536 字节）。"
    assert (await platform.balances.balance(RESELLER)).balance == 100_00


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/api/v1/quotes", {"sku": "STEAM-100", "quantity": 1, "unit_price": 1}, "unit_price"),
        ("/api/v1/orders", {"sku": "STEAM-100", "quantity": 1, "telegram_id": 1}, "telegram_id"),
        ("/api/v1/orders", {"sku": "STEAM-100", "quantity": 1, "total": 0, "Sku": "X"}, "Sku"),
    ],
)
async def test_unknown_fields_are_refused_naming_the_field(
    api: Api, platform: Platform, path: str, payload: dict[str, object], field: str
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=2)

    status, body, _ = await api.post(path, key=key, json=payload, headers=order("u"))
    assert status == 400 and body["error"]["code"] == "unknown_field"
    assert body["error"]["details"] == {"field": field}
    assert body["error"]["message"] == f"Unknown field “{field}” in the request body."
    assert (await platform.balances.balance(RESELLER)).balance == 100_00


async def test_a_quote_is_bought_once_whatever_the_idempotency_key(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=5, price=10_00, supply_price=8_00)
    _, quote, _ = await api.post(
        "/api/v1/quotes", key=key, json={"sku": "STEAM-100", "quantity": 1}
    )
    buy = {"quote_id": quote["id"]}

    status, first, _ = await api.post("/api/v1/orders", key=key, json=buy, headers=order("k1"))
    assert status == 201
    status, body, _ = await api.post("/api/v1/orders", key=key, json=buy, headers=order("k2"))
    assert status == 409 and body["error"]["code"] == "quote_used"
    assert body["error"]["details"] == {"order_id": first["id"]}
    assert str(first["id"]) in body["error"]["message"]
    status, again, _ = await api.post("/api/v1/orders", key=key, json=buy, headers=order("k1"))
    assert status == 200 and again["id"] == first["id"] and again["replayed"] is True
    assert (await platform.balances.balance(RESELLER)).balance == 90_00
    _, listed, _ = await api.get("/api/v1/orders", key=key)
    assert listed["total"] == 1


async def test_one_quote_ordered_under_many_keys_at_once_is_bought_once(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=10, price=10_00, supply_price=8_00)
    _, quote, _ = await api.post(
        "/api/v1/quotes", key=key, json={"sku": "STEAM-100", "quantity": 2}
    )

    results = await asyncio.gather(
        *(
            api.post(
                "/api/v1/orders", key=key, json={"quote_id": quote["id"]}, headers=order(f"c{n}")
            )
            for n in range(6)
        )
    )

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] + [409] * 5
    [bought] = [body for status, body, _ in results if status == 201]
    for status, body, _ in results:
        if status == 409:
            assert body["error"]["code"] == "quote_used"
            assert body["error"]["details"]["order_id"] == bought["id"]
    assert (await platform.balances.balance(RESELLER)).balance == 80_00
    assert await platform.catalogue.stock_count("STEAM-100") == 8
    assert (await check_ledger(platform.db)).ok

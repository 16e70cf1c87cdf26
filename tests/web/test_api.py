"""A reseller's shop calling the HTTP API, as its code would: keys, browsing, quotes, orders."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest
from sqlalchemy import select

from core.checks import check_ledger
from core.delivery.sources import read_bytes
from core.models import ApiKey, SkuStatus, UserStatus
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.conftest import Api
from web.app import ApiServer, RateLimit

RESELLER = 2001
OTHER = 2002


async def reseller_key(platform: Platform, telegram_id: int = RESELLER, balance: int = 0) -> str:
    await make_reseller(platform, telegram_id, balance=balance)
    return (await platform.api_keys.issue(telegram_id, actor=ADMIN)).token


def order(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def numbers(codes: list[str]) -> list[dict[str, str]]:
    """Plain codes as the API shows them: objects with just a ``number``."""
    return [{"number": code} for code in codes]


# keys and auth -----------------------------------------------------------------------------


async def test_requests_without_a_valid_key_are_refused(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform)

    status, body, headers = await api.get("/api/v1/me")
    assert status == 401 and body["error"]["code"] == "unauthorized"
    assert headers["WWW-Authenticate"] == "Bearer"
    for header in ("Basic abc", "Bearer ", "Bearer kmg_not-a-real-key", key):
        status, body, _ = await api.get("/api/v1/me", headers={"Authorization": header})
        assert status == 401, header
    status, _, _ = await api.get("/api/v1/me", key=key + "x")
    assert status == 401
    status, _, _ = await api.get("/api/v1/me", key=key)
    assert status == 200


async def test_a_new_key_replaces_the_old_and_a_revoked_key_stops_working(
    api: Api, platform: Platform
) -> None:
    first = await reseller_key(platform)
    second = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    assert second != first
    assert (await api.get("/api/v1/me", key=first))[0] == 401
    assert (await api.get("/api/v1/me", key=second))[0] == 200

    assert await platform.api_keys.revoke(RESELLER, actor=ADMIN) == 1
    assert (await api.get("/api/v1/me", key=second))[0] == 401
    assert await platform.api_keys.revoke(RESELLER, actor=ADMIN) == 0


async def test_keys_are_stored_only_as_a_digest(platform: Platform) -> None:
    key = await reseller_key(platform)
    async with platform.db.reading() as session:
        rows = list(await session.scalars(select(ApiKey)))
    assert len(rows) == 1
    assert rows[0].prefix == key[:12] and key.encode() not in rows[0].digest
    assert len(rows[0].digest) == 32


async def test_a_banned_reseller_gets_403(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform)
    await platform.catalogue.set_status(RESELLER, UserStatus.BANNED, actor=ADMIN)

    status, body, _ = await api.get("/api/v1/skus", key=key)
    assert status == 403 and body["error"]["code"] == "user_banned"
    assert body["error"]["message"] == "Your account is suspended. Please contact support."


# browsing ----------------------------------------------------------------------------------


async def test_me_shows_balance_credit_limit_level_and_currency(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=150_00)
    await platform.catalogue.set_level(RESELLER, "gold", actor=ADMIN)
    await platform.catalogue.set_credit_limit(RESELLER, 50_00, actor=ADMIN)

    status, body, _ = await api.get("/api/v1/me", key=key)
    assert status == 200
    assert body == {
        "telegram_id": RESELLER,
        "username": f"r{RESELLER}",
        "level": "gold",
        "balance": 150_00,
        "credit_limit": 50_00,
        "spendable": 200_00,
        "currency": "CNY",
    }


async def test_browse_skus_with_my_price_and_stock(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform)
    await platform.catalogue.set_level(RESELLER, "gold", actor=ADMIN)
    await make_sku(platform, "STEAM-100", stock=3, level_prices={"gold": 90_00})
    await make_sku(
        platform, "NETFLIX-1M", stock=0, price=50_00, supply_price=40_00, category="Video"
    )
    await make_sku(platform, "DRAFT-1", stock=1)
    await platform.catalogue.set_sku_status("DRAFT-1", SkuStatus.SUSPENDED, actor=ADMIN)

    status, body, _ = await api.get("/api/v1/skus", key=key)
    assert status == 200 and body["total"] == 2 and body["currency"] == "CNY"
    by_code = {item["code"]: item for item in body["items"]}
    assert by_code["STEAM-100"] == {
        "code": "STEAM-100",
        "name": "STEAM-100 card",
        "price": 90_00,
        "stock": 3,
        "in_stock": True,
    }
    assert by_code["NETFLIX-1M"]["stock"] == 0 and not by_code["NETFLIX-1M"]["in_stock"]

    _, categories, _ = await api.get("/api/v1/categories", key=key)
    assert categories["items"] == [{"name": "Steam", "skus": 1}, {"name": "Video", "skus": 1}]
    _, video, _ = await api.get("/api/v1/skus?category=video", key=key)
    assert [i["code"] for i in video["items"]] == ["NETFLIX-1M"]
    _, found, _ = await api.get("/api/v1/skus?q=steam", key=key)
    assert [i["code"] for i in found["items"]] == ["STEAM-100"]
    _, nothing, _ = await api.get("/api/v1/skus?category=Nope", key=key)
    assert nothing["items"] == [] and nothing["total"] == 0
    _, paged, _ = await api.get("/api/v1/skus?limit=1&offset=1", key=key)
    assert len(paged["items"]) == 1 and paged["total"] == 2

    status, card, _ = await api.get("/api/v1/skus/steam-100", key=key)
    assert status == 200
    assert card["price"] == 90_00 and card["face_value"] == 100_00
    assert card["category"] == "Steam" and card["promotion"] is None
    for missing in ("NOPE-1", "DRAFT-1"):
        status, body, _ = await api.get(f"/api/v1/skus/{missing}", key=key)
        assert status == 404 and body["error"]["code"] == "not_found"
    status, body, _ = await api.get("/api/v1/skus?limit=1000", key=key)
    assert status == 400 and body["error"]["code"] == "invalid_input"


# quotes and orders -------------------------------------------------------------------------


async def test_quote_has_its_breakdown(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform, balance=1000_00)
    await make_sku(platform, stock=20, price=10_00, supply_price=8_00)
    await platform.catalogue.add_quantity_break(
        sku_code="STEAM-100", min_quantity=10, discount_bps=500, actor=ADMIN
    )

    status, body, _ = await api.post(
        "/api/v1/quotes", key=key, json={"sku": "STEAM-100", "quantity": 10}
    )
    assert status == 201
    assert body["unit_price"] == 9_50 and body["total"] == 95_00
    assert body["breakdown"]["base_price"] == 10_00
    assert body["breakdown"]["quantity_break"] == {"min_quantity": 10, "discount_bps": 500}
    assert body["balance"] == 1000_00 and body["balance_after"] == 905_00
    assert body["shortfall"] == 0 and body["stock"] == 20 and body["currency"] == "CNY"
    assert body["enough_stock"] is True and body["can_confirm"] is True
    assert body["expires_at"].endswith("Z")


async def test_a_quote_says_when_stock_or_money_stops_the_purchase(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=15_00)
    await make_sku(platform, stock=3, price=10_00, supply_price=8_00)

    _, over, _ = await api.post("/api/v1/quotes", key=key, json={"sku": "STEAM-100", "quantity": 5})
    assert over["stock"] == 3 and over["enough_stock"] is False and over["can_confirm"] is False

    _, short, _ = await api.post(
        "/api/v1/quotes", key=key, json={"sku": "STEAM-100", "quantity": 2}
    )
    assert short["enough_stock"] is True and short["shortfall"] == 5_00
    assert short["can_confirm"] is False


async def test_buy_returns_codes_and_a_replay_returns_the_same_without_charging(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=100_00)
    codes = await make_sku(platform, stock=5, price=10_00, supply_price=8_00)
    request = {"sku": "STEAM-100", "quantity": 2}

    status, first, _ = await api.post("/api/v1/orders", key=key, json=request, headers=order("a1"))
    assert status == 201
    assert first["codes"] == numbers(codes[:2]) and first["total"] == 20_00
    assert first["balance_after"] == 80_00 and first["replayed"] is False

    status, again, headers = await api.post(
        "/api/v1/orders", key=key, json=request, headers=order("a1")
    )
    assert status == 200 and headers["Idempotent-Replayed"] == "true"
    assert again["id"] == first["id"] and again["codes"] == first["codes"]
    assert again["replayed"] is True
    assert (await platform.balances.balance(RESELLER)).balance == 80_00

    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 3}, headers=order("a1")
    )
    assert status == 409 and body["error"]["code"] == "idempotency_conflict"
    status, body, _ = await api.post("/api/v1/orders", key=key, json=request)
    assert status == 400 and body["error"]["code"] == "idempotency_key_required"
    assert (await platform.balances.balance(RESELLER)).balance == 80_00
    assert await platform.catalogue.stock_count("STEAM-100") == 3


async def test_a_card_number_and_its_password_come_as_one_object(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=0, price=10_00, supply_price=8_00)
    upload = "卡号,卡密,有效期\n8800-01,PW-01,2027-12-31\n8800-02,PW-02,\n".encode("gb18030")
    await platform.stock.import_codes("STEAM-100", read_bytes(upload), actor="t")

    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 2}, headers=order("c1")
    )

    assert status == 201
    assert body["codes"] == [
        {"number": "8800-01", "password": "PW-01", "expires": "2027-12-31"},
        {"number": "8800-02", "password": "PW-02"},
    ]
    _, again, _ = await api.get(f"/api/v1/orders/{body['id']}", key=key)
    assert again["codes"] == body["codes"]


async def test_buy_a_quote(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform, balance=100_00)
    codes = await make_sku(platform, stock=5, price=10_00, supply_price=8_00)
    _, quote, _ = await api.post(
        "/api/v1/quotes", key=key, json={"sku": "STEAM-100", "quantity": 1}
    )

    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"quote_id": quote["id"]}, headers=order("q1")
    )
    assert status == 201 and body["codes"] == numbers(codes[:1])
    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"quote_id": "nope"}, headers=order("q2")
    )
    assert status == 404 and body["error"]["code"] == "not_found"


async def test_an_expired_quote_is_requoted_and_nothing_is_charged(
    api: Api, platform: Platform, clock: FakeClock
) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=5, price=10_00, supply_price=8_00)
    _, quote, _ = await api.post(
        "/api/v1/quotes", key=key, json={"sku": "STEAM-100", "quantity": 1}
    )
    clock.advance(seconds=301)

    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"quote_id": quote["id"]}, headers=order("late")
    )
    assert status == 409 and body["error"]["code"] == "quote_requoted"
    assert body["error"]["details"]["reason"] == "expired"
    assert body["error"]["details"]["quote"]["id"] != quote["id"]
    assert (await platform.balances.balance(RESELLER)).balance == 100_00


async def test_concurrent_requests_with_one_key_charge_once(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=50, price=10_00, supply_price=8_00)
    request = {"sku": "STEAM-100", "quantity": 3}

    results = await asyncio.gather(
        *(
            api.post("/api/v1/orders", key=key, json=request, headers=order("same"))
            for _ in range(8)
        )
    )
    assert sorted(status for status, _, _ in results) == [200] * 7 + [201]
    assert len({body["id"] for _, body, _ in results}) == 1
    assert len({str(body["codes"]) for _, body, _ in results}) == 1
    assert (await platform.balances.balance(RESELLER)).balance == 70_00
    assert await platform.catalogue.stock_count("STEAM-100") == 47
    _, listed, _ = await api.get("/api/v1/orders", key=key)
    assert listed["total"] == 1
    assert (await check_ledger(platform.db)).ok


async def test_insufficient_balance_and_out_of_stock_are_422_with_details(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=15_00)
    await make_sku(platform, stock=1, price=10_00, supply_price=8_00)

    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 2}, headers=order("b1")
    )
    assert status == 422 and body["error"]["code"] == "insufficient_balance"
    assert body["error"]["details"]["shortfall"] == 5_00
    assert body["error"]["message"] == "Not enough balance: you are short by 5.00."

    await platform.balances.top_up(RESELLER, 100_00, idempotency_key="more", note="x", actor=ADMIN)
    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 2}, headers=order("b2")
    )
    assert status == 422 and body["error"]["code"] == "out_of_stock"
    assert body["error"]["details"] == {"sku": "STEAM-100", "available": 1, "requested": 2}
    assert (await platform.balances.balance(RESELLER)).balance == 115_00
    assert await platform.catalogue.stock_count("STEAM-100") == 1


async def test_a_key_stays_bound_to_its_request_after_the_order_is_refused(
    api: Api, platform: Platform
) -> None:
    key = await reseller_key(platform, balance=15_00)
    await make_sku(platform, stock=5, price=10_00, supply_price=8_00)
    two = {"sku": "STEAM-100", "quantity": 2}

    status, body, _ = await api.post("/api/v1/orders", key=key, json=two, headers=order("r1"))
    assert status == 422 and body["error"]["code"] == "insufficient_balance"
    status, body, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 1}, headers=order("r1")
    )
    assert status == 409 and body["error"]["code"] == "idempotency_conflict"

    await platform.balances.top_up(RESELLER, 100_00, idempotency_key="more", note="x", actor=ADMIN)
    status, body, _ = await api.post("/api/v1/orders", key=key, json=two, headers=order("r1"))
    assert status == 201 and body["quantity"] == 2 and body["balance_after"] == 95_00
    assert await platform.catalogue.stock_count("STEAM-100") == 3


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ('{"sku": "STEAM-100", "quantity": ', "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ('{"sku": "STEAM-100", "quantity": 0}', "invalid_quantity"),
        ('{"sku": "STEAM-100", "quantity": 10001}', "invalid_quantity"),
        ('{"sku": "STEAM-100", "quantity": "2"}', "invalid_quantity"),
        ('{"sku": "STEAM-100", "quantity": 1.5}', "invalid_quantity"),
        ('{"sku": "STEAM-100", "quantity": true}', "invalid_quantity"),
        ('{"quantity": 1}', "invalid_input"),
        ('{"quote_id": 5}', "invalid_input"),
    ],
)
async def test_bad_input_is_400(api: Api, platform: Platform, payload: str, code: str) -> None:
    key = await reseller_key(platform, balance=100_00)
    await make_sku(platform, stock=5)
    for path in ("/api/v1/quotes", "/api/v1/orders"):
        if path.endswith("quotes") and "quote_id" in payload:
            continue
        status, body, _ = await api.post(
            path,
            key=key,
            data=payload,
            headers={"Content-Type": "application/json", **order("bad")},
        )
        assert status == 400, (path, body)
        assert body["error"]["code"] == code
        assert body["error"]["message"]
    assert (await platform.balances.balance(RESELLER)).balance == 100_00


async def test_messages_follow_accept_language(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform, balance=1_00)
    await make_sku(platform, stock=5)
    request = {"sku": "STEAM-100", "quantity": 1}

    status, zh, headers = await api.post(
        "/api/v1/orders", key=key, json=request, headers=order("z"), language="zh-CN,zh;q=0.9"
    )
    assert status == 422 and headers["Content-Language"] == "zh-CN"
    assert zh["error"]["message"] == "余额不足：还差 91.00。"
    _, en, headers = await api.post(
        "/api/v1/orders", key=key, json=request, headers=order("e"), language="en-US,zh;q=0.5"
    )
    assert headers["Content-Language"] == "en"
    assert en["error"]["message"] == "Not enough balance: you are short by 91.00."
    _, preferred, _ = await api.get("/api/v1/skus/NOPE", key=key, language="fr, zh;q=0.4, en;q=0.8")
    assert preferred["error"]["message"].startswith("Not found")
    _, unknown, _ = await api.get("/api/v1/nowhere", key=key, language="zh")
    assert unknown["error"] == {
        "code": "route_not_found",
        "message": "没有这个接口。",
        "details": {},
    }


async def test_orders_can_be_fetched_again_with_their_codes(api: Api, platform: Platform) -> None:
    key = await reseller_key(platform, balance=100_00)
    other = await reseller_key(platform, OTHER, balance=100_00)
    codes = await make_sku(platform, stock=10, price=10_00, supply_price=8_00)
    ids = []
    for n in range(3):
        _, body, _ = await api.post(
            "/api/v1/orders",
            key=key,
            json={"sku": "STEAM-100", "quantity": n + 1},
            headers=order(f"o{n}"),
        )
        ids.append(body["id"])

    status, listed, _ = await api.get("/api/v1/orders?limit=2", key=key)
    assert status == 200 and listed["total"] == 3
    assert [o["id"] for o in listed["items"]] == [ids[2], ids[1]]
    assert "codes" not in listed["items"][0]
    _, rest, _ = await api.get("/api/v1/orders?limit=2&offset=2", key=key)
    assert [o["id"] for o in rest["items"]] == [ids[0]]

    status, detail, _ = await api.get(f"/api/v1/orders/{ids[1]}", key=key)
    assert status == 200
    assert (
        detail["codes"] == numbers(codes[1:3])
        and detail["quantity"] == 2
        and detail["status"] == "paid"
    )
    for path, who in ((f"/api/v1/orders/{ids[1]}", other), ("/api/v1/orders/abc", key)):
        status, body, _ = await api.get(path, key=who)
        assert status == 404 and body["error"]["code"] == "not_found"


async def test_each_key_has_its_own_rate_limit(
    platform: Platform, http: aiohttp.ClientSession
) -> None:
    key = await reseller_key(platform)
    other = await reseller_key(platform, OTHER)
    async with ApiServer(platform, "127.0.0.1", 0, RateLimit(per_second=0.5, burst=3)) as server:
        api = Api(http, server.base_url)
        statuses = [(await api.get("/api/v1/me", key=key))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        status, body, headers = await api.get("/api/v1/me", key=key)
        assert status == 429 and body["error"]["code"] == "rate_limited"
        assert 1 <= int(headers["Retry-After"]) <= 2
        assert (await api.get("/api/v1/me", key=other))[0] == 200


async def test_guessing_keys_is_slowed_down_per_address(
    platform: Platform, http: aiohttp.ClientSession
) -> None:
    key = await reseller_key(platform)
    limit = RateLimit(failures_per_second=0.5, failures_burst=3)
    async with ApiServer(platform, "127.0.0.1", 0, limit) as server:
        api = Api(http, server.base_url)
        guesses = [(await api.get("/api/v1/me", key=f"kmg_guess{n}"))[0] for n in range(4)]
        assert guesses == [401, 401, 401, 429]
        assert (await api.get("/api/v1/me", key=key))[0] == 200  # a valid key is not slowed


async def test_an_unexpected_error_is_500_with_a_reference_and_no_code_in_the_log(
    api: Api, platform: Platform, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await reseller_key(platform, balance=100_00)
    codes = await make_sku(platform, stock=2, price=10_00, supply_price=8_00)
    _, bought, _ = await api.post(
        "/api/v1/orders", key=key, json={"sku": "STEAM-100", "quantity": 1}, headers=order("x")
    )

    async def broken(telegram_id: int, order_id: int) -> object:
        raise RuntimeError(f"boom {codes[0]}")

    monkeypatch.setattr(platform.shop, "order", broken)
    with caplog.at_level(logging.ERROR, logger="kameng.api"):
        status, body, _ = await api.get(f"/api/v1/orders/{bought['id']}", key=key)
    assert status == 500 and body["error"]["code"] == "internal"
    reference = body["error"]["details"]["reference"]
    assert reference in body["error"]["message"]
    assert reference in caplog.text and "RuntimeError" in caplog.text
    assert codes[0] not in caplog.text

"""A reseller's shop buying a direct top-up (直充) over the HTTP API: the SKU names its
account fields, the order carries the account, bad fields are a 400 with a code, and the
order's state, account, proof and history are read back as the supplier fulfils it."""

from __future__ import annotations

from core.checks import check_ledger
from core.platform import Platform
from tests.factories import ADMIN, SUPPLIER_TID, make_direct_sku, make_reseller
from tests.web.conftest import Api

RESELLER = 2001


async def reseller_key(platform: Platform, balance: int) -> str:
    await make_reseller(platform, RESELLER, balance=balance)
    return (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token


async def test_a_direct_top_up_over_the_api_from_order_to_delivery(
    api: Api, platform: Platform
) -> None:
    await make_direct_sku(platform)
    key = await reseller_key(platform, 100_00)

    status, card, _ = await api.get("/api/v1/skus/MOBILE-50", key=key)
    assert status == 200 and card["kind"] == "direct"
    assert [f["name"] for f in card["account_fields"]] == ["phone"]
    assert card["account_fields"][0]["label_zh"] == "手机号"

    body = {"sku": "MOBILE-50", "quantity": 1, "account": {"phone": "13800138000"}}
    status, bought, _ = await api.post(
        "/api/v1/orders", key=key, json=body, headers={"Idempotency-Key": "shop-1"}
    )
    assert status == 201, bought
    assert bought["status"] == "pending" and bought["codes"] == []
    assert bought["balance_after"] == 50_50
    assert bought["fulfilment"]["account"] == {"phone": "13800138000"}
    assert [e["status"] for e in bought["fulfilment"]["events"]] == ["pending"]

    # the same key and body again: the same order, nothing charged twice
    status, again, headers = await api.post(
        "/api/v1/orders", key=key, json=body, headers={"Idempotency-Key": "shop-1"}
    )
    assert status == 200 and again["id"] == bought["id"]
    assert headers["Idempotent-Replayed"] == "true"
    # the same key for another account is another request
    other = body | {"account": {"phone": "13900139000"}}
    status, conflict, _ = await api.post(
        "/api/v1/orders", key=key, json=other, headers={"Idempotency-Key": "shop-1"}
    )
    assert status == 409 and conflict["error"]["code"] == "idempotency_conflict"

    await platform.fulfilments.complete(SUPPLIER_TID, bought["id"], proof="SN-42")
    status, seen, _ = await api.get(f"/api/v1/orders/{bought['id']}", key=key)
    assert status == 200 and seen["status"] == "delivered"
    assert seen["fulfilment"]["proof"] == "SN-42" and seen["fulfilment"]["delivered"] == 1
    assert [e["status"] for e in seen["fulfilment"]["events"]] == [
        "pending",
        "fulfilling",
        "delivered",
    ]
    status, page, _ = await api.get("/api/v1/orders", key=key)
    assert [o["status"] for o in page["items"]] == ["delivered"]
    assert (await check_ledger(platform.db)).ok


async def test_bad_account_fields_are_a_400_and_charge_nothing(
    api: Api, platform: Platform
) -> None:
    await make_direct_sku(platform)
    key = await reseller_key(platform, 100_00)

    cases = [
        ({"phone": "12345"}, "phone"),  # does not match the pattern
        ({}, "phone"),  # missing
        ({"phone": "13800138000", "pin": "1"}, "pin"),  # not a field of this SKU
        ({"phone": 13800138000}, "phone"),  # not a string
        ("13800138000", "account"),  # not an object
    ]
    for n, (account, field) in enumerate(cases):
        status, body, _ = await api.post(
            "/api/v1/orders",
            key=key,
            json={"sku": "MOBILE-50", "quantity": 1, "account": account},
            headers={"Idempotency-Key": f"bad-{n}"},
        )
        assert status == 400, (account, body)
        assert body["error"]["code"] == "invalid_account"
        assert body["error"]["details"]["field"] == field
    status, body, _ = await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "MOBILE-50", "quantity": 1},
        headers={"Idempotency-Key": "no-account"},
    )
    assert status == 400 and body["error"]["code"] == "invalid_account"
    _, me, _ = await api.get("/api/v1/me", key=key)
    assert me["balance"] == 100_00


async def test_an_optional_field_may_be_left_out_but_given_is_checked(
    api: Api, platform: Platform
) -> None:
    await make_direct_sku(
        platform, "GAME-60", fields=("uid:UID:游戏UID:[0-9]{5,12}", "zone?:Zone:区服:[0-9]{1,6}")
    )
    key = await reseller_key(platform, 100_00)

    status, card, _ = await api.get("/api/v1/skus/GAME-60", key=key)
    assert status == 200
    assert [(f["name"], f["required"]) for f in card["account_fields"]] == [
        ("uid", True),
        ("zone", False),
    ]
    status, refused, _ = await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "GAME-60", "quantity": 1, "account": {"uid": "123456", "zone": "asia"}},
        headers={"Idempotency-Key": "bad-zone"},
    )
    assert status == 400 and refused["error"]["code"] == "invalid_account"
    assert refused["error"]["details"]["field"] == "zone"
    assert refused["error"]["details"]["label_zh"] == "区服"
    status, bought, _ = await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "GAME-60", "quantity": 1, "account": {"uid": "123456"}},
        headers={"Idempotency-Key": "no-zone"},
    )
    assert status == 201, bought
    assert bought["fulfilment"]["account"] == {"uid": "123456"}

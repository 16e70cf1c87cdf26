"""An upstream's direct top-up over our API: its card asks for the fields the upstream
names, an order without them is refused (nothing bought there), with them it is placed there
carrying the account."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.platform import Platform
from core.upstreams.service import NewUpstream
from sandbox.demo_upstream import GAME_USER_ID, ZONE_ID, demo_catalogue
from sandbox.fake_upstream import Catalogue, FakeKameng, FakeProduct, Mode
from tests.factories import ADMIN, make_reseller
from tests.web.conftest import Api

RESELLER = 1001


@pytest.fixture
async def fake() -> AsyncIterator[FakeKameng]:
    catalogue = Catalogue(mode=Mode.SLOW)
    catalogue.add(FakeProduct(5, "MLBB 86", cost=18_40, direct_fields=("user_id", "zone")))
    async with FakeKameng(catalogue) as server:
        yield server


async def test_an_upstream_direct_product_over_the_api(
    api: Api, platform: Platform, fake: FakeKameng
) -> None:
    await make_reseller(platform, RESELLER, balance=100_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    new = NewUpstream("up", "kameng", fake.base_url, fake.key, "", markup_bps=800)  # type: ignore[arg-type]
    await platform.upstreams.add(new, actor=ADMIN)
    await platform.upstreams.sync("up")
    [line] = (await platform.storefront.skus(RESELLER, limit=10)).lines

    status, card, _ = await api.get(f"/api/v1/skus/{line.code}", key=key)
    assert status == 200 and card["kind"] == "direct"
    assert [f["name"] for f in card["account_fields"]] == ["user_id", "zone"]

    missing = {"sku": line.code, "quantity": 1, "account": {"user_id": "123"}}
    status, refused, _ = await api.post(
        "/api/v1/orders", key=key, json=missing, headers={"Idempotency-Key": "o-1"}
    )
    assert status == 400 and refused["error"]["code"] == "invalid_account", refused
    assert refused["error"]["details"]["field"] == "zone"
    assert not fake.catalogue.orders

    account = {"user_id": "123", "zone": "2001"}
    body = {"sku": line.code, "quantity": 1, "account": account}
    status, bought, _ = await api.post(
        "/api/v1/orders", key=key, json=body, headers={"Idempotency-Key": "o-2"}
    )
    assert status == 201, bought
    assert bought["status"] == "fulfilling" and bought["fulfilment"]["account"] == account
    [order] = fake.catalogue.orders.values()
    assert order.account == account


async def test_a_value_the_upstreams_pattern_refuses_is_refused_here_naming_the_field(
    api: Api, platform: Platform
) -> None:
    """The upstream describes its fields (the demo's Mobile Legends top-up): the card shows
    the labels and patterns, and "abc" as the game user id is a 400 naming the field and
    its labels, before anything is bought there."""
    catalogue = Catalogue()
    catalogue.add(demo_catalogue().products[104])
    async with FakeKameng(catalogue) as fake:
        await make_reseller(platform, RESELLER, balance=100_00)
        key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
        new = NewUpstream("up", "kameng", fake.base_url, fake.key, "", markup_bps=800)  # type: ignore[arg-type]
        await platform.upstreams.add(new, actor=ADMIN)
        await platform.upstreams.sync("up")
        [line] = (await platform.storefront.skus(RESELLER, limit=10)).lines

        status, card, _ = await api.get(f"/api/v1/skus/{line.code}", key=key)
        assert status == 200
        assert card["account_fields"] == [GAME_USER_ID.as_json(), ZONE_ID.as_json()]

        bad = {"sku": line.code, "quantity": 1, "account": {"user_id": "abc", "zone_id": "2001"}}
        status, refused, _ = await api.post(
            "/api/v1/orders", key=key, json=bad, headers={"Idempotency-Key": "o-1"}
        )
        assert status == 400 and refused["error"]["code"] == "invalid_account", refused
        details = refused["error"]["details"]
        assert (details["field"], details["reason"]) == ("user_id", "pattern")
        assert not catalogue.orders

        good = {
            "sku": line.code,
            "quantity": 1,
            "account": {"user_id": "12345678", "zone_id": "2001"},
        }
        status, bought, _ = await api.post(
            "/api/v1/orders", key=key, json=good, headers={"Idempotency-Key": "o-2"}
        )
        assert status == 201, bought
        [order] = catalogue.orders.values()
        assert order.account == {"user_id": "12345678", "zone_id": "2001"}

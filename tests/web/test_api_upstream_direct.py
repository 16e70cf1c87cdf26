"""An upstream's direct top-up over our API: its card asks for the fields the upstream
names, an order without them is refused (nothing bought there), with them it is placed there
carrying the account."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.platform import Platform
from core.upstreams.service import NewUpstream
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

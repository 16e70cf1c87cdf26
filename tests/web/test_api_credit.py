"""The reseller API refuses an order that would draw on an overdue or frozen credit line:
422 ``credit_blocked`` with the reason and due date, in English or Chinese; nothing charged."""

from __future__ import annotations

from core.models import Role
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku
from tests.web.conftest import Api

RESELLER = 2001
ADMIN_TID = 42


async def test_an_overdue_line_refuses_further_drawing_with_422(
    api: Api, platform: Platform, clock: FakeClock
) -> None:
    await make_reseller(platform, RESELLER, balance=10_00)
    key = (await platform.api_keys.issue(RESELLER, actor=ADMIN)).token
    await make_sku(platform, stock=3, price=10_00, supply_price=8_00)
    await platform.catalogue.ensure_user(ADMIN_TID)
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await platform.credit.grant(ADMIN_TID, RESELLER, limit=50_00, rate_bps=5, term_days=1)
    body = {"sku": "STEAM-100", "quantity": 2}  # 20.00: 10.00 drawn on the line
    status, _, _ = await api.post(
        "/api/v1/orders", key=key, json=body, headers={"Idempotency-Key": "a"}
    )
    assert status in (200, 201)

    clock.advance(days=2)  # past the due date
    status, answer, _ = await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "STEAM-100", "quantity": 1},
        headers={"Idempotency-Key": "b"},
    )
    assert status == 422 and answer["error"]["code"] == "credit_blocked"
    assert answer["error"]["details"] == {"reason": "overdue", "due_on": "2026-11-26"}
    status, answer, _ = await api.post(
        "/api/v1/orders",
        key=key,
        json={"sku": "STEAM-100", "quantity": 1},
        headers={"Idempotency-Key": "c", "Accept-Language": "zh-CN"},
    )
    assert status == 422 and "请先还款" in answer["error"]["message"]
    assert (await platform.balances.balance(RESELLER)).balance == -10_00  # nothing charged

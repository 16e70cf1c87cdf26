"""After-sales and pricing administration on a real database, through the core use cases."""

from __future__ import annotations

import asyncio

import pytest

from core.checks import check_ledger
from core.delivery.sources import read_text
from core.errors import Forbidden, InvalidState, OutOfStock
from core.models import ReportStatus, Role
from core.platform import Platform
from core.pricing_admin import PricingChange
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
ADMIN_TID = 42


async def _setup(platform: Platform, stock: int = 5) -> list[str]:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    codes = await make_sku(platform, stock=stock, price=92_00, supply_price=85_00)
    await make_reseller(platform, RESELLER, balance=500_00)
    return codes


async def test_refund_of_one_reported_code_reverses_that_line_exactly(platform: Platform) -> None:
    await _setup(platform)
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 3, idempotency_key="k")
    supplier_before = (await platform.balances.supplier(SUPPLIER_TID)).payable
    reported = await platform.aftersales.report(
        RESELLER,
        receipt.order_id,
        2,
        reason="already used",  # type: ignore[union-attr]
    )
    assert reported.admin_telegram_ids == [ADMIN_TID]
    assert await platform.aftersales.reportable_positions(RESELLER, receipt.order_id) == [1, 3]  # type: ignore[union-attr]

    done = await platform.aftersales.refund(ADMIN_TID, reported.report.id)
    again = await platform.aftersales.refund(ADMIN_TID, reported.report.id)

    assert done.report.status is ReportStatus.REFUNDED and again.already_decided
    assert done.balance_after == 500_00 - 3 * 92_00 + 92_00
    supplier_after = (await platform.balances.supplier(SUPPLIER_TID)).payable
    # 92.00 − 85.00 = 7.00 spread, half to the supplier: 88.50 gross, 3% commission → 2.66
    assert supplier_before - supplier_after == 88_50 - 2_66
    assert (await check_ledger(platform.db)).ok
    with pytest.raises(InvalidState):
        await platform.aftersales.report(RESELLER, receipt.order_id, 2, reason="again")  # type: ignore[union-attr]


async def test_replace_hands_a_new_code_and_voids_the_bad_one(platform: Platform) -> None:
    codes = await _setup(platform, stock=2)
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    reported = await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="invalid")  # type: ignore[union-attr]
    assert await platform.aftersales.reported_code(ADMIN_TID, reported.report.id) == codes[0]
    with pytest.raises(Forbidden):
        await platform.aftersales.replace(RESELLER, reported.report.id)

    done = await platform.aftersales.replace(ADMIN_TID, reported.report.id)

    assert done.new_code == codes[1]
    assert (await platform.shop.order(RESELLER, receipt.order_id)).codes == [codes[1]]  # type: ignore[union-attr]
    assert await platform.catalogue.stock_count("STEAM-100") == 0
    assert (await check_ledger(platform.db)).ok
    second = await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="also bad")  # type: ignore[union-attr]
    with pytest.raises(OutOfStock):
        await platform.aftersales.replace(ADMIN_TID, second.report.id)
    assert (await platform.aftersales.get(ADMIN_TID, second.report.id)).status is ReportStatus.OPEN


async def test_pricing_changes_reach_quotes_and_tell_listeners(platform: Platform) -> None:
    await _setup(platform)
    changes: list[PricingChange] = []
    platform.pricing_admin.on_change(changes.append)
    await platform.catalogue.set_level(RESELLER, "gold", actor=ADMIN)
    await platform.pricing_admin.set_level_price(ADMIN_TID, "STEAM-100", "gold", 90_00)
    await platform.pricing_admin.set_quantity_break(ADMIN_TID, "STEAM-100", 10, 500)
    quote = await platform.quotes.quote(RESELLER, "STEAM-100", 10)
    assert quote.unit_price == 85_50
    ladder = await platform.pricing_admin.set_tier(
        ADMIN_TID, exclusive=False, min_units=0, rate_bps=250
    )
    ladder = await platform.pricing_admin.set_spread(ADMIN_TID, 6000)
    assert ladder.spread_supplier_bps == 6000 and ladder.normal[0].rate_bps == 250
    assert [c.kind for c in changes] == ["level_price", "quantity_break", "ladder", "spread"]


async def test_two_admins_refunding_at_once_refund_once(platform: Platform) -> None:
    await _setup(platform)
    await platform.catalogue.grant_role(43, Role.ADMIN, actor=ADMIN)
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="k")
    reported = await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="bad")  # type: ignore[union-attr]

    results = await asyncio.gather(
        platform.aftersales.refund(ADMIN_TID, reported.report.id),
        platform.aftersales.refund(43, reported.report.id),
    )

    assert sorted(r.already_decided for r in results) == [False, True]
    assert (await platform.balances.balance(RESELLER)).balance == 500_00 - 92_00
    assert (await check_ledger(platform.db)).ok


async def test_a_line_refunded_by_the_shop_cannot_be_refunded_again(platform: Platform) -> None:
    await _setup(platform)
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    reported = await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="bad")  # type: ignore[union-attr]
    await platform.shop.refund(
        receipt.order_id,  # type: ignore[union-attr]
        idempotency_key="cli",
        actor=ADMIN,
    )

    with pytest.raises(InvalidState):
        await platform.aftersales.refund(ADMIN_TID, reported.report.id)

    assert (await platform.balances.balance(RESELLER)).balance == 500_00
    assert (
        await platform.aftersales.get(ADMIN_TID, reported.report.id)
    ).status is ReportStatus.OPEN
    rejected = await platform.aftersales.reject(ADMIN_TID, reported.report.id, reason="refunded")
    assert rejected.report.status is ReportStatus.REJECTED


async def test_a_password_pasted_into_a_report_is_masked_like_the_card_number(
    platform: Platform,
) -> None:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_sku(platform, stock=0, price=92_00, supply_price=85_00)
    await make_reseller(platform, RESELLER, balance=500_00)
    await platform.stock.import_codes(
        "STEAM-100", read_text("卡号,卡密\nCARD-7788,PASS-9911\n"), actor="t"
    )
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")

    reported = await platform.aftersales.report(
        RESELLER,
        receipt.order_id,  # type: ignore[union-attr]
        1,
        reason="card-7788 with PASS-9911 says used",
    )

    assert reported.report.reason == "[code] with [code] says used"

"""Withdrawal requests on a real database: limits, first decision wins under concurrency,
a refund after the request, and whose SKUs a supplier may touch."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core.checks import check_ledger
from core.errors import Forbidden, InsufficientPayable, InvalidInput, NotFound
from core.models import LedgerTransaction, Role, WithdrawalStatus
from core.platform import Platform
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
ADMINS = (42, 43, 44, 45)


async def _payable_of_two_sales(platform: Platform) -> int:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=1000_00)
    for key in ("a", "b"):
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key=key)
    for admin in ADMINS:
        await platform.catalogue.grant_role(admin, Role.ADMIN, actor=ADMIN)
    return (await platform.balances.supplier(SUPPLIER_TID)).payable


async def test_requests_cannot_exceed_the_payable_less_those_waiting(platform: Platform) -> None:
    payable = await _payable_of_two_sales(platform)
    assert payable == 2 * 85_84
    await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 100_00)
    with pytest.raises(InsufficientPayable) as short:
        await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 80_00)
    assert short.value.params["available"] == payable - 100_00
    view = await platform.supplier_payouts.earnings(SUPPLIER_TID)
    assert (view.pending_withdrawals, view.available) == (100_00, payable - 100_00)
    with pytest.raises(Forbidden):
        await platform.supplier_payouts.request_withdrawal(RESELLER, 1_00)


async def test_concurrent_admins_pay_a_request_exactly_once(platform: Platform) -> None:
    payable = await _payable_of_two_sales(platform)
    request = await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 150_00)
    decisions = await asyncio.gather(
        *(
            platform.supplier_payouts.decide(
                request.id, admin_telegram_id=admin, pay=n % 2 == 0, reason="no"
            )
            for n, admin in enumerate(ADMINS)
        )
    )
    winners = [d for d in decisions if not d.already_decided]
    assert len(winners) == 1
    final = winners[0].request.status
    assert {d.request.status for d in decisions} == {final}
    async with platform.db.reading() as session:
        withdrawals = await session.scalar(
            select(func.count()).where(LedgerTransaction.kind == "withdrawal")
        )
    expected = payable - 150_00 if final is WithdrawalStatus.PAID else payable
    assert withdrawals == (1 if final is WithdrawalStatus.PAID else 0)
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == expected
    assert (await check_ledger(platform.db)).ok


async def test_a_refund_after_the_request_stops_an_overdraft(platform: Platform) -> None:
    await _payable_of_two_sales(platform)
    request = await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 2 * 85_84)
    await platform.shop.refund(1, idempotency_key="r", actor=ADMIN)
    with pytest.raises(InsufficientPayable):
        await platform.supplier_payouts.decide(request.id, admin_telegram_id=42, pay=True)
    still = await platform.supplier_payouts.withdrawal(request.id, admin_telegram_id=42)
    assert still.status is WithdrawalStatus.PENDING
    assert (await platform.balances.supplier(SUPPLIER_TID)).payable == 85_84
    with pytest.raises(InvalidInput):  # a rejection needs a reason
        await platform.supplier_payouts.decide(request.id, admin_telegram_id=42, pay=False)
    with pytest.raises(Forbidden):
        await platform.supplier_payouts.decide(request.id, admin_telegram_id=RESELLER, pay=True)
    view = await platform.supplier_payouts.earnings(SUPPLIER_TID)
    assert [(s.order_id, s.units, s.refunded) for s in view.sales] == [(2, 1, 0), (1, 0, 1)]


async def test_a_supplier_sets_alerts_on_their_own_skus_only(platform: Platform) -> None:
    await make_sku(platform, stock=5)
    await make_sku(platform, "RIVAL-1", stock=5, supplier=901)
    result = await platform.supplier_sales.set_threshold(SUPPLIER_TID, "STEAM-100", 3)
    assert (result.threshold, result.stock) == (3, 5)
    with pytest.raises(NotFound):
        await platform.supplier_sales.set_threshold(SUPPLIER_TID, "RIVAL-1", 3)
    page = await platform.supplier_sales.products(SUPPLIER_TID)
    assert [(line.code, line.stock, line.threshold) for line in page.lines] == [("STEAM-100", 5, 3)]
    await platform.supplier_sales.set_threshold(SUPPLIER_TID, "STEAM-100", 0)
    page = await platform.supplier_sales.products(SUPPLIER_TID)
    assert page.lines[0].threshold is None

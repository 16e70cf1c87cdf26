"""``kameng ledger check`` proves the newer tables agree with the ledger and the orders: a
corrupted row fails the check with a line naming it; untouched books pass."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select, update

from core.checks import CheckReport, check_ledger
from core.models import (
    LedgerEntry,
    LedgerTransaction,
    LineStatus,
    Order,
    OrderLine,
    Role,
    SupplierDailyUnits,
    TopUpRequest,
    TopUpStatus,
    Voucher,
    WithdrawalRequest,
    WithdrawalStatus,
)
from core.orders import Receipt
from core.platform import Platform
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
ADMIN_TID = 42


async def _books(platform: Platform) -> dict[str, int]:
    """A bit of everything: sales (one partly refunded), a voucher redeemed and one not, a
    withdrawal paid and one rejected, a top-up approved and one rejected."""
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_sku(platform, stock=10)
    await make_reseller(platform, RESELLER, balance=500_00)
    first = await platform.shop.buy_now(RESELLER, "STEAM-100", 3, idempotency_key="a")
    assert isinstance(first, Receipt)
    await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="b")
    await platform.shop.refund(first.order_id, units=1, idempotency_key="r", actor=ADMIN)
    issued = await platform.vouchers.issue(ADMIN_TID, 20_00, 2)
    await platform.vouchers.redeem(RESELLER, issued.codes[0])
    paid = await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 50_00)
    await platform.supplier_payouts.decide(paid.id, admin_telegram_id=ADMIN_TID, pay=True)
    rejected = await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 10_00)
    await platform.supplier_payouts.decide(
        rejected.id, admin_telegram_id=ADMIN_TID, pay=False, reason="no"
    )
    approved = await platform.topups.request(RESELLER, 30_00)
    await platform.topups.decide(approved.id, admin_telegram_id=ADMIN_TID, approve=True)
    declined = await platform.topups.request(RESELLER, 40_00)
    await platform.topups.decide(
        declined.id, admin_telegram_id=ADMIN_TID, approve=False, reason="no"
    )
    report = await check_ledger(platform.db)
    assert report.ok, report.render()
    return {
        "voucher": issued.ids[0],
        "unused_voucher": issued.ids[1],
        "withdrawal": paid.id,
        "rejected_withdrawal": rejected.id,
        "topup": approved.id,
        "declined_topup": declined.id,
    }


async def _corrupt(platform: Platform, *statements: object) -> CheckReport:
    async with platform.db.transaction() as session:
        for statement in statements:
            await session.execute(statement)  # type: ignore[call-overload]
    return await check_ledger(platform.db)


def _failure(report: CheckReport, problem: str) -> list[str]:
    assert not report.ok
    assert list(report.problems) == [problem], report.render()
    assert f"FAIL {problem}: " in report.render()
    return report.problems[problem]


DAILY = "supplier daily units that differ from the order lines sold that day"
VOUCHERS = "vouchers without exactly one ledger transaction (redeemed) or with one (not)"
WITHDRAWALS = "withdrawal requests paid without their ledger transaction (or unpaid with one)"
TOPUPS = "top-up requests approved without their ledger transaction (or not with one)"


async def _drop_transaction(key: str) -> list[object]:
    """Statements deleting one ledger transaction and its entries (links cleared first)."""
    found = select(LedgerTransaction.id).where(LedgerTransaction.idempotency_key == key)
    return [
        update(Voucher).where(Voucher.transaction_id.in_(found)).values(transaction_id=None),
        update(WithdrawalRequest)
        .where(WithdrawalRequest.ledger_transaction_id.in_(found))
        .values(ledger_transaction_id=None),
        delete(LedgerEntry).where(LedgerEntry.transaction_id.in_(found)),
        delete(LedgerTransaction).where(LedgerTransaction.id.in_(found)),
    ]


async def test_daily_units_off_by_one_fail_with_the_supplier_and_day(platform: Platform) -> None:
    await _books(platform)
    report = await _corrupt(
        platform, update(SupplierDailyUnits).values(units=SupplierDailyUnits.units - 1)
    )
    assert _failure(report, DAILY) == [
        "supplier 1 on 2026-11-26: table says 3 units, order lines say 4"
    ]


async def test_a_daily_units_row_for_a_day_without_sales_fails(platform: Platform) -> None:
    await _books(platform)
    report = await _corrupt(
        platform,
        SupplierDailyUnits.__table__.insert().values(
            supplier_id=1, day=date(2026, 11, 20), units=7
        ),
    )
    assert _failure(report, DAILY) == [
        "supplier 1 on 2026-11-20: table says 7 units, order lines say 0"
    ]


async def test_refunded_lines_still_count_for_the_ladder(platform: Platform) -> None:
    """The ladder counts units as sold: a line refunded is still a unit of that day."""
    await _books(platform)
    for order_id in (1, 2):
        await platform.shop.refund(order_id, idempotency_key=f"all-{order_id}", actor=ADMIN)
    report = await check_ledger(platform.db)
    assert report.ok, report.render()
    report = await _corrupt(platform, delete(SupplierDailyUnits))
    assert _failure(report, DAILY) == [
        "supplier 1 on 2026-11-26: table says 0 units, order lines say 4"
    ]


async def test_a_redeemed_voucher_without_its_transaction_fails(platform: Platform) -> None:
    ids = await _books(platform)
    report = await _corrupt(platform, *await _drop_transaction(f"voucher:{ids['voucher']}"))
    # the reseller's cached balance now also disagrees; only the voucher line is asserted
    assert report.problems[VOUCHERS] == [f"voucher #{ids['voucher']}: no ledger transaction"]


async def test_a_voucher_pointing_at_another_transaction_fails(platform: Platform) -> None:
    ids = await _books(platform)
    report = await _corrupt(
        platform,
        update(Voucher).where(Voucher.id == ids["voucher"]).values(transaction_id=1),
        update(Voucher).where(Voucher.id == ids["unused_voucher"]).values(transaction_id=1),
    )
    lines = _failure(report, VOUCHERS)
    assert lines[0].startswith(f"voucher #{ids['voucher']}: points at ledger transaction #1,")
    assert lines[1] == f"voucher #{ids['unused_voucher']}: points at ledger transaction #1"


async def test_a_paid_withdrawal_without_its_transaction_fails(platform: Platform) -> None:
    ids = await _books(platform)
    report = await _corrupt(
        platform, *await _drop_transaction(f"withdraw:request-{ids['withdrawal']}")
    )
    assert report.problems[WITHDRAWALS] == [
        f"withdrawal #{ids['withdrawal']}: no ledger transaction"
    ]


async def test_a_rejected_withdrawal_with_a_transaction_fails(platform: Platform) -> None:
    ids = await _books(platform)
    rejected = ids["rejected_withdrawal"]
    report = await _corrupt(
        platform,
        update(WithdrawalRequest)
        .where(WithdrawalRequest.id == ids["withdrawal"])
        .values(status=WithdrawalStatus.PENDING, ledger_transaction_id=None),
        update(WithdrawalRequest)
        .where(WithdrawalRequest.id == rejected)
        .values(ledger_transaction_id=1),
    )
    lines = _failure(report, WITHDRAWALS)
    assert lines[0].startswith(f"withdrawal #{ids['withdrawal']}: ledger transaction #")
    assert lines[0].endswith("but should have none")
    assert lines[1] == f"withdrawal #{rejected}: points at ledger transaction #1"


async def test_an_approved_top_up_without_its_transaction_fails(platform: Platform) -> None:
    ids = await _books(platform)
    report = await _corrupt(platform, *await _drop_transaction(f"top_up:request-{ids['topup']}"))
    assert report.problems[TOPUPS] == [f"top-up request #{ids['topup']}: no ledger transaction"]


async def test_a_declined_top_up_with_a_transaction_fails(platform: Platform) -> None:
    ids = await _books(platform)
    report = await _corrupt(
        platform,
        update(TopUpRequest)
        .where(TopUpRequest.id == ids["topup"])
        .values(status=TopUpStatus.REJECTED),
    )
    [line] = _failure(report, TOPUPS)
    assert line.startswith(f"top-up request #{ids['topup']}: ledger transaction #")
    assert line.endswith("but should have none")


MONEY = "orders whose refunded lines differ from the money refunded (a unit paid back twice?)"
STATUS = "orders whose status disagrees with their lines"


async def test_an_order_marked_paid_after_a_partial_refund_fails(platform: Platform) -> None:
    await _books(platform)
    report = await _corrupt(platform, update(Order).where(Order.id == 1).values(status="paid"))
    assert _failure(report, STATUS) == ["id=1, status=paid, delivered_lines=2, lines=3"]


async def test_a_refunded_line_without_its_money_fails(platform: Platform) -> None:
    await _books(platform)
    # the refunded line of order 1 handed back as delivered: the ledger says one unit was
    # paid back, the lines say none (the code check and the status check see it too)
    report = await _corrupt(
        platform,
        update(OrderLine).where(OrderLine.order_id == 1).values(status=LineStatus.DELIVERED),
    )
    assert report.problems[MONEY] == ["order_id=1, refunded_lines_total=0, refunded_in_ledger=9200"]
    assert report.problems[STATUS] == ["id=1, status=partly_refunded, delivered_lines=3, lines=3"]

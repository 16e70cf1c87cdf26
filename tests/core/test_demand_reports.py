"""Demand reports: k-anonymity (no bucket behind fewer than k resellers), Holt's forecast and
the restock suggestion by worked examples, and the purchase charged once to platform_data."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import update

from core.demand import Bucket, DemandReport, bucket, holt_forecast, report_csv, restock
from core.errors import Forbidden, InsufficientBalance, InvalidState
from core.ledger import balance_of
from core.models import (
    PLATFORM_OWNER,
    AccountKind,
    LedgerTransaction,
    Role,
    ServiceBilling,
    ServiceKind,
)
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

ADMIN_TID = 42
SUPPLIER = 900


@pytest.mark.parametrize(
    ("units", "resellers", "k", "expected"),
    [
        (40, 5, 5, Bucket("x", 40, 5)),
        (40, 4, 5, Bucket("x", None, None)),
        (3, 3, 3, Bucket("x", 3, 3)),
        (0, 0, 5, Bucket("x", None, None)),
    ],
)
def test_a_bucket_shows_a_figure_only_behind_k_resellers(
    units: int, resellers: int, k: int, expected: Bucket
) -> None:
    assert bucket("x", units, resellers, k) == expected


@pytest.mark.parametrize(
    ("series", "forecast"),
    [
        ([10, 12, 14, 16], 18),  # a straight line goes on
        ([0, 0, 0, 0], 0),
        ([5], 5),
        ([], 0),
        ([10, 5, 0, 0], 0),  # the trend points below zero: never a negative forecast
        # a jump: level 0.5·40 + 0.5·20 = 30, trend 0.3·10 = 3 → 33
        ([20, 20, 20, 40], 33),
    ],
)
def test_holt_forecast(series: list[int], forecast: int) -> None:
    assert holt_forecast(series) == forecast


def test_restock_suggestion() -> None:
    # 56 units in 28 days: 2 a day; 10 in stock last 5 days; two weeks need 28: add 18
    assert restock("A", 10, 56) == restock("A", 10, 56)
    r = restock("A", 10, 56)
    assert (r.daily_rate, r.days_left, r.suggest) == (2.0, 5.0, 18)
    assert restock("B", None, 10).suggest == 0  # cyclic: never runs out
    assert (restock("C", 5, 0).days_left, restock("C", 5, 0).suggest) == (None, 0)
    assert restock("D", 100, 28).suggest == 0  # enough for 100 days


async def _category_with(platform: Platform, clock: FakeClock, resellers: int) -> int:
    await platform.catalogue.ensure_user(ADMIN_TID)
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_sku(platform, "STEAM-100", stock=200, supplier=SUPPLIER)
    for n in range(resellers):
        await make_reseller(platform, 2000 + n, balance=2_000_00)
    for day in range(14):
        for n in range(resellers):
            await platform.shop.buy_now(2000 + n, "STEAM-100", 1, idempotency_key=f"{day}-{n}")
        clock.advance(days=1)
    await platform.paid_services.price(
        ADMIN_TID, "demand", ServiceKind.DEMAND_REPORT, ServiceBilling.ONCE, price=40_00, days=1
    )
    return next(c.id for c in await platform.storefront.categories())


async def test_a_category_with_three_resellers_shows_no_per_bucket_figures(
    platform: Platform, clock: FakeClock
) -> None:
    category = await _category_with(platform, clock, resellers=3)
    bought = await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="d1")
    report = bought.report
    for buckets in (report.by_hour, report.by_weekday, report.by_level, report.by_week):
        assert all(b.units is None and b.resellers is None for b in buckets)
    assert report.forecast is None
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    figures = [row for row in rows[1:] if row[0] != "restock"]
    assert len(figures) == 24 + 7 + 1 + 8 + 1  # hours, weekdays, one level, weeks, forecast
    assert all(row[2] == "" and row[3] == "" for row in figures)
    # his own SKU's restock suggestion is his own data: 42 sold in 14 days
    [own] = report.restock
    assert (own.sku, own.stock, own.suggest) == ("STEAM-100", 158, 0)


async def test_a_report_is_paid_once_from_the_payable_to_platform_data(
    platform: Platform, clock: FakeClock
) -> None:
    category = await _category_with(platform, clock, resellers=5)
    before = (await platform.balances.supplier(SUPPLIER)).payable
    first = await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="d1")
    again = await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="d1")
    assert (first.replayed, again.replayed) == (False, True)
    assert (await platform.balances.supplier(SUPPLIER)).payable == before - 40_00
    async with platform.db.reading() as session:
        assert await balance_of(session, AccountKind.PLATFORM_DATA, PLATFORM_OWNER) == 40_00
    report = first.report
    # the purchases were made at 12:00 UTC, 20:00 in Shanghai: 70 units by 5 resellers
    assert [b for b in report.by_hour if b.units is not None] == [Bucket("20", 70, 5)]
    assert [b.units for b in report.by_week] == [None] * 6 + [35, 35]
    # Holt over 0 ×6, 35, 35: level 17.5 then 28.875, trend 5.25 then 7.0875 → 35.96 → 36
    assert report.forecast == 36
    [level] = report.by_level
    assert (level.label, level.units, level.resellers) == ("bronze", 70, 5)
    with pytest.raises(InvalidState):  # not through the subscriptions
        await platform.paid_services.buy(SUPPLIER, "demand", idempotency_key="x")
    await make_reseller(platform, 3000)
    with pytest.raises(Forbidden):  # a reseller is no supplier
        await platform.demand.buy(3000, "demand", category, idempotency_key="r")
    await platform.paid_services.price(
        ADMIN_TID, "demand", ServiceKind.DEMAND_REPORT, ServiceBilling.ONCE, price=9_000_00, days=1
    )
    with pytest.raises(InsufficientBalance):
        await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="dear")
    assert (await platform.balances.supplier(SUPPLIER)).payable == before - 40_00


async def test_a_double_press_charges_once_and_a_later_press_resends_the_report_as_bought(
    platform: Platform, clock: FakeClock
) -> None:
    """Buy pressed twice at once: one charge. Pressed again a day later, after more sales:
    nothing charged and the same report (as of the purchase), not a fresh one for free. The
    same key sent with another category is another purchase."""
    import asyncio

    category = await _category_with(platform, clock, resellers=5)
    before = (await platform.balances.supplier(SUPPLIER)).payable
    both = await asyncio.gather(
        *(platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="b") for _ in "12")
    )
    assert sorted(b.replayed for b in both) == [False, True]
    assert (await platform.balances.supplier(SUPPLIER)).payable == before - 40_00
    clock.advance(hours=1)
    for n in range(5):
        await platform.shop.buy_now(2000 + n, "STEAM-100", 3, idempotency_key=f"later-{n}")
    clock.advance(days=1)
    later = await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="b")
    assert later.replayed
    # the market as it was bought (the own SKUs' stock is read as it is now)
    assert _market(later.report) == _market(both[0].report)
    assert (await platform.balances.supplier(SUPPLIER)).payable == before - 40_00 + 5 * 3 * 85_84
    fresh = await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="c")
    assert not fresh.replayed and _market(fresh.report) != _market(later.report)  # today's


async def test_a_buy_button_from_before_the_key_named_the_category_does_not_charge_again(
    platform: Platform, clock: FakeClock
) -> None:
    """A report bought under the old key format (supplier and button, no category) is found
    when its Buy button is pressed after the upgrade: nothing charged again."""
    category = await _category_with(platform, clock, resellers=5)
    before = (await platform.balances.supplier(SUPPLIER)).payable
    await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="old")
    async with platform.db.transaction() as session:  # as the previous release keyed it
        await session.execute(
            update(LedgerTransaction)
            .where(LedgerTransaction.idempotency_key == f"data:{SUPPLIER}:{category}:old")
            .values(idempotency_key=f"data:{SUPPLIER}:old")
        )
    again = await platform.demand.buy(SUPPLIER, "demand", category, idempotency_key="old")
    assert again.replayed
    assert (await platform.balances.supplier(SUPPLIER)).payable == before - 40_00


def _market(report: DemandReport) -> tuple[object, ...]:
    return (report.ends_at, report.by_hour, report.by_week, report.by_level, report.forecast)

"""Admin reports agree with the ledger to the fen; the chart is a real PNG; the CSV has the
orders of the asked days and nothing else."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from PIL import Image

from core.errors import Forbidden, InvalidInput
from core.ledger import balance_of
from core.models import PLATFORM_OWNER, AccountKind, Role
from core.orders import Receipt
from core.platform import Platform
from core.reports import Period, render_sales_chart
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

ADMIN_TID = 42
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def _shop_day(platform: Platform, clock: FakeClock) -> int:
    """Sales over four days (now = 2026-11-26 20:00 Shanghai); returns one order id."""
    await make_sku(platform, stock=50, supply_price=85_00, price=92_00)
    await make_sku(
        platform, "ITUNES-50", stock=50, supply_price=45_17, price=48_33, category="Apple"
    )
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_reseller(platform, 1001, balance=5000_00)
    await make_reseller(platform, 1002, balance=5000_00)
    clock.advance(days=-3)
    await platform.shop.buy_now(1001, "STEAM-100", 2, idempotency_key="old")
    clock.advance(days=3)
    await platform.shop.buy_now(1001, "ITUNES-50", 7, idempotency_key="a")
    big = await platform.shop.buy_now(1002, "STEAM-100", 5, idempotency_key="b")
    await platform.shop.buy_now(1002, "ITUNES-50", 1, idempotency_key="c")
    assert isinstance(big, Receipt)
    await platform.shop.refund(big.order_id, units=2, idempotency_key="r", actor=ADMIN)
    return big.order_id


async def test_revenue_and_payables_equal_the_ledger_to_the_fen(
    platform: Platform, clock: FakeClock
) -> None:
    await _shop_day(platform, clock)
    month = await platform.reports.summary(ADMIN_TID, Period.MONTH)
    async with platform.db.reading() as session:
        spread = await balance_of(session, AccountKind.PLATFORM_SPREAD, PLATFORM_OWNER)
        commission = await balance_of(session, AccountKind.PLATFORM_COMMISSION, PLATFORM_OWNER)
    assert (month.spread, month.commission) == (spread, commission)
    assert month.platform_revenue == spread + commission > 0
    assert month.supplier_earned == month.supplier_payable  # nothing withdrawn yet
    assert month.gmv == 2 * 92_00 + 7 * 48_33 + 5 * 92_00 + 48_33
    assert month.refunds == 2 * 92_00
    # every fen of net sales went to the platform or a supplier
    assert month.gmv - month.refunds == month.platform_revenue + month.supplier_earned
    assert (month.orders, month.units) == (4, 15)
    assert [(r.key, r.units, r.gmv) for r in month.top_skus] == [
        ("STEAM-100", 7, 7 * 92_00),
        ("ITUNES-50", 8, 8 * 48_33),
    ]
    assert [(r.key, r.gmv) for r in month.top_resellers] == [("1001", 522_31), ("1002", 508_33)]
    assert sum(b.gmv for b in month.buckets) == month.gmv and len(month.buckets) == 30


async def test_today_leaves_out_earlier_days(platform: Platform, clock: FakeClock) -> None:
    await _shop_day(platform, clock)
    today = await platform.reports.summary(ADMIN_TID, Period.TODAY)
    week = await platform.reports.summary(ADMIN_TID, Period.WEEK)
    assert (today.orders, week.orders) == (3, 4)
    assert week.gmv - today.gmv == 2 * 92_00
    assert today.hourly and len(today.buckets) == 24
    assert [b.starts_at.hour for b in today.buckets if b.orders] == [20]  # Shanghai time


async def test_the_chart_is_a_png_that_opens(platform: Platform, clock: FakeClock) -> None:
    await _shop_day(platform, clock)
    for period in Period:
        png = render_sales_chart(await platform.reports.summary(ADMIN_TID, period))
        assert png.startswith(PNG_MAGIC)
        with Image.open(io.BytesIO(png)) as image:
            image.verify()
            assert image.format == "PNG" and image.size == (800, 400)


async def test_the_csv_has_the_orders_of_the_asked_days(
    platform: Platform, clock: FakeClock
) -> None:
    refunded = await _shop_day(platform, clock)
    export = await platform.reports.orders_csv(ADMIN_TID, date(2026, 11, 26), date(2026, 11, 26))
    assert export.filename == "orders-2026-11-26-2026-11-26.csv"
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert export.rows == len(rows) == 3
    by_id = {int(r["order_id"]): r for r in rows}
    row = by_id[refunded]
    assert row["sku_code"] == "STEAM-100" and row["quantity"] == "5" and row["total"] == "460.00"
    assert row["refunded_units"] == "2" and row["status"] == "partly_refunded"
    assert row["created_local"] == "2026-11-26 20:00:00" and row["reseller_telegram_id"] == "1002"
    for r in rows:
        parts = r["supplier_amount"], r["platform_spread"], r["platform_commission"]
        assert sum(int(p.replace(".", "")) for p in parts) == int(r["total"].replace(".", ""))
    earlier = await platform.reports.orders_csv(ADMIN_TID, date(2026, 11, 20), date(2026, 11, 25))
    assert earlier.rows == 1


async def test_a_formula_in_a_username_stays_text_in_the_csv(
    platform: Platform, clock: FakeClock
) -> None:
    await _shop_day(platform, clock)
    await platform.catalogue.ensure_user(1003, username="=HYPERLINK(1)")
    await platform.balances.top_up(1003, 100_00, idempotency_key="t", note="", actor=ADMIN)
    await platform.shop.buy_now(1003, "ITUNES-50", 1, idempotency_key="evil")
    export = await platform.reports.orders_csv(ADMIN_TID, date(2026, 11, 26), date(2026, 11, 26))
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[-1]["reseller_username"] == "'=HYPERLINK(1)"


async def test_resellers_get_no_reports(platform: Platform, clock: FakeClock) -> None:
    await _shop_day(platform, clock)
    with pytest.raises(Forbidden):
        await platform.reports.summary(1001, Period.TODAY)
    with pytest.raises(Forbidden):
        await platform.reports.orders_csv(1001, date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(InvalidInput):
        await platform.reports.orders_csv(ADMIN_TID, date(2026, 11, 30), date(2026, 11, 1))
    with pytest.raises(InvalidInput):
        await platform.reports.orders_csv(
            ADMIN_TID, date(2025, 1, 1), date(2025, 1, 1) + timedelta(days=400)
        )

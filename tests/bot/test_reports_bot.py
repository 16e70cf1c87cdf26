"""An admin reads the sales report with its chart and exports orders as CSV; a reseller
gets neither, whether by command or by a forged button."""

from __future__ import annotations

import csv
import io

from PIL import Image

from core.ledger import balance_of
from core.models import PLATFORM_OWNER, AccountKind
from core.money import format_amount
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.bot.scheduler_helpers import assert_refused
from tests.factories import make_reseller, make_sku

RESELLER = 1001


async def _sales(shop: Platform) -> None:
    await make_sku(shop, stock=20, supply_price=85_17, price=92_33)
    await make_reseller(shop, RESELLER, balance=1000_00)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 3, idempotency_key="a")
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="b")


async def test_an_admin_reads_the_report_and_its_chart(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _sales(shop)
    async with shop.db.reading() as session:
        revenue = await balance_of(
            session, AccountKind.PLATFORM_SPREAD, PLATFORM_OWNER
        ) + await balance_of(session, AccountKind.PLATFORM_COMMISSION, PLATFORM_OWNER)
    admin = server.user(ADMIN_ID, language_code="en", started=True)

    await admin.send_text("/reports")
    await admin.wait_for_message(lambda m: "which period" in m.content)
    await admin.press("7 days")
    report = await admin.wait_for_message(lambda m: "Platform revenue" in m.content)
    assert f"Platform revenue: ¥{format_amount(revenue)}" in report.content
    assert "Orders: 2 · Units: 4" in report.content and "GMV: ¥369.32" in report.content
    assert "STEAM-100" in report.content and "@r1001" in report.content
    chart = await admin.wait_for_message(lambda m: m.photo is not None)
    assert "GMV per day" in chart.content
    png = await admin.download(chart)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (800, 400)


async def test_an_admin_exports_orders_as_csv(server: FakeTelegramServer, shop: Platform) -> None:
    await _sales(shop)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    await admin.send_text("/export 2026-11")
    await admin.wait_for_message(lambda m: "Usage: /export FROM TO" in m.content)
    await admin.send_text("/export 2026-11-01 2026-11-30")
    document = await admin.wait_for_message(lambda m: m.document is not None)
    assert "2 orders from 2026-11-01 to 2026-11-30" in document.content
    assert document.document is not None
    assert document.document.file_name == "orders-2026-11-01-2026-11-30.csv"
    rows = list(csv.DictReader(io.StringIO((await admin.download(document)).decode("utf-8-sig"))))
    assert [(r["sku_code"], r["quantity"], r["total"]) for r in rows] == [
        ("STEAM-100", "3", "276.99"),
        ("STEAM-100", "1", "92.33"),
    ]
    await admin.send_text("/export 2026-12-01 2026-12-31")
    empty = await admin.wait_for_message(lambda m: m.document is not None)
    assert "0 orders" in empty.content


async def test_a_chinese_admin_reads_the_report_in_chinese(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _sales(shop)
    await shop.catalogue.set_language(ADMIN_ID, "zh-CN")
    admin = server.user(ADMIN_ID, language_code="zh-hans", started=True)
    await admin.send_text("/reports")
    await admin.wait_for_message(lambda m: "销售报表" in m.content)
    await admin.press("今天")
    report = await admin.wait_for_message(lambda m: "平台收入" in m.content)
    assert "销售 · 今天" in report.content
    await admin.wait_for_message(lambda m: m.photo is not None and "每小时成交额" in m.content)


async def test_a_reseller_gets_no_reports_by_command_or_forged_button(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _sales(shop)
    mallory = server.user(RESELLER, language_code="en", started=True)
    await assert_refused(
        mallory,
        ["/reports", "/export 2026-11-01 2026-11-30"],
        ["rep:30d", "rep:today", "rep:forever"],
    )
    assert not any(m.photo or m.document for m in mallory.messages)
    assert not any("Platform revenue" in m.content for m in mallory.messages)

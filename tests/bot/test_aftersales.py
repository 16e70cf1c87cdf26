"""Bad codes: a reseller reports one from the order detail; the supplier and the admins are
told; an admin refunds or replaces it; money and stock end exact. And forged admin buttons."""

from __future__ import annotations

from sqlalchemy import select

from bot.keyboards import admin as kb
from bot.keyboards.approvals import REJECT, ApprovalCb, ApprovalQueueCb
from core.aftersales import REFUND, REPLACE, ReportKind
from core.checks import check_ledger
from core.models import AuditRecord, OrderStatus, ReportStatus, SkuStatus, UserStatus
from core.platform import Platform
from core.topups import TopUpKind
from sandbox.fake_telegram import FakeTelegramServer, FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.factories import SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
SCREENSHOT = b"\xff\xd8\xff\xe0 not really a jpeg"


async def _report_from_order_detail(
    ann: FakeUser, order_label: str, position: int, reason: str, *, screenshot: bool
) -> None:
    await ann.send_text("/orders")
    await ann.wait_for_message(lambda m: "Your orders" in m.content)
    await ann.press(order_label)
    detail = await ann.wait_for_message(lambda m: "Status: paid" in m.content)
    await ann.press("⚠️ Report a problem", message=detail)
    await ann.wait_for_message(lambda m: "Which code" in m.content)
    await ann.press(f"Code {position}")
    await ann.wait_for_message(lambda m: "Describe the problem" in m.content)
    if screenshot:
        await ann.send_photo(SCREENSHOT, caption=reason)
    else:
        await ann.send_text(reason)
    await ann.wait_for_message(lambda m: "is with the admins (status: open)" in m.content)


async def test_a_refunded_bad_code_is_exact_for_reseller_supplier_and_ledger(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=5)  # 92.00, supply 85.00, spread 50 %, commission 3 %
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.catalogue.set_language(SUPPLIER_TID, "en")
    supplier = server.user(SUPPLIER_TID, started=True)
    admin = server.user(ADMIN_ID, started=True)
    ann = server.user(RESELLER, started=True)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 3, idempotency_key="k")
    payable = (await shop.balances.supplier(SUPPLIER_TID)).payable
    assert (await shop.balances.balance(RESELLER)).balance == 500_00 - 276_00

    pasted = f"{codes[1].lower()} already redeemed"  # the code pasted into the reason
    await _report_from_order_detail(
        ann, "#1 · 3 × STEAM-100 card · ¥276.00", 2, pasted, screenshot=True
    )

    told = await supplier.wait_for_message(lambda m: "reported a problem" in m.content, after=0)
    assert "[code] already redeemed" in told.content and "code 2" in told.content
    assert not any(code.lower() in m.content.lower() for m in supplier.messages for code in codes)
    assert not told.codes and told.photo is None
    alert = await admin.wait_for_message(lambda m: "Bad-code report #1" in m.content, after=0)
    assert alert.photo is not None and "already redeemed" in alert.content
    await admin.press("🔑 Show code", message=alert)
    shown = await admin.wait_for_message(lambda m: "Code 2 of order #1" in m.content)
    assert shown.codes == [codes[1]]

    await admin.press("💸 Refund", message=alert)
    done = await ann.wait_for_message(lambda m: "was refunded" in m.content, after=0)
    assert "refunded: ¥92.00. Balance: ¥316.00" in done.content
    await supplier.wait_for_message(lambda m: "taken off your payable" in m.content, after=0)
    await admin.press_data(alert.callback_data("💸 Refund") or "", message=alert)  # double tap
    await server.wait_callbacks_answered()

    assert (await shop.balances.balance(RESELLER)).balance == 500_00 - 276_00 + 92_00
    # 92.00: spread 7.00, half 3.50 → gross 88.50, commission ⌈2.655⌉ = 2.66 → net 85.84
    assert payable - (await shop.balances.supplier(SUPPLIER_TID)).payable == 85_84
    assert (await check_ledger(shop.db)).ok
    (report,) = await shop.aftersales.reports_for_order(RESELLER, 1)
    assert report.status is ReportStatus.REFUNDED and report.refund_amount == 92_00

    await ann.send_text("/orders")
    await ann.wait_for_message(lambda m: "Your orders" in m.content)
    await ann.press("#1 · 3 × STEAM-100 card · ¥276.00")
    detail = await ann.wait_for_message(lambda m: "Status: partly refunded" in m.content)
    assert "Report #1 on code 2: refunded" in detail.content


async def test_a_code_refunded_by_an_admin_stays_void_until_restocked_with_a_reason(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=500_00)
    await make_reseller(shop, 2002, balance=500_00)
    admin = server.user(ADMIN_ID)
    server.user(RESELLER)
    server.user(SUPPLIER_TID)
    receipt = await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    await shop.aftersales.report(RESELLER, receipt.order_id, 1, reason="used")  # type: ignore[union-attr]

    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "Admin panel" in m.content)
    await admin.press("🛠 Bad-code reports (1)")
    await admin.wait_for_message(lambda m: "Open bad-code reports: 1" in m.content)
    await admin.press("#1 · #1 · STEAM-100 · 1")
    card = await admin.wait_for_message(lambda m: "Bad-code report #1 — open" in m.content)
    await admin.press("💸 Refund", message=card)
    card = await admin.wait_for_message(lambda m: RESTOCK in m.buttons)  # the card, edited
    assert card.buttons == [RESTOCK]

    # the refund voided the code: the next buyer gets another one
    assert await shop.catalogue.stock_count("STEAM-100") == 2
    other = await shop.shop.buy_now(2002, "STEAM-100", 1, idempotency_key="o")
    assert other.codes == [codes[1]]  # type: ignore[union-attr]

    await admin.press(RESTOCK, message=card)
    await admin.wait_for_message(lambda m: "only if the supplier confirmed it unused" in m.content)
    await admin.send_text("supplier checked: never redeemed")
    await admin.wait_for_message(lambda m: "Code 1 of order #1 is back on sale" in m.content)
    assert await shop.catalogue.stock_count("STEAM-100") == 2
    (record,) = [r for r in await _audit(shop) if r.action == "code.restock"]
    assert "supplier checked: never redeemed" in record.payload and record.actor == "admin:42"

    await admin.press(RESTOCK, message=card)  # pressed again: refused, nothing changes
    await admin.wait_for_message(lambda m: "only if the supplier confirmed it unused" in m.content)
    await admin.send_text("again")
    await admin.wait_for_message(lambda m: "That code was already restocked." in m.content)
    assert await shop.catalogue.stock_count("STEAM-100") == 2
    (ann_report,) = await shop.aftersales.reports_for_order(RESELLER, 1)
    assert ann_report.status is ReportStatus.REFUNDED
    assert (await shop.shop.order(RESELLER, 1)).status is OrderStatus.REFUNDED
    report = await check_ledger(shop.db)
    assert report.ok, report.render()
    await server.wait_callbacks_answered()


RESTOCK = "♻️ Restock (supplier confirmed unused)"


async def _audit(platform: Platform) -> list[AuditRecord]:
    async with platform.db.reading() as session:
        return list(await session.scalars(select(AuditRecord).order_by(AuditRecord.id)))


async def test_a_replaced_bad_code_reaches_the_reseller_and_stock_drops_by_one(
    server: FakeTelegramServer, shop: Platform
) -> None:
    codes = await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=500_00)
    supplier = server.user(SUPPLIER_TID, started=True)
    admin = server.user(ADMIN_ID, started=True)
    ann = server.user(RESELLER, started=True)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    assert await shop.catalogue.stock_count("STEAM-100") == 2

    await _report_from_order_detail(
        ann, "#1 · 1 × STEAM-100 card · ¥92.00", 1, "says invalid", screenshot=False
    )
    await supplier.wait_for_message(lambda m: "says invalid" in m.content, after=0)
    alert = await admin.wait_for_message(lambda m: "Bad-code report #1" in m.content, after=0)
    await admin.press("🔁 Replace", message=alert)

    new = await ann.wait_for_message(lambda m: "was replaced" in m.content, after=0)
    assert new.codes == [codes[1]]
    assert await shop.catalogue.stock_count("STEAM-100") == 1
    assert (await shop.shop.order(RESELLER, 1)).codes == [codes[1]]
    assert (await shop.balances.balance(RESELLER)).balance == 500_00 - 92_00
    assert (await check_ledger(shop.db)).ok
    await ann.send_text("/orders")
    await ann.wait_for_message(lambda m: "Your orders" in m.content)
    await ann.press("#1 · 1 × STEAM-100 card · ¥92.00")
    detail = await ann.wait_for_message(lambda m: "Status: paid" in m.content)
    assert "Report #1 on code 1: replaced" in detail.content
    await server.wait_callbacks_answered()


async def test_in_a_big_order_the_code_is_picked_by_typing_its_number(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=40, price=10_00, supply_price=9_00)
    await make_reseller(shop, RESELLER, balance=500_00)
    server.user(SUPPLIER_TID, started=True)
    admin = server.user(ADMIN_ID, started=True)
    ann = server.user(RESELLER, started=True)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 30, idempotency_key="k")

    await ann.send_text("/orders")
    await ann.wait_for_message(lambda m: "Your orders" in m.content)
    await ann.press("#1 · 30 × STEAM-100 card · ¥300.00")
    await ann.wait_for_message(lambda m: "Status: paid" in m.content)
    await ann.press("⚠️ Report a problem")
    await ann.wait_for_message(lambda m: "(1–30)" in m.content)
    for wrong in ("31", "0", "9" * 4000):
        await ann.send_text(wrong)
        await ann.wait_for_message(lambda m: "(1–30)" in m.content)
    await ann.send_text("#27")
    await ann.wait_for_message(lambda m: "code 27 of order #1" in m.content)
    await ann.send_text("blank card")
    await ann.wait_for_message(lambda m: "Report #1 is with the admins" in m.content)
    await admin.wait_for_message(lambda m: "code 27" in m.content, after=0)


async def test_an_admin_rejects_with_a_reason_the_reseller_sees(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=500_00)
    admin = server.user(ADMIN_ID, started=True)
    ann = server.user(RESELLER, started=True)
    server.user(SUPPLIER_TID, started=True)
    receipt = await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    await shop.aftersales.report(RESELLER, receipt.order_id, 1, reason="meh")  # type: ignore[union-attr]

    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "Admin panel" in m.content)
    await admin.press("🛠 Bad-code reports (1)")
    await admin.wait_for_message(lambda m: "Open bad-code reports: 1" in m.content)
    await admin.press("#1 · #1 · STEAM-100 · 1")
    await admin.wait_for_message(lambda m: "Bad-code report #1 — open" in m.content)
    await admin.press("✖ Reject")
    await admin.wait_for_message(lambda m: "reason for rejecting" in m.content)
    await admin.send_text("redeemed on 11-20 by you")

    told = await ann.wait_for_message(lambda m: "was rejected" in m.content, after=0)
    assert "redeemed on 11-20 by you" in told.content
    assert (await shop.balances.balance(RESELLER)).balance == 500_00 - 92_00


async def test_forged_admin_buttons_from_a_reseller_change_nothing(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=500_00)
    await make_reseller(shop, 2002, balance=500_00)
    other = await shop.shop.buy_now(2002, "STEAM-100", 1, idempotency_key="other")
    reported = await shop.aftersales.report(2002, other.order_id, 1, reason="bad")  # type: ignore[union-attr]
    report = reported.report.id
    forged = [
        kb.AdminCb(action="home"),
        ApprovalQueueCb(kind=TopUpKind.name),
        kb.AdminUserCb(action="ban", user=2002),
        kb.AdminUserCb(action="level", user=RESELLER, level="gold"),
        kb.AdminUserCb(action="adjust", user=RESELLER),
        kb.AdminCatCb(action="add"),
        kb.AdminSkuCb(action="suspend", sku="STEAM-100"),
        kb.AdminSkuCb(action="price", sku="STEAM-100", level="bronze"),
        kb.AdminLadderCb(action="spread"),
        kb.AdminLadderCb(action="untier", tier=2),
        kb.ReportDecisionCb(action="code", report=report),
        ApprovalCb(kind=ReportKind.name, request=report, action=REFUND),
        ApprovalCb(kind=ReportKind.name, request=report, action=REPLACE),
        ApprovalCb(kind=ReportKind.name, request=report, action=REJECT),
        kb.BadCodeReportCb(action="start", order=other.order_id),  # type: ignore[union-attr]
    ]
    # Two resellers share the presses: one alone would meet the button throttle first.
    for mallory_id, batch in ((RESELLER, forged[:7]), (3003, forged[7:])):
        mallory = server.user(mallory_id, started=True)
        await mallory.send_text("/start")
        anchor = await mallory.wait_for_message(lambda m: "Welcome" in m.content)
        for callback in batch:
            query_id = await mallory.press_data(callback.pack(), message=anchor)
            answer = await mallory.wait_for_callback_answer(query_id)
            text = answer.answer_text or ""
            if isinstance(callback, ApprovalCb):  # the one approval handler: the core refuses
                assert answer.show_alert and "not allowed" in text
            else:  # an admin-only button does not exist for a reseller
                assert answer.show_alert and ("no longer valid" in text or "Not found" in text)
        await mallory.send_text("-100 gift")  # as if an adjustment prompt had been reached
        await mallory.wait_for_message()
        assert not any(m.codes for m in mallory.messages)

    assert (await shop.balances.balance(RESELLER)).balance == 500_00
    assert (await shop.balances.balance(2002)).balance == 500_00 - 92_00
    assert (await shop.catalogue.user(2002)).status is UserStatus.ACTIVE
    assert (await shop.catalogue.user(RESELLER)).level_name == "bronze"
    assert (await shop.catalogue.sku("STEAM-100")).status is SkuStatus.ACTIVE
    assert (await shop.aftersales.get(ADMIN_ID, report)).status is ReportStatus.OPEN
    assert (await shop.pricing_admin.ladder(ADMIN_ID)).spread_supplier_bps == 5000

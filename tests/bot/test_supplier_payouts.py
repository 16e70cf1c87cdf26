"""A supplier's earnings: the statement explains each split and its ladder tier; a
withdrawal goes to every admin, the first decision wins, and the ledger stays exact."""

from __future__ import annotations

from sqlalchemy import select, update

from core import audit
from core.checks import check_ledger
from core.models import (
    AuditRecord,
    CommissionTier,
    LedgerTransaction,
    Role,
    WithdrawalRequest,
    WithdrawalStatus,
)
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import outbox_settled
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
SECOND_ADMIN = 43


async def _seed_sales(shop: Platform) -> None:
    """Two orders of two units; the second reaches the next tier of a shortened ladder."""
    await make_sku(shop, stock=10)
    await shop.catalogue.set_language(SUPPLIER_TID, "en")
    async with shop.db.transaction() as session:  # an operator lowers the ladder's first step
        await session.execute(
            update(CommissionTier)
            .where(CommissionTier.exclusive.is_(False), CommissionTier.min_units == 1000)
            .values(min_units=2)
        )
    await make_reseller(shop, RESELLER, balance=1000_00)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="first")
    await shop.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="second")


async def test_the_statement_explains_each_split_and_its_ladder_tier(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _seed_sales(shop)
    sam = server.user(SUPPLIER_TID, language_code="en", started=True)
    await sam.send_text("/earnings")
    statement = await sam.wait_for_message(lambda m: "Payable balance" in m.content)
    text = statement.content
    # First order: 0 units before it → 3%: 88.50 gross − 2.66 = 85.84 × 2 = 171.68.
    # Second: 2 units before it → the 2+ tier, 2%: 88.50 − 1.77 = 86.73 × 2 = 173.46.
    assert "Payable balance: ¥345.14" in text
    assert (
        text.count("Sale price ¥92.00 − supply price ¥85.00 = spread ¥7.00; your share 50% = ¥3.50")
        == 2
    )
    assert "Commission 3% on ¥88.50: −¥2.66 → you get ¥85.84 × 2 = ¥171.68" in text
    assert "Why 3%: 0 units sold in the 30 days before, ladder tier 0–1 units" in text
    assert "Commission 2% on ¥88.50: −¥1.77 → you get ¥86.73 × 2 = ¥173.46" in text
    assert "Why 2%: 2 units sold in the 30 days before, ladder tier 2–9999 units" in text
    assert "Units sold in the last 30 days: 4 → commission 2% (tier 2–9999 units)" in text
    assert "From 10000 units the rate drops to 1%." in text
    assert text.index("#2 ·") < text.index("#1 ·")  # newest first


async def test_withdrawal_marked_paid_by_the_first_admin_moves_the_ledger_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _seed_sales(shop)
    await shop.catalogue.grant_role(SECOND_ADMIN, Role.ADMIN, actor=ADMIN)
    await shop.catalogue.set_language(SECOND_ADMIN, "en")
    sam = server.user(SUPPLIER_TID, language_code="en", started=True)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    other_admin = server.user(SECOND_ADMIN, language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/start")
    anchor = await ann.wait_for_message(lambda m: "Welcome" in m.content)

    await sam.send_text("/earnings")
    await sam.wait_for_message(lambda m: "Payable balance: ¥345.14" in m.content)
    await sam.press("💸 Request withdrawal")
    await sam.wait_for_message(lambda m: "Up to ¥345.14" in m.content)
    await sam.send_text("400")
    await sam.wait_for_message(lambda m: "more than you can withdraw now (¥345.14)" in m.content)
    await sam.send_text("300.14")
    await sam.wait_for_message(lambda m: "Withdrawal request #1 for ¥300.14" in m.content)

    request = await admin.wait_for_message(lambda m: "Withdrawal request #1" in m.content, after=0)
    assert "asks for ¥300.14 (payable ¥345.14)" in request.content
    copy = await other_admin.wait_for_message(
        lambda m: "Withdrawal request #1" in m.content, after=0
    )
    mark_paid = request.callback_data("✅ Mark paid") or ""

    forged = await ann.press_data(mark_paid, message=anchor)  # a reseller tries the button
    assert "not allowed" in ((await ann.wait_for_callback_answer(forged)).answer_text or "")
    async with shop.db.reading() as session:
        assert (await session.get(WithdrawalRequest, 1)).status is WithdrawalStatus.PENDING  # type: ignore[union-attr]

    paid = await admin.press("✅ Mark paid", message=request)
    assert (await admin.wait_for_callback_answer(paid)).answer_text == "Withdrawal #1: paid."
    late = await other_admin.press("✅ Mark paid", message=copy)
    answer = await other_admin.wait_for_callback_answer(late)
    assert answer.answer_text == "Withdrawal #1 was already decided: paid."

    done = await sam.wait_for_message(lambda m: "was paid" in m.content, after=0)
    assert "withdrawal #1 of ¥300.14 was paid. Payable balance: ¥45.00" in done.content
    assert (await shop.balances.supplier(SUPPLIER_TID)).payable == 45_00
    report = await check_ledger(shop.db)
    assert report.ok, report.render()
    async with shop.db.reading() as session:
        withdrawals = list(
            await session.scalars(
                select(LedgerTransaction).where(LedgerTransaction.kind == "withdrawal")
            )
        )
        assert [t.idempotency_key for t in withdrawals] == ["withdraw:request-1"]
        actions = list(await session.scalars(select(AuditRecord.action)))
        request_row = await session.get(WithdrawalRequest, 1)
    assert {"withdrawal.request", "withdrawal", "withdrawal.paid"} <= set(actions)
    assert request_row is not None and request_row.decided_by == ADMIN_ID
    assert request_row.ledger_transaction_id == withdrawals[0].id
    assert (await audit.verify(shop.db)).ok
    await outbox_settled(shop)
    assert len([m for m in sam.messages if "was paid" in m.content]) == 1


async def test_a_rejected_withdrawal_tells_the_supplier_why_and_moves_no_money(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _seed_sales(shop)
    sam = server.user(SUPPLIER_TID, language_code="en", started=True)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    view = await shop.supplier_payouts.request_withdrawal(SUPPLIER_TID, 100_00)

    request = await admin.wait_for_message(lambda m: f"request #{view.id}" in m.content, after=0)
    await admin.press("❌ Reject", message=request)
    await admin.wait_for_message(lambda m: "Type the reason" in m.content)
    await admin.send_text("bank account name does not match")
    await admin.wait_for_message(lambda m: "Withdrawal #1: rejected." in m.content)

    rejected = await sam.wait_for_message(lambda m: "rejected" in m.content, after=0)
    assert "bank account name does not match" in rejected.content
    assert (await shop.balances.supplier(SUPPLIER_TID)).payable == 345_14
    card = admin.current(request)  # the card keeps its text, says who rejected, why and when
    assert card.buttons == []
    assert card.content.startswith(request.content)
    assert "❌ Rejected by User at " in card.content and "(UTC+8)" in card.content
    assert card.content.endswith(": bank account name does not match")
    mark_paid = request.callback_data("✅ Mark paid")  # pressed on a stale copy of the card
    assert mark_paid is not None
    again = await admin.press_data(mark_paid, message=request)
    answer = await admin.wait_for_callback_answer(again)
    assert answer.answer_text == "Withdrawal #1 was already decided: rejected."
    assert (await shop.balances.supplier(SUPPLIER_TID)).payable == 345_14
    assert (await check_ledger(shop.db)).ok

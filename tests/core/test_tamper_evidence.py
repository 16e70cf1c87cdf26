"""The audit chain and the ledger check notice when history is edited behind their back."""

from __future__ import annotations

from sqlalchemy import text

from core import audit
from core.checks import check_ledger
from core.platform import Platform
from tests.factories import make_reseller, make_sku


async def _history(platform: Platform) -> None:
    await make_sku(platform, stock=3)
    await make_reseller(platform, 1001, balance=200_00)
    await platform.shop.buy_now(1001, "STEAM-100", 1, idempotency_key="k1")


async def test_audit_verify_names_the_first_edited_record(platform: Platform) -> None:
    await _history(platform)
    verdict = await audit.verify(platform.db)
    assert verdict.ok and verdict.records >= 6

    async with platform.db.transaction() as session:
        await session.execute(
            text(
                "UPDATE audit_log SET payload = replace(payload, '20000', '90000') "
                "WHERE action = 'top_up'"
            )
        )
        edited = (
            await session.execute(text("SELECT id FROM audit_log WHERE action = 'top_up'"))
        ).scalar_one()

    verdict = await audit.verify(platform.db)
    assert not verdict.ok
    assert verdict.broken_id == edited and verdict.reason == "record content altered"


async def test_audit_verify_notices_a_deleted_record(platform: Platform) -> None:
    await _history(platform)
    async with platform.db.transaction() as session:
        await session.execute(text("DELETE FROM audit_log WHERE id = 2"))
    verdict = await audit.verify(platform.db)
    assert not verdict.ok and verdict.broken_id == 2


async def test_ledger_check_reports_a_tampered_balance_and_a_resold_code(
    platform: Platform,
) -> None:
    await _history(platform)
    assert (await check_ledger(platform.db)).ok
    async with platform.db.transaction() as session:
        await session.execute(
            text("UPDATE accounts SET balance = balance + 1 WHERE kind = 'reseller_balance'")
        )
        await session.execute(text("UPDATE codes SET status = 'available' WHERE status = 'sold'"))

    report = await check_ledger(platform.db)

    assert not report.ok
    rendered = report.render()
    assert "cached balance differs" in rendered
    assert "delivered but not sold" in rendered

"""Vouchers: issued by an admin, redeemed once by one reseller, credited once in the ledger."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.checks import check_ledger
from core.errors import Forbidden, InvalidAmount, InvalidQuantity
from core.models import AuditRecord, LedgerTransaction, Role, Voucher
from core.platform import Platform
from core.vouchers import Redeemed, VoucherRefused
from tests.factories import ADMIN, make_reseller

ADMIN_TID = 42


async def test_one_voucher_pays_one_of_many_racing_resellers_once(platform: Platform) -> None:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    issued = await platform.vouchers.issue(ADMIN_TID, 50_00, 1)
    resellers = [7000 + n for n in range(8)]
    for telegram_id in resellers:
        await make_reseller(platform, telegram_id, balance=1_00)

    async def attempt(telegram_id: int) -> Redeemed | None:
        try:
            return await platform.vouchers.redeem(telegram_id, issued.codes[0])
        except VoucherRefused as refused:
            assert refused.params["reason"] == "used"
            return None

    results = await asyncio.gather(*(attempt(t) for t in resellers))
    winners = [(t, r) for t, r in zip(resellers, results, strict=True) if r is not None]
    assert len(winners) == 1
    winner, redeemed = winners[0]
    assert redeemed.amount == 50_00 and redeemed.posted.balance_after == 51_00
    for telegram_id in resellers:
        expected = 51_00 if telegram_id == winner else 1_00
        assert (await platform.balances.balance(telegram_id)).balance == expected

    with pytest.raises(VoucherRefused) as again:
        await platform.vouchers.redeem(winner, issued.codes[0])
    assert again.value.params == {"reason": "used", "by_you": True}
    async with platform.db.reading() as session:
        credits = list(
            await session.scalars(
                select(LedgerTransaction).where(LedgerTransaction.kind == "voucher")
            )
        )
        voucher = await session.scalar(select(Voucher))
    assert [t.idempotency_key for t in credits] == [f"voucher:{issued.ids[0]}"]
    assert voucher is not None and voucher.transaction_id == credits[0].id
    report = await check_ledger(platform.db)
    assert report.ok, report.render()


async def test_codes_are_hashed_typos_forgiven_and_refusals_clear(platform: Platform) -> None:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_reseller(platform, 7100)
    issued = await platform.vouchers.issue(ADMIN_TID, 12_34, 3)
    async with platform.db.reading() as session:
        rows = list(await session.scalars(select(Voucher)))
        audits = list(await session.execute(select(AuditRecord.action, AuditRecord.payload)))
    assert len(rows) == 3 and {r.amount for r in rows} == {12_34}
    for code in issued.codes:
        assert all(code.replace("-", "").encode() not in r.digest for r in rows)
        assert all(code not in payload for _action, payload in audits)
    assert "voucher.issue" in [action for action, _payload in audits]

    typed = " " + issued.codes[1].lower().replace("-", " ") + " "
    redeemed = await platform.vouchers.redeem(7100, typed)
    assert redeemed.posted.balance_after == 12_34
    with pytest.raises(VoucherRefused) as unknown:
        await platform.vouchers.redeem(7100, "NOPE-NOPE-NOPE")
    assert unknown.value.params == {"reason": "unknown"}
    with pytest.raises(VoucherRefused):
        await platform.vouchers.redeem(7100, "")

    with pytest.raises(Forbidden):
        await platform.vouchers.issue(7100, 10_00, 1)
    with pytest.raises(InvalidAmount):
        await platform.vouchers.issue(ADMIN_TID, 0, 1)
    with pytest.raises(InvalidQuantity):
        await platform.vouchers.issue(ADMIN_TID, 10_00, 51)

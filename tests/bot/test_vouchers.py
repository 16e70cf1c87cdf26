"""Vouchers acted out on the fake Telegram server: issued by an admin, redeemed once."""

from __future__ import annotations

from sqlalchemy import select

from core import audit
from core.checks import check_ledger
from core.models import (
    Account,
    AccountKind,
    AuditRecord,
    LedgerEntry,
    LedgerTransaction,
    Voucher,
)
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.factories import make_reseller

ANN, BOB = 1001, 1002


async def test_a_voucher_credits_one_reseller_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, ANN, balance=10_00)
    await make_reseller(shop, BOB)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(ANN, language_code="en", started=True)
    bob = server.user(BOB, language_code="en", started=True)

    await admin.send_text("/voucher fifty")
    await admin.wait_for_message(lambda m: "Usage: /voucher" in m.content)
    await admin.send_text("/voucher 50.00 2")
    issued = await admin.wait_for_message(lambda m: "2 voucher(s) of ¥50.00 each" in m.content)
    first, second = issued.codes

    await ann.send_text("/balance")
    await ann.wait_for_message(lambda m: "Balance: ¥10.00" in m.content)
    await ann.press("🎟 Redeem voucher")
    await ann.wait_for_message(lambda m: "Type the voucher code" in m.content)
    await ann.send_text(first.lower())
    await ann.wait_for_message(lambda m: "Voucher redeemed: +¥50.00. Balance: ¥60.00" in m.content)

    for who, text, expected in [
        (ann, f"/redeem {first}", "You have already redeemed that voucher."),
        (bob, f"/redeem {first}", "That voucher has already been redeemed."),
        (bob, "/redeem NOPE-NOPE-NOPE", "No voucher has that code."),
        (bob, "/redeem", "Usage: /redeem CODE"),
        (ann, "/voucher 10.00", "You are not allowed to do that."),
    ]:
        await who.send_text(text)
        reply = await who.wait_for_message()
        assert expected in reply.content, text

    assert (await shop.balances.balance(ANN)).balance == 60_00
    assert (await shop.balances.balance(BOB)).balance == 0
    await ann.send_text("/balance")
    await ann.press("📜 Statement")
    await ann.wait_for_message(lambda m: "voucher · +¥50.00" in m.content)

    async with shop.db.reading() as session:
        redeemed = await session.execute(select(Voucher).where(Voucher.redeemed_by.is_not(None)))
        (voucher,) = redeemed.scalars()
        credits = (
            await session.execute(
                select(LedgerTransaction.idempotency_key, Account.kind, LedgerEntry.amount)
                .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .join(Account, Account.id == LedgerEntry.account_id)
                .where(LedgerTransaction.kind == "voucher")
                .order_by(LedgerEntry.amount)
            )
        ).all()
        actions = list(await session.scalars(select(AuditRecord.action)))
        payloads = "".join(await session.scalars(select(AuditRecord.payload)))
    key = f"voucher:{voucher.id}"
    assert [tuple(c) for c in credits] == [
        (key, AccountKind.TOPUP_CLEARING, -50_00),
        (key, AccountKind.RESELLER_BALANCE, 50_00),
    ]
    assert actions.count("voucher.issue") == 1 and actions.count("voucher") == 1
    assert first not in payloads and second not in payloads
    assert (await check_ledger(shop.db)).ok
    assert (await audit.verify(shop.db)).ok

    await bob.send_text(f"/redeem {second}")
    await bob.wait_for_message(lambda m: "Balance: ¥50.00" in m.content)

"""The suppliers issue's acceptance story in one scenario, acted out on the fake Telegram
server by the people in it: Sam applies and is approved, gets a product rejected, fixes it
and gets it approved, stocks it from a 50,000-line file, hears about sales (instantly, in a
digest, and after a Telegram outage that never held up a buyer), reads the statement with
its ladder tier, withdraws, and the admin pays. The database is only read, to check the
money and the audit trail — never used to make a step happen."""

from __future__ import annotations

import asyncio
import os
import random
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core import audit
from core.checks import check_ledger
from core.ledger import balance_of
from core.models import (
    PLATFORM_OWNER,
    AccountKind,
    AuditRecord,
    LedgerTransaction,
    Role,
    SkuStatus,
    WithdrawalRequest,
    WithdrawalStatus,
)
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.state import ChatMessage
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import eventually, outbox_rows, outbox_settled, reject_with_reason
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import make_reseller, make_sku

SAM = 2001  # the new supplier
ANN = 1001  # a reseller
SLOW = 90.0  # seconds a 50,000-line upload may take on a busy machine

# PSN 100 HKD after the fix: supply 82.50; sale price 82.50 + 5 % = 86.625 → 86.63.
PRICE = 86_63
# Spread 4.13, half to Sam: 2.06 (the odd fen is the platform's) → gross 84.56;
# commission 3 % of 84.56 = 2.5368 → 2.54 (rounded toward the platform) → 82.02 a unit.
EARNING = 82_02


def _has(text: str) -> Any:
    return lambda m: text in m.content


def _sold(message: ChatMessage) -> bool:
    return "Sold" in message.content


def _count(user: FakeUser, what: Any) -> int:
    return len([m for m in user.messages if what(m)])


def _big_file(platform_codes: list[str]) -> tuple[bytes, dict[str, int]]:
    """50,000 lines: new codes, repeats inside the file, codes another supplier imported
    earlier, invalid lines — shuffled."""
    new = [f"PSN-{n:06d}-{n * 7919 % 100_003:05d}" for n in range(45_000)]
    repeats = new[:1_500] + new[30_000:30_500]
    invalid = ["Y" * 1_001 for _ in range(400)] + [f"BAD\x07{n}" for n in range(600)]
    lines = new + repeats + platform_codes + invalid
    random.Random(11).shuffle(lines)
    assert len(lines) == 50_000
    expected = {
        "added": len(new),
        "in_file": len(repeats),
        "on_platform": len(platform_codes),
        "invalid": len(invalid),
    }
    return ("\n".join(lines) + "\n").encode(), expected


async def _buy(ann: FakeUser, sku: str, quantity: int) -> ChatMessage:
    """Ann buys through the bot; returns her receipt (the purchase's own reply)."""
    await ann.send_text(f"/buy {sku} {quantity}")
    quote = await ann.wait_for_message(_has(f"Total: ¥{PRICE * quantity // 100}."))
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(_has("Order #"))
    assert len(receipt.codes) == quantity
    return receipt


async def _kameng(settings: Settings, tmp_path: Path, *args: str) -> str:
    """The operator's ``kameng`` command against the story's database."""
    env = {
        **os.environ,
        "KAMENG_DATABASE_URL": settings.database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_a_supplier_from_application_to_payout(
    server: FakeTelegramServer,
    shop: Platform,
    clock: FakeClock,
    settings: Settings,
    tmp_path: Path,
) -> None:
    # The world Sam joins: another supplier's SKU with 2,000 codes, and a funded reseller.
    other_codes = await make_sku(shop, "OTHER-1", stock=2_000)
    await make_reseller(shop, ANN, balance=1_000_00)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    sam = server.user(SAM, first_name="Sam", username="sam_cards", language_code="en", started=True)
    ann = server.user(
        ANN, first_name="Ann", username="ann_resells", language_code="en", started=True
    )
    await ann.send_text("/start")
    await ann.wait_for_message(_has("Welcome"))

    # 1. Sam applies; the admin approves.
    await sam.send_text("/supplier")
    await sam.wait_for_message(_has("company"))
    await sam.send_text("Sam Cards Ltd")
    await sam.wait_for_message(_has("reach you"))
    await sam.send_text("@sam_cards · PSN codes")
    await sam.wait_for_message(_has("is with the admins"))
    card = await admin.wait_for_message(_has("Supplier application #"), after=0)
    assert "Sam Cards Ltd" in card.content
    await admin.press("✅ Approve", message=card)
    await sam.wait_for_message(_has("was approved"))
    assert Role.SUPPLIER in (await shop.catalogue.user(SAM)).roles

    # 2. Sam submits a SKU; the admin rejects it with a reason.
    await sam.send_text("/newproduct")
    await sam.wait_for_message(_has("What is its name"))
    await sam.send_text("PSN 100 HKD")
    await sam.wait_for_message(_has("category"))
    await sam.send_text("PlayStation")
    await sam.wait_for_message(_has("Face value"))
    await sam.send_text("100")
    await sam.wait_for_message(_has("supply price"))
    await sam.send_text("80")
    await sam.wait_for_message(_has("cyclic"))
    await sam.press("Unique")
    await sam.wait_for_message(_has("exclusive"))
    await sam.press("Not exclusive")
    await sam.wait_for_message(_has("provenance"))
    await sam.send_text("Sony HK distributor, contract 2026-17")
    await sam.wait_for_message(_has("authorization document"))
    await sam.send_document("licence.pdf", b"%PDF-1.4 licence to resell")
    submitted = await sam.wait_for_message(_has("waiting for review"))
    sku = submitted.codes[0]
    review = await admin.wait_for_message(_has("Product review #1"), after=0)
    await reject_with_reason(admin, review, "review #1", "The licence has expired", sam)
    assert (await shop.catalogue.sku(sku)).status is SkuStatus.REJECTED

    # 3. Sam fixes it (/editproduct: new price, renewed licence); the admin approves.
    await sam.send_text(f"/editproduct {sku}")
    await sam.wait_for_message(_has("New name?"))
    await sam.press("Keep")
    await sam.wait_for_message(_has("New supply price? Now: ¥80.00"))
    await sam.send_text("82.50")
    await sam.wait_for_message(_has("New provenance note?"))
    await sam.press("Keep")
    await sam.wait_for_message(_has("authorization document"))
    await sam.send_document("licence-2027.pdf", b"%PDF-1.4 renewed licence")
    await sam.wait_for_message(_has("waiting for review (#2)"))
    second = await admin.wait_for_message(_has("Product review #2"), after=0)
    assert "Sale price if approved: ¥86.63" in second.content
    await admin.press("✅ Approve", message=second)
    approved = await sam.wait_for_message(_has("was approved and is on sale at ¥86.63"))
    assert f"/upload {sku}" in approved.content
    assert (await shop.catalogue.sku(sku)).status is SkuStatus.ACTIVE

    # 4. The 50,000-line upload: exact counts, the rejected lines come back as a file.
    await sam.send_text(f"/upload {sku}")
    await sam.wait_for_message(_has("Send the codes"))
    content, expected = _big_file(other_codes)
    await sam.send_document("codes.txt", content)
    report = await sam.wait_for_message(_has("Duplicates in the file"), timeout=SLOW)
    assert f"Added: {expected['added']}\n" in report.content
    assert f"Duplicates in the file: {expected['in_file']}\n" in report.content
    assert f"Already on the platform: {expected['on_platform']}\n" in report.content
    assert f"Invalid: {expected['invalid']}\n" in report.content
    returned = await sam.wait_for_message(lambda m: m.document is not None, timeout=SLOW)
    rows = (await sam.download(returned)).decode().splitlines()
    assert len(rows) == 50_000 - expected["added"]
    reasons = [row.split("\t")[1] for row in rows]
    assert reasons.count("duplicate in the file") == expected["in_file"]
    assert reasons.count("already on the platform") == expected["on_platform"]
    assert reasons.count("too long") == 400
    assert reasons.count("control characters") == 600
    assert await shop.catalogue.stock_count(sku) == 45_000
    assert await shop.catalogue.stock_count("OTHER-1") == 2_000  # nothing taken from it

    # 5. Ann buys one; Sam hears at once: SKU, quantity, earning — no code, no buyer.
    receipt = await _buy(ann, sku, 1)
    notice = await sam.wait_for_message(_sold, after=0)
    assert f"1 × PSN 100 HKD ({sku})" in notice.content
    assert "Your earning: ¥82.02" in notice.content
    assert "Stock left: 44999" in notice.content
    assert receipt.codes[0] not in notice.content
    for identity in (str(ANN), "Ann", "ann_resells"):
        assert identity not in notice.content
    sold_codes = list(receipt.codes)

    # 6. Sam switches to hourly digests; two more orders make no per-sale message.
    await sam.send_text("/supplier_settings")
    await sam.wait_for_message(_has("Now: Every sale, instantly"))
    await sam.press("Hourly digest")
    await sam.wait_for_message(_has("Now: Hourly digest"))
    clock.advance(minutes=10)  # 12:10
    mark = sam.mark()
    notices = _count(sam, _sold)
    sold_codes += (await _buy(ann, sku, 2)).codes
    clock.advance(minutes=20)  # 12:30
    sold_codes += (await _buy(ann, sku, 3)).codes
    await outbox_settled(shop)
    assert _count(sam, _sold) == notices

    clock.advance(hours=1)  # 13:30: the 12:00–13:00 hour is over
    digest = await sam.wait_for_message(_has("Hourly sales"), after=mark)
    assert "Hourly sales 2026-11-26 20:00 (UTC+8) – 2026-11-26 21:00 (UTC+8)" in digest.content
    # Two orders, five units, 5 × 82.02 = 410.10 (the instant sale before is not in it).
    assert "Orders: 2 · units: 5 · earnings: ¥410.10" in digest.content
    assert f"{sku} PSN 100 HKD: 2 orders, 5 units, ¥410.10" in digest.content
    for code in sold_codes:
        assert code not in digest.content
    for identity in (str(ANN), "Ann", "ann_resells"):
        assert identity not in digest.content
    await outbox_settled(shop)
    assert len([m for m in sam.messages if "Hourly sales" in m.content]) == 1

    # 7. Back to instant; Telegram cannot reach Sam for a while. Ann's purchase is not
    # held up by it: her receipt arrives; Sam's notice waits in the outbox.
    await sam.send_text("/supplier_settings")
    await sam.wait_for_message(_has("Now: Hourly digest"))
    await sam.press("Every sale, instantly")
    await sam.wait_for_message(_has("Now: Every sale, instantly"))
    mark = sam.mark()
    notices = _count(sam, _sold)
    with server.failing("sendMessage", 502, chat_id=SAM):
        outage_receipt = await _buy(ann, sku, 1)
        sold_codes += outage_receipt.codes

        async def tried() -> bool:
            rows = await outbox_rows(shop, "sale")
            return any(r.attempts >= 1 and r.outcome is None for r in rows)

        await eventually(tried, "a failed attempt to tell Sam")
        pending = [r for r in await outbox_rows(shop, "sale") if r.outcome is None]
        assert len(pending) == 1 and "Bad Gateway" in (pending[0].last_error or "")
        assert _count(sam, _sold) == notices
    clock.advance(minutes=5)  # recovered, and past the sender's backoff
    notice = await sam.wait_for_message(_sold, after=mark)
    assert "1 × PSN 100 HKD" in notice.content and "Your earning: ¥82.02" in notice.content
    assert outage_receipt.codes[0] not in notice.content
    await outbox_settled(shop)
    assert _count(sam, _sold) == notices + 1
    assert pending[0].id in [r.id for r in await outbox_rows(shop, "sale") if r.outcome == "sent"]

    # 8. The statement: every order's split and the ladder tier that priced it.
    await sam.send_text("/earnings")
    statement = await sam.wait_for_message(_has("Payable balance"))
    text = statement.content
    total = 7 * EARNING  # 574.14
    assert "Payable balance: ¥574.14" in text
    split = "Sale price ¥86.63 − supply price ¥82.50 = spread ¥4.13; your share 50% = ¥2.06"
    assert text.count(split) == 4
    assert "Commission 3% on ¥84.56: −¥2.54 → you get ¥82.02 × 1 = ¥82.02" in text
    assert "Commission 3% on ¥84.56: −¥2.54 → you get ¥82.02 × 3 = ¥246.06" in text
    for before in (0, 1, 3, 6):
        assert f"Why 3%: {before} units sold in the 30 days before, ladder tier 0–999" in text
    assert "Units sold in the last 30 days: 7 → commission 3% (tier 0–999 units)" in text
    for code in sold_codes:
        assert code not in text

    # 9. Sam withdraws 500.00; the admin marks it paid; Sam is told.
    await sam.press("💸 Request withdrawal", message=statement)
    await sam.wait_for_message(_has("Up to ¥574.14"))
    await sam.send_text("500")
    await sam.wait_for_message(_has("Withdrawal request #1 for ¥500.00"))
    request = await admin.wait_for_message(_has("Withdrawal request #1"), after=0)
    assert "asks for ¥500.00 (payable ¥574.14)" in request.content
    paid = await admin.press("✅ Mark paid", message=request)
    assert (await admin.wait_for_callback_answer(paid)).answer_text == "Withdrawal #1: paid."
    done = await sam.wait_for_message(_has("was paid"), after=0)
    assert "withdrawal #1 of ¥500.00 was paid. Payable balance: ¥74.14" in done.content

    # 10. The books, to the fen.
    assert total - 500_00 == 74_14
    assert (await shop.balances.supplier(SAM)).payable == 74_14
    assert (await shop.balances.balance(ANN)).balance == 1_000_00 - 7 * PRICE  # 393.59
    async with shop.db.reading() as session:
        spread = await balance_of(session, AccountKind.PLATFORM_SPREAD, PLATFORM_OWNER)
        commission = await balance_of(session, AccountKind.PLATFORM_COMMISSION, PLATFORM_OWNER)
        paid_out = await balance_of(session, AccountKind.PAYOUT_CLEARING, PLATFORM_OWNER)
    # A unit: 86.63 = 82.02 to Sam + 2.07 platform spread (4.13 − 2.06) + 2.54 commission.
    assert (spread, commission) == (7 * 2_07, 7 * 2_54)
    assert 7 * PRICE == total + spread + commission
    assert abs(paid_out) == 500_00
    ledger = await check_ledger(shop.db)
    assert ledger.ok, ledger.render()
    async with shop.db.reading() as session:
        request_row = await session.get(WithdrawalRequest, 1)
        withdrawal = await session.scalar(
            select(LedgerTransaction).where(LedgerTransaction.kind == "withdrawal")
        )
        actions = list(await session.scalars(select(AuditRecord.action)))
    assert request_row is not None and request_row.status is WithdrawalStatus.PAID
    assert request_row.decided_by == ADMIN_ID
    assert withdrawal is not None and request_row.ledger_transaction_id == withdrawal.id
    for action in (
        "supplier.apply",
        "supplier.approve",
        "sku.submit",
        "sku.review.reject",
        "sku.edit",
        "sku.review.approve",
        "codes.import",
        "withdrawal.request",
        "withdrawal.paid",
    ):
        assert action in actions, action
    assert (await audit.verify(shop.db)).ok
    assert "chain intact" in await _kameng(settings, tmp_path, "audit", "verify")
    assert "OK" in await _kameng(settings, tmp_path, "ledger", "check")
    await outbox_settled(shop)
    assert len([m for m in sam.messages if "was paid" in m.content]) == 1

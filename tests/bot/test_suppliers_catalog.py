"""A supplier's way onto the platform, acted out against the fake Telegram server: apply,
get approved, submit a product, get it rejected, fix it, get it approved, stock it from a
big file while resellers keep buying."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable
from typing import Any

import pytest
from sqlalchemy import select

from core import audit
from core.delivery.importer import ImportReport
from core.models import AuditRecord, CodeImport, Role, SkuStatus, StockKind
from core.platform import Platform
from core.reviews import NewProduct
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.state import ChatMessage
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import reject_with_reason
from tests.factories import SUPPLIER_TID, make_reseller, make_sku, make_supplier
from tests.sandbox.helpers import PNG_1x1

SAM = 2001
RESELLER = 1001
SLOW = 60.0  # seconds a 50,000-line upload may take on a busy machine


def _has(text: str) -> Any:
    return lambda m: text in m.content


async def _become_supplier(server: FakeTelegramServer, shop: Platform) -> ChatMessage:
    """Sam applies and the admin approves; returns the admin's application card."""
    sam = server.user(SAM, first_name="Sam", username="sam", language_code="en", started=True)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    await sam.send_text("/supplier")
    await sam.wait_for_message(_has("company"))
    await sam.send_text("Sam Cards Ltd")
    await sam.wait_for_message(_has("reach you"))
    await sam.send_text("@sam · PSN and Steam codes")
    await sam.wait_for_message(_has("is with the admins"))
    card = await admin.wait_for_message(_has("Supplier application #"), after=0)
    assert "Sam Cards Ltd" in card.content and "@sam" in card.content

    await sam.send_text("/supplier")  # a pending applicant cannot apply twice
    await sam.wait_for_message(_has("still waiting for a decision"))
    return card


async def _submit_product(server: FakeTelegramServer) -> ChatMessage:
    sam = server.user(SAM, started=True)
    await sam.send_text("/newproduct")
    await sam.wait_for_message(_has("What is its name"))
    await sam.send_text("PSN " * 40)
    await sam.wait_for_message(_has("Please type 1 to 128 characters"))
    await sam.send_text("PSN 100 HKD")
    ask = await sam.wait_for_message(_has("category"))
    assert "Steam" in ask.buttons  # the existing categories, to pick from
    await sam.send_text("PlayStation")  # or a new one, typed
    await sam.wait_for_message(_has("Face value"))
    await sam.send_text("100")
    await sam.wait_for_message(_has("supply price"))
    await sam.send_text("120")  # above the face value
    await sam.wait_for_message(_has("not a valid amount"))
    await sam.send_text("80")
    await sam.wait_for_message(_has("cyclic"))
    await sam.press("Unique")
    await sam.wait_for_message(_has("exclusive"))
    await sam.press("Not exclusive")
    await sam.wait_for_message(_has("provenance"))
    await sam.send_text("Sony HK distributor, contract 2026-17")
    await sam.wait_for_message(_has("authorization document"))
    await sam.send_document("licence.pdf", b"%PDF-1.4 licence to resell")
    return await sam.wait_for_message(_has("waiting for review"))


def _big_file(platform_codes: list[str]) -> tuple[bytes, dict[str, int]]:
    """50,000 lines: new codes, repeats inside the file (next to each other and far apart),
    codes already on the platform, and invalid lines, shuffled."""
    new = [f"SAM-{n:06d}-{n * 7919 % 100_003:05d}" for n in range(45_000)]
    repeats = new[:1_000] + new[20_000:21_000]
    invalid = ["X" * 1_001 for _ in range(500)] + [f"BAD\x07{n}" for n in range(500)]
    lines = new + repeats + platform_codes + invalid
    random.Random(7).shuffle(lines)
    expected = {
        "added": len(new),
        "in_file": len(repeats),
        "on_platform": len(platform_codes),
        "invalid": len(invalid),
    }
    assert len(lines) == 50_000
    return ("\n".join(lines) + "\n").encode(), expected


@pytest.fixture
def paused_upload(shop: Platform, monkeypatch: pytest.MonkeyPatch) -> dict[str, asyncio.Event]:
    """Holds every upload from the bot at line 25,001 (after several batches are committed)
    until the test sets ``resume`` — so "a purchase while an upload runs" is certain, not a
    race against a fast machine. The importer itself is the real one."""
    events = {"paused": asyncio.Event(), "resume": asyncio.Event()}
    original = shop.stock.import_codes

    async def held(lines: Iterable[str]) -> AsyncIterator[str]:
        for number, line in enumerate(lines, 1):
            if number == 25_001:
                events["paused"].set()
                await events["resume"].wait()
            yield line

    async def import_codes(sku_code: str, lines: Any, **options: Any) -> ImportReport:
        return await original(sku_code, held(lines), **options)

    monkeypatch.setattr(shop.stock, "import_codes", import_codes)
    return events


async def test_supplier_is_approved_gets_a_product_reviewed_and_stocks_it_while_sales_go_on(
    server: FakeTelegramServer, shop: Platform, paused_upload: dict[str, asyncio.Event]
) -> None:
    other_codes = await make_sku(shop, "OTHER-1", stock=1_997)  # another supplier's stock
    await make_reseller(shop, RESELLER, balance=1_000_00)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    sam = server.user(SAM, first_name="Sam", username="sam", language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/start")
    await ann.wait_for_message(_has("Welcome"))

    # 1. Sam applies; a reseller's forged press on the admin's button is refused.
    card = await _become_supplier(server, shop)
    forged = await ann.press_data(card.callback_data("✅ Approve") or "")
    assert "not allowed" in (await ann.wait_for_callback_answer(forged)).answer_text
    assert Role.SUPPLIER not in (await shop.catalogue.user(SAM)).roles
    await admin.press("✅ Approve", message=card)
    await sam.wait_for_message(_has("application #1 was approved"))
    assert Role.SUPPLIER in (await shop.catalogue.user(SAM)).roles

    # 2. A product goes to review: not on sale; the admin rejects it with a reason.
    submitted = await _submit_product(server)
    code = submitted.codes[0]
    assert (await shop.catalogue.sku(code)).status is SkuStatus.PENDING_REVIEW
    review = await admin.wait_for_message(_has("Product review #1"), after=0)
    assert review.document is not None  # the authorization file, for the admin to check
    assert "Sale price if approved: ¥84.00" in review.content  # 80.00 + 5%
    assert "Sony HK distributor" in review.content
    forged = await ann.press_data(review.callback_data("✅ Approve") or "")
    assert "not allowed" in (await ann.wait_for_callback_answer(forged)).answer_text
    await reject_with_reason(admin, review, "review #1", "The licence has expired", sam)
    assert (await shop.catalogue.sku(code)).status is SkuStatus.REJECTED

    # 3. Sam fixes it (new price, new authorization photo) and resubmits; approved.
    await sam.send_text(f"/editproduct {code}")
    await sam.wait_for_message(_has("New name?"))
    await sam.press("Keep")
    asked = await sam.wait_for_message(_has("New supply price? Now: ¥80.00"))
    assert "before the platform's commission at your ladder tier" in asked.content
    await sam.send_text("82.50")
    await sam.wait_for_message(_has("New provenance note?"))
    await sam.press("Keep")
    await sam.wait_for_message(_has("authorization document"))
    await sam.send_photo(PNG_1x1, caption="renewed licence")
    await sam.wait_for_message(_has("waiting for review (#2)"))
    second = await admin.wait_for_message(_has("Product review #2"), after=0)
    assert second.photo is not None
    assert "Sale price if approved: ¥86.63" in second.content  # 82.50 + 5%, rounded up
    await admin.press("✅ Approve", message=second)
    approved = await sam.wait_for_message(_has("was approved and is on sale at ¥86.63"))
    assert f"/upload {code}" in approved.content
    await admin.press_data(second.callback_data("✅ Approve") or "", message=second)
    assert (await shop.catalogue.sku(code)).status is SkuStatus.ACTIVE
    page = await shop.storefront.skus(RESELLER)
    assert [(line.code, line.my_price) for line in page.lines if line.code == code] == [
        (code, 86_63)
    ]

    # 4. Stock: three pasted codes, then a 50,000-line file.
    await sam.send_text(f"/upload {code}")
    await sam.wait_for_message(_has("Send the codes"))
    await sam.send_text("PASTED-1\nPASTED-2\nPASTED-3")
    await sam.wait_for_message(_has("Added: 3"))
    await sam.send_text(f"/upload {code}")
    await sam.wait_for_message(_has("Send the codes"))
    content, expected = _big_file([*other_codes, "PASTED-1", "PASTED-2", "PASTED-3"])
    await sam.send_document("codes.txt", content)
    progress = await sam.wait_for_message(_has("Uploading to"))

    # 5. While the upload is part-way, a reseller buys from the same SKU.
    await asyncio.wait_for(paused_upload["paused"].wait(), SLOW)
    await ann.send_text(f"/buy {code} 1")
    quote = await ann.wait_for_message(_has("Total: ¥86.63"))
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(_has("Order #"))
    assert receipt.codes == ["PASTED-1"]
    async with shop.db.reading() as session:
        running = await session.scalar(select(CodeImport).where(CodeImport.finished_at.is_(None)))
    assert running is not None  # the upload had not finished when the sale went through
    paused_upload["resume"].set()

    report = await sam.wait_for_message(_has("Duplicates in the file"), timeout=SLOW)
    assert f"Added: {expected['added']}\n" in report.content
    assert f"Duplicates in the file: {expected['in_file']}\n" in report.content
    assert f"Already on the platform: {expected['on_platform']}\n" in report.content
    assert f"Invalid: {expected['invalid']}\n" in report.content
    returned = await sam.wait_for_message(lambda m: m.document is not None, timeout=SLOW)
    rows = (await sam.download(returned)).decode().splitlines()
    assert len(rows) == sum(expected.values()) - expected["added"]
    reasons = [row.split("\t")[1] for row in rows]
    assert reasons.count("duplicate in the file") == expected["in_file"]
    assert reasons.count("already on the platform") == expected["on_platform"]
    assert reasons.count("too long") + reasons.count("control characters") == 1_000
    assert any(row.endswith("\tPASTED-2") for row in rows)

    edits = [
        call
        for call in server.calls("editMessageText")
        if call["message_id"] == progress.message_id
    ]
    assert len(edits) >= 2  # progress shown by editing the one message
    assert "finished: 50000 lines read" in sam.current(progress).content
    assert await shop.catalogue.stock_count(code) == 3 + expected["added"] - 1

    # 6. Everything is on the record, and the record holds.
    async with shop.db.reading() as session:
        actions = list(await session.scalars(select(AuditRecord.action)))
    for action in (
        "supplier.apply",
        "supplier.approve",
        "sku.submit",
        "sku.review.reject",
        "sku.edit",
        "sku.review.approve",
        "codes.import",
    ):
        assert action in actions
    assert (await audit.verify(shop.db)).ok


async def test_suppliers_cannot_touch_other_suppliers_products(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, "STEAM-100", stock=2)  # belongs to supplier SUPPLIER_TID
    await make_supplier(shop, SAM)
    await shop.catalogue.set_language(SAM, "en")
    sam = server.user(SAM, language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", started=True)

    for command in ("/upload STEAM-100", "/editproduct STEAM-100", "/upload NOPE-1"):
        await sam.send_text(command)
        await sam.wait_for_message(_has("not one of your products"))
    await sam.send_text("/upload")
    await sam.wait_for_message(_has("Usage: /upload SKU"))
    mine = await shop.reviews.submit(
        SAM,
        NewProduct("Mine", "Steam", 10_00, 9_00, StockKind.UNIQUE, False, "own stock"),
    )
    await sam.send_text(f"/upload {mine.sku_code}")
    await sam.wait_for_message(_has("Send the codes"))
    await sam.send_document("codes.xlsx", b"PK\x03\x04 not a text file")
    await sam.wait_for_message(_has("Please send a .txt or .csv file"))

    await ann.send_text("/newproduct")
    await ann.wait_for_message(_has("Only suppliers can do that"))
    await ann.send_text("/upload STEAM-100")
    await ann.wait_for_message(_has("Only suppliers can do that"))
    assert await shop.catalogue.stock_count("STEAM-100") == 2
    assert SUPPLIER_TID != SAM


async def test_rejected_applicant_is_told_why_and_a_second_decision_changes_nothing(
    server: FakeTelegramServer, shop: Platform
) -> None:
    second_admin = 43
    await shop.catalogue.grant_role(second_admin, Role.ADMIN, actor="test")
    await shop.catalogue.set_language(second_admin, "en")
    other = server.user(second_admin, language_code="en", started=True)
    card = await _become_supplier(server, shop)
    admin = server.user(ADMIN_ID, started=True)
    other_card = await other.wait_for_message(_has("Supplier application #"), after=0)

    sam = server.user(SAM, started=True)
    await reject_with_reason(admin, card, "application #1", "No business licence attached", sam)

    late = await other.press("✅ Approve", message=other_card)
    assert "already decided: rejected" in (await other.wait_for_callback_answer(late)).answer_text
    assert Role.SUPPLIER not in (await shop.catalogue.user(SAM)).roles

    await sam.send_text("/supplier")  # rejected, so free to apply again
    await sam.wait_for_message(_has("company"))
    assert (await audit.verify(shop.db)).ok


async def test_changing_an_active_product_takes_it_off_sale_until_approved_again(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await shop.catalogue.ensure_user(SAM, language="zh-CN")
    application = await shop.onboarding.apply(SAM, company_name="Sam Cards", contact_note="-")
    await shop.onboarding.decide(application.id, admin_telegram_id=ADMIN_ID, approve=True)
    product = NewProduct(
        name="Netflix 1 month",
        category="Video",
        face_value=60_00,
        supply_price=50_00,
        stock_kind=StockKind.CYCLIC,
        exclusive=True,
        provenance="reseller contract",
    )
    first = await shop.reviews.submit(SAM, product)
    await shop.reviews.decide(first.id, admin_telegram_id=ADMIN_ID, approve=True)
    await shop.supplier_stock.upload(SAM, first.sku_code, ["https://share.example/netflix"])
    await make_reseller(shop, RESELLER, balance=500_00)
    sam = server.user(SAM, language_code="zh-hans", started=True)  # the supplier works in Chinese
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", started=True)

    await sam.send_text(f"/editproduct {first.sku_code}")  # nothing changed: stays on sale
    for question in ("新名称", "新供货价", "来源说明", "授权文件"):
        await sam.wait_for_message(_has(question))
        await sam.press("保持不变")
    await sam.wait_for_message(_has("没有改动"))
    assert (await shop.catalogue.sku(first.sku_code)).status is SkuStatus.ACTIVE

    await sam.send_text(f"/editproduct {first.sku_code}")
    await sam.wait_for_message(_has("新名称"))
    await sam.send_text("Netflix Premium 1 month")
    await sam.wait_for_message(_has("新供货价"))
    await sam.press("保持不变")
    await sam.wait_for_message(_has("来源说明"))
    await sam.press("保持不变")
    await sam.wait_for_message(_has("授权文件"))
    await sam.press("保持不变")
    await sam.wait_for_message(_has("正在等待审核"))
    assert (await shop.catalogue.sku(first.sku_code)).status is SkuStatus.PENDING_REVIEW

    await ann.send_text(f"/buy {first.sku_code} 1")  # off sale while under review
    await ann.wait_for_message(_has("not for sale"))

    card = await admin.wait_for_message(_has("Netflix Premium 1 month"), after=0)
    assert "(changed)" in card.content and "exclusive: yes" in card.content
    await admin.press("✅ Approve", message=card)
    # the first approval (decided in the core above) is told through the outbox too
    await sam.wait_for_message(lambda m: "已通过审核" in m.content and "Premium" in m.content)
    await ann.send_text(f"/buy {first.sku_code} 1")
    quote = await ann.wait_for_message(_has("Total: ¥52.50"))
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(_has("Order #"))
    assert receipt.codes == ["https://share.example/netflix"]
    assert (await audit.verify(shop.db)).ok


async def test_an_upload_finishes_when_telegram_refuses_progress_edits(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_supplier(shop, SAM)
    await shop.catalogue.set_language(SAM, "en")
    mine = await shop.reviews.submit(
        SAM, NewProduct("Mine", "Steam", 10_00, 9_00, StockKind.UNIQUE, False, "own stock")
    )
    sam = server.user(SAM, language_code="en", started=True)
    server.fail_until_cleared("editMessageText", 429, retry_after=30)  # flood control

    await sam.send_text(f"/upload {mine.sku_code}")
    await sam.wait_for_message(_has("Send the codes"))
    lines = [f"MINE-{n:05d}" for n in range(30_000)] + ["MINE-00007", ""]
    await sam.send_document("codes.csv", ("\n".join(lines) + "\n").encode())
    report = await sam.wait_for_message(_has("Duplicates in the file"), timeout=SLOW)
    assert "Added: 30000\nDuplicates in the file: 1\n" in report.content
    assert server.calls("editMessageText")  # it tried, was refused, and carried on
    assert await shop.catalogue.stock_count(mine.sku_code) == 30_000


async def test_an_upload_report_sent_later_goes_through_the_sender_and_its_retries(
    server: FakeTelegramServer, shop: Platform
) -> None:
    """The report and its file come when the import ends, not as the answer to Sam's message:
    the one Sender sends them, so Telegram failing once delays the file and it still arrives
    exactly once."""
    await make_supplier(shop, SAM)
    await shop.catalogue.set_language(SAM, "en")
    mine = await shop.reviews.submit(
        SAM, NewProduct("Mine", "Steam", 10_00, 9_00, StockKind.UNIQUE, False, "own stock")
    )
    sam = server.user(SAM, language_code="en", started=True)
    await sam.send_text(f"/upload {mine.sku_code}")
    await sam.wait_for_message(_has("Send the codes"))
    # the rejected lines' file, sent after the report (the progress message before it is the
    # answer to Sam's message: failing every sendMessage would fail that instead)
    server.fail("sendDocument", times=1, error_code=502, chat_id=SAM)
    await sam.send_text("MINE-1\nMINE-2\nMINE-2\n")
    report = await sam.wait_for_message(_has("Duplicates in the file"))
    assert "Added: 2\nDuplicates in the file: 1\n" in report.content
    await sam.wait_for_message(lambda m: m.document is not None)
    assert sum("Duplicates in the file" in m.content for m in sam.messages) == 1
    assert len([m for m in sam.messages if m.document is not None]) == 1

"""Requests an admin must decide, and decisions a requester waits for, survive a Telegram
outage: promised through the outbox when filed or decided, delayed while Telegram fails,
delivered exactly once after it recovers — acted out on the fake Telegram server."""

from __future__ import annotations

from typing import Any

import pytest

from core.approvals import DECIDED_NOTICE, REQUEST_NOTICE
from core.models import Role, StockKind
from core.platform import Platform
from core.reviews import NewProduct
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import eventually, outbox_rows, outbox_settled
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku, make_supplier
from tests.sandbox.helpers import PNG_1x1

ANN, SAM, RESELLER = 3001, 2001, 1001


def _has(text: str) -> Any:
    return lambda m: text in m.content


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"registration": "approval"})


async def _failed_once(shop: Platform, kind: str) -> None:
    """The outbox tried the notice, Telegram failed, and it waits for its retry."""

    async def tried() -> bool:
        rows = [r for r in await outbox_rows(shop, kind) if r.outcome is None]
        return any(r.attempts >= 1 for r in rows)

    await eventually(tried, f"a failed attempt to send {kind}")
    pending = [r for r in await outbox_rows(shop, kind) if r.outcome is None]
    assert pending and all("Bad Gateway" in (r.last_error or "") for r in pending)


async def _recovered(shop: Platform, clock: FakeClock, kind: str, count: int) -> None:
    """After the outage and the backoff, every row of ``kind`` was sent, none twice."""
    clock.advance(minutes=1)
    await outbox_settled(shop)
    rows = await outbox_rows(shop, kind)
    assert [r.outcome for r in rows] == ["sent"] * count


def _count(user: FakeUser, text: str) -> int:
    return sum(text in m.content for m in user.messages)


async def test_a_registration_request_and_its_decision_wait_out_an_outage(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(ANN, first_name="Ann", username="ann", language_code="en", started=True)

    with server.failing("sendMessage", 502, chat_id=ADMIN_ID):
        await ann.send_text("/start")
        await ann.wait_for_message(_has("sent to the admins"))
        await _failed_once(shop, REQUEST_NOTICE)
        assert _count(admin, "wants to join") == 0
    await _recovered(shop, clock, REQUEST_NOTICE, 1)
    card = await admin.wait_for_message(_has("wants to join"), after=0)
    assert "@ann" in card.content and card.buttons == ["✅ Approve", "❌ Reject"]

    with server.failing("sendMessage", 502, chat_id=ANN):
        await admin.press("✅ Approve", message=card)
        await admin.wait_for_message(lambda m: m.buttons == [] and "Approved" in m.content)
        await _failed_once(shop, DECIDED_NOTICE)
        assert _count(ann, "Welcome") == 0
    await _recovered(shop, clock, DECIDED_NOTICE, 1)
    welcome = await ann.wait_for_message(_has("Welcome"), after=0)
    assert "approved" in welcome.content
    assert _count(admin, "wants to join") == 1 and _count(ann, "Welcome") == 1


async def test_a_supplier_application_and_its_decision_wait_out_an_outage(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    sam = server.user(SAM, first_name="Sam", username="sam", language_code="en", started=True)
    await shop.catalogue.grant_role(SAM, Role.RESELLER, actor=ADMIN)

    with server.failing("sendMessage", 502, chat_id=ADMIN_ID):
        await sam.send_text("/supplier")
        await sam.wait_for_message(_has("company"))
        await sam.send_text("Sam Cards Ltd")
        await sam.wait_for_message(_has("reach you"))
        await sam.send_text("@sam · PSN codes")
        await sam.wait_for_message(_has("is with the admins"))
        await _failed_once(shop, REQUEST_NOTICE)
    await _recovered(shop, clock, REQUEST_NOTICE, 1)
    card = await admin.wait_for_message(_has("Supplier application #"), after=0)

    with server.failing("sendMessage", 502, chat_id=SAM):
        await admin.press("✅ Approve", message=card)
        await _failed_once(shop, DECIDED_NOTICE)
        assert _count(sam, "was approved") == 0
    await _recovered(shop, clock, DECIDED_NOTICE, 1)
    await sam.wait_for_message(_has("application #1 was approved"), after=0)
    assert Role.SUPPLIER in (await shop.catalogue.user(SAM)).roles
    assert _count(admin, "Supplier application #") == 1 and _count(sam, "was approved") == 1


async def test_a_sku_review_decision_waits_out_an_outage(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_supplier(shop, SAM)
    sam = server.user(SAM, language_code="en", started=True)
    await shop.catalogue.set_language(SAM, "en")
    product = NewProduct("PSN 50 HKD", "PSN", 100_00, 80_00, StockKind.UNIQUE, False, "HK")
    view = await shop.reviews.submit(SAM, product)

    with server.failing("sendMessage", 502, chat_id=SAM):
        await shop.reviews.decide(view.id, admin_telegram_id=ADMIN_ID, approve=True)
        await _failed_once(shop, DECIDED_NOTICE)
    await _recovered(shop, clock, DECIDED_NOTICE, 1)
    await sam.wait_for_message(_has("approved"), after=0)
    assert _count(sam, "PSN 50 HKD") == 1


async def test_a_request_decided_before_its_card_went_out_is_not_sent(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(ANN, first_name="Ann", language_code="en", started=True)

    with server.failing("sendMessage", 502, chat_id=ADMIN_ID):
        await ann.send_text("/start")
        await _failed_once(shop, REQUEST_NOTICE)
        (request,) = await shop.approvals.waiting(
            shop.approvals.kinds["registrations"], admin_telegram_id=ADMIN_ID
        )
        await shop.registration.decide(request.request.id, admin_telegram_id=ADMIN_ID, approve=True)
    clock.advance(minutes=1)
    await ann.wait_for_message(_has("Welcome"))
    await outbox_settled(shop)
    (row,) = await outbox_rows(shop, REQUEST_NOTICE)
    assert row.outcome == "absorbed"
    assert _count(admin, "wants to join") == 0


async def test_a_top_up_request_with_its_receipt_waits_out_an_outage(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=50_00)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", username="ann", started=True)

    await ann.send_text("/buy STEAM-100 1")
    short = await ann.wait_for_message(_has("Short by ¥42.00"))
    await ann.press("💰 Top up", message=short)
    await ann.wait_for_message(_has("How much"))
    await ann.send_text("42")
    await ann.wait_for_message(_has("receipt"))
    with server.failing("sendPhoto", 502, chat_id=ADMIN_ID):
        await ann.send_photo(PNG_1x1, caption="bank ref 9")
        await ann.wait_for_message(_has("is with the admins"))
        await _failed_once(shop, REQUEST_NOTICE)
    await _recovered(shop, clock, REQUEST_NOTICE, 1)
    card = await admin.wait_for_message(_has("paid ¥42.00"), after=0)
    assert card.photo is not None and "bank ref 9" in card.content
    await admin.press("✅ Approve", message=card)
    await ann.wait_for_message(_has("approved. Balance: ¥92.00"))
    assert _count(admin, "paid ¥42.00") == 1


async def test_a_bad_code_report_with_its_screenshot_waits_out_an_outage(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=500_00)
    admin = server.user(ADMIN_ID, language_code="en", started=True)
    ann = server.user(RESELLER, language_code="en", started=True)
    receipt = await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="bad")

    await ann.send_text("/orders")
    await ann.wait_for_message(_has("Your orders"))
    await ann.press(f"#{receipt.order_id} · 1 × STEAM-100 card · ¥92.00")
    detail = await ann.wait_for_message(_has("Status: paid"))
    await ann.press("⚠️ Report a problem", message=detail)
    await ann.wait_for_message(_has("Which code"))
    await ann.press("Code 1")
    await ann.wait_for_message(_has("Describe the problem"))
    with server.failing("sendPhoto", 502, chat_id=ADMIN_ID):
        await ann.send_photo(PNG_1x1, caption="already redeemed")
        await ann.wait_for_message(_has("is with the admins"))
        await _failed_once(shop, REQUEST_NOTICE)
    await _recovered(shop, clock, REQUEST_NOTICE, 1)
    card = await admin.wait_for_message(_has("already redeemed"), after=0)
    assert card.photo is not None and "💸 Refund" in card.buttons
    assert _count(admin, "already redeemed") == 1

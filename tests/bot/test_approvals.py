"""Every approval queue through the one set of handlers (bot/handlers/approvals.py): the
admin panel lists what waits, two admins pressing at once decide once and both cards say
who, a non-admin's press is refused, and an approve the kind refuses leaves the card open."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.models import (
    Role,
    StockKind,
    TopUpRequest,
    TopUpStatus,
    UserStatus,
    WithdrawalStatus,
)
from core.platform import Platform
from core.reviews import NewProduct
from core.supplier_payouts import WITHDRAWALS
from core.topups import TOPUPS
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
SECOND_ADMIN = 43
SAM, NEWCOMER, APPLICANT = 7001, 7002, 7003


async def _admin(server: FakeTelegramServer, telegram_id: int, name: str = "User") -> FakeUser:
    admin = server.user(telegram_id, name, language_code="en", started=True)
    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "Admin panel" in m.content)
    return admin


async def _second_admin(server: FakeTelegramServer, shop: Platform) -> FakeUser:
    await shop.catalogue.grant_role(SECOND_ADMIN, Role.ADMIN, actor=ADMIN)
    await shop.catalogue.ensure_user(SECOND_ADMIN, display_name="Bo")
    await shop.catalogue.set_language(SECOND_ADMIN, "en")
    # their Telegram name too: each message refreshes the profile's name from Telegram's
    return await _admin(server, SECOND_ADMIN, "Bo")


async def test_the_admin_panel_lists_every_waiting_kind(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=1000_00)
    await shop.topups.request(RESELLER, 10_00, note="bank 9")
    receipt = await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    await shop.aftersales.report(RESELLER, receipt.order_id, 1, reason="used")  # type: ignore[union-attr]
    await shop.supplier_payouts.request_withdrawal(SUPPLIER_TID, 10_00)
    await shop.catalogue.ensure_user(NEWCOMER, username="newbie", status=UserStatus.PENDING)
    await shop.registration.apply(NEWCOMER)
    await shop.catalogue.ensure_user(APPLICANT)
    await shop.onboarding.apply(APPLICANT, company_name="Cards Co", contact_note="")
    await shop.catalogue.ensure_user(SAM)
    application = await shop.onboarding.apply(SAM, company_name="Sam", contact_note="")
    await shop.onboarding.decide(application.id, admin_telegram_id=ADMIN_ID, approve=True)
    product = NewProduct("PSN 100", "PlayStation", 100_00, 80_00, StockKind.UNIQUE, False, "x")
    await shop.reviews.submit(SAM, product)

    admin = await _admin(server, ADMIN_ID)
    panel = admin.last_message
    assert panel is not None
    for line in (
        "Products awaiting review: 1",
        "Top-up requests pending: 1",
        "Open bad-code reports: 1",
        "Supplier applications waiting: 1",
        "Withdrawal requests waiting: 1",
        "Registration requests waiting: 1",
    ):
        assert line in panel.content
    for button, card_text, approve in (
        ("💳 Top-ups (1)", "bank 9", "✅ Approve"),
        ("🏭 Supplier applications (1)", "Cards Co", "✅ Approve"),
        ("💸 Withdrawals (1)", "Withdrawal request #1", "✅ Mark paid"),
        ("🚪 Registrations (1)", "@newbie", "✅ Approve"),
    ):
        await admin.press(button, message=panel)
        card = await admin.wait_for_message(lambda m, text=card_text: text in m.content)
        assert card.buttons == [approve, "❌ Reject"]


async def test_two_admins_pressing_at_once_decide_once_and_both_cards_say_who(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    await shop.topups.request(RESELLER, 150_00, note="bank ref 778")
    admins = [await _admin(server, ADMIN_ID), await _second_admin(server, shop)]
    cards = []
    for admin in admins:
        await admin.press("💳 Top-ups (1)")
        cards.append(await admin.wait_for_message(lambda m: "bank ref 778" in m.content))

    first, second = await asyncio.gather(
        admins[0].press("✅ Approve", message=cards[0]),
        admins[1].press("❌ Reject", message=cards[1]),
    )
    answers = [
        (await admins[0].wait_for_callback_answer(first)).answer_text,
        (await admins[1].wait_for_callback_answer(second)).answer_text,
    ]
    await server.wait_callbacks_answered()

    assert sum("already decided" in (answer or "") for answer in answers) == 1
    async with shop.db.reading() as session:
        (request,) = await session.scalars(select(TopUpRequest))
    approved = request.status is TopUpStatus.APPROVED
    assert (await shop.balances.balance(RESELLER)).balance == (150_00 if approved else 0)
    winner = "User" if request.decided_by == ADMIN_ID else "Bo"
    line = f"{'✅ Approved' if approved else '❌ Rejected'} by {winner} at "
    for admin, card in zip(admins, cards, strict=True):
        closed = admin.current(card)
        assert closed.buttons == [] and closed.content.startswith(card.content)
        assert line in closed.content  # "decided by X at T", on the loser's card too


async def test_a_non_admin_pressing_approve_is_refused(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    await shop.topups.request(RESELLER, 50_00, note="bank 1")
    admin = await _admin(server, ADMIN_ID)
    await admin.press("💳 Top-ups (1)")
    card = await admin.wait_for_message(lambda m: "bank 1" in m.content)
    ann = server.user(RESELLER, language_code="en", started=True)
    await ann.send_text("/start")
    anchor = await ann.wait_for_message(lambda m: "Welcome" in m.content)

    forged = await ann.press_data(card.callback_data("✅ Approve") or "", message=anchor)

    answer = await ann.wait_for_callback_answer(forged)
    assert answer.show_alert and "not allowed" in (answer.answer_text or "")
    (request,) = await shop.approvals.waiting(TOPUPS, admin_telegram_id=ADMIN_ID)
    assert request.request.status is TopUpStatus.PENDING
    assert (await shop.balances.balance(RESELLER)).balance == 0
    assert admin.current(card).buttons == ["✅ Approve", "❌ Reject"]


async def test_an_approve_the_kind_refuses_leaves_the_card_and_the_request_waiting(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=1000_00)
    for key in ("a", "b"):
        await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key=key)
    await shop.supplier_payouts.request_withdrawal(SUPPLIER_TID, 2 * 85_84)
    await shop.shop.refund(1, idempotency_key="r", actor=ADMIN)  # the payable drops to 85.84
    admin = await _admin(server, ADMIN_ID)
    await admin.press("💸 Withdrawals (1)")
    card = await admin.wait_for_message(lambda m: "Withdrawal request #1" in m.content)

    pressed = await admin.press("✅ Mark paid", message=card)

    answer = await admin.wait_for_callback_answer(pressed)
    assert answer.show_alert
    assert answer.answer_text == "Not paid: the supplier's payable is only ¥85.84 now."
    assert admin.current(card).buttons == ["✅ Mark paid", "❌ Reject"]
    (waiting,) = await shop.approvals.waiting(WITHDRAWALS, admin_telegram_id=ADMIN_ID)
    assert waiting.request.status is WithdrawalStatus.PENDING
    assert (await shop.balances.supplier(SUPPLIER_TID)).payable == 85_84

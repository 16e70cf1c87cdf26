"""The decisions on a top-up, a bad-code report and a credit application survive a Telegram
outage: promised through the outbox in the deciding transaction, delivered once after it
recovers, with the balance as the decision left it and the replacement code read from the
codes table when sent — never copied into the outbox row. Acted out on the fake Telegram
server, in both languages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.aftersales import REPORTED_TO_SUPPLIER
from core.approvals import DECIDED_NOTICE
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.user import FakeUser
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import eventually, outbox_rows
from tests.conftest import FakeClock
from tests.factories import SUPPLIER_TID, make_reseller, make_sku, make_supplier

RESELLER = 1001

WORDS = {
    "en": {
        "credited": "Your top-up #1 of ¥42.00 was approved. Balance: ¥92.00",
        "rejected": "Your top-up #1 of ¥42.00 was rejected",
        "replaced": "Report #1: code 1 of order #1 was replaced. Your new code:",
        "refunded": "Report #1: code 1 of order #1 was refunded: ¥92.00. Balance: ¥500.00",
        "supplier": "the code was replaced from stock",
        "granted": "Your credit line of ¥100.00 was granted",
        "refused": "Your credit application #1 was not approved.",
    },
    "zh-CN": {
        "credited": "您的充值 #1（¥42.00）已到账。余额：¥92.00",
        "rejected": "您的充值 #1（¥42.00）被拒绝",
        "replaced": "问题反馈 #1：订单 #1 第 1 张卡密已更换。新卡密：",
        "refunded": "问题反馈 #1：订单 #1 第 1 张卡密已退款 ¥92.00。余额：¥500.00",
        "supplier": "已从库存中更换卡密",
        "granted": "你的账期额度 ¥100.00 已开通",
        "refused": "你的账期申请 #1 未获批准。",
    },
}
LANGUAGES = pytest.mark.parametrize("language", ["en", "zh-CN"])


def _count(user: FakeUser, text: str) -> int:
    return sum(text in m.content for m in user.messages)


async def _people(server: FakeTelegramServer, shop: Platform, language: str) -> FakeUser:
    """The admin and the supplier on the fake server; the reseller, in ``language``."""
    server.user(ADMIN_ID, language_code="en", started=True)
    server.user(SUPPLIER_TID, language_code=language, started=True)
    await shop.catalogue.set_language(RESELLER, language)
    await make_supplier(shop)
    await shop.catalogue.set_language(SUPPLIER_TID, language)
    return server.user(RESELLER, language_code=language, started=True)


async def _notices(shop: Platform) -> list[Any]:
    return await outbox_rows(shop, DECIDED_NOTICE)


async def _failed_once(shop: Platform) -> None:
    """The decision's notice was tried, Telegram failed, and it waits for its retry."""

    async def tried() -> bool:
        return any(r.outcome is None and r.attempts >= 1 for r in await _notices(shop))

    await eventually(tried, "a failed attempt to send the decision")
    tried_rows = [r for r in await _notices(shop) if r.outcome is None and r.attempts]
    assert all("Bad Gateway" in (r.last_error or "") for r in tried_rows)


async def _recovered(shop: Platform, clock: FakeClock) -> None:
    clock.advance(minutes=1)

    async def finished() -> bool:
        return all(r.outcome is not None for r in await _notices(shop))

    await eventually(finished, "the decision's notices to be finished")
    assert {r.outcome for r in await _notices(shop)} == {"sent"}


async def _bought_and_reported(shop: Platform) -> list[str]:
    codes = await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=500_00)
    receipt = await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="bad")
    await shop.aftersales.report(RESELLER, receipt.order_id, 1, reason="says invalid")  # type: ignore[union-attr]
    return codes


@LANGUAGES
async def test_a_top_up_credited_during_an_outage_says_the_balance_the_credit_left(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock, language: str
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=50_00)
    ann = await _people(server, shop, language)
    request = await shop.topups.request(RESELLER, 42_00, note="bank ref 9")

    with server.failing("sendMessage", 502, chat_id=RESELLER):
        await shop.topups.decide(request.id, admin_telegram_id=ADMIN_ID, approve=True)
        again = await shop.topups.decide(request.id, admin_telegram_id=ADMIN_ID, approve=True)
        assert again.already_decided
        await _failed_once(shop)
        # she spends before the notice gets through: it still says what the credit left
        await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="spend")
    await _recovered(shop, clock)

    await ann.wait_for_message(lambda m: WORDS[language]["credited"] in m.content, after=0)
    assert _count(ann, WORDS[language]["credited"]) == 1
    (row,) = await _notices(shop)
    assert json.loads(row.payload) == {"queue": "topups", "request": 1, "balance_after": 92_00}


@LANGUAGES
async def test_a_top_up_rejected_during_an_outage_is_told_once(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock, language: str
) -> None:
    await make_reseller(shop, RESELLER)
    ann = await _people(server, shop, language)
    request = await shop.topups.request(RESELLER, 42_00)

    with server.failing("sendMessage", 502, chat_id=RESELLER):
        await shop.topups.decide(request.id, admin_telegram_id=ADMIN_ID, approve=False)
        await shop.topups.decide(request.id, admin_telegram_id=ADMIN_ID, approve=True)
        await _failed_once(shop)
    await _recovered(shop, clock)

    await ann.wait_for_message(lambda m: WORDS[language]["rejected"] in m.content, after=0)
    assert _count(ann, WORDS[language]["rejected"]) == 1
    assert (await shop.balances.balance(RESELLER)).balance == 0


@LANGUAGES
async def test_a_replacement_code_reaches_the_reseller_after_an_outage_and_never_the_outbox(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock, language: str
) -> None:
    codes = await _bought_and_reported(shop)
    ann = await _people(server, shop, language)
    supplier = server.user(SUPPLIER_TID)

    with server.failing("sendMessage", 502, chat_id=RESELLER):
        await shop.aftersales.replace(ADMIN_ID, 1)  # type: ignore[union-attr]
        again = await shop.aftersales.replace(ADMIN_ID, 1)  # type: ignore[union-attr]
        assert again.already_decided
        await _failed_once(shop)
        assert _count(ann, WORDS[language]["replaced"]) == 0
    await _recovered(shop, clock)

    new = await ann.wait_for_message(lambda m: WORDS[language]["replaced"] in m.content, after=0)
    assert new.codes == [codes[1]]
    assert _count(ann, WORDS[language]["replaced"]) == 1
    assert _count(supplier, WORDS[language]["supplier"]) == 1
    assert not any(codes[1] in m.content for m in supplier.messages)  # the buyer's alone
    rows = await _notices(shop)
    assert sorted(json.loads(r.payload).get("to", "requester") for r in rows) == [
        "requester",
        "supplier",
    ]
    for row in rows:  # only references: the code stays encrypted in the codes table
        assert "SECRET" not in row.payload and codes[1] not in row.payload
        assert set(json.loads(row.payload)) <= {"queue", "request", "to", "carries_code"}
    # the buyer's row says only that it hands over a code (sent as urgently as an order's)
    assert [json.loads(r.payload).get("carries_code") for r in rows] == [1, None]


@LANGUAGES
async def test_a_refunded_bad_code_says_the_balance_the_refund_left(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock, language: str
) -> None:
    await _bought_and_reported(shop)
    ann = await _people(server, shop, language)

    with server.failing("sendMessage", 502, chat_id=RESELLER):
        await shop.aftersales.refund(ADMIN_ID, 1)  # type: ignore[union-attr]
        await shop.aftersales.refund(ADMIN_ID, 1)  # type: ignore[union-attr]
        await _failed_once(shop)
        await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="after")
    await _recovered(shop, clock)

    await ann.wait_for_message(lambda m: WORDS[language]["refunded"] in m.content, after=0)
    assert _count(ann, WORDS[language]["refunded"]) == 1


async def _history(shop: Platform, clock: FakeClock) -> None:
    """Twelve weeks of one unit a week: the suggested line is ¥100.00."""
    await make_sku(shop, stock=20)
    await make_reseller(shop, RESELLER, balance=92_00 * 12)
    for week in range(12):
        await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key=f"w{week}")
        clock.advance(days=7)


@LANGUAGES
@pytest.mark.parametrize("approve", [True, False])
async def test_a_credit_decision_during_an_outage_is_told_once(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock, language: str, approve: bool
) -> None:
    await _history(shop, clock)
    ann = await _people(server, shop, language)
    application = await shop.credit.apply(RESELLER)
    words = WORDS[language]["granted" if approve else "refused"]

    with server.failing("sendMessage", 502, chat_id=RESELLER):
        await shop.credit.decide(application.id, admin_telegram_id=ADMIN_ID, approve=approve)
        await shop.credit.decide(application.id, admin_telegram_id=ADMIN_ID, approve=approve)
        await _failed_once(shop)
    await _recovered(shop, clock)

    await ann.wait_for_message(lambda m: words in m.content, after=0)
    assert _count(ann, words) == 1


@LANGUAGES
async def test_the_supplier_hears_of_a_bad_code_report_after_an_outage_never_the_code(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock, language: str
) -> None:
    words = {"en": "A reseller reported a problem", "zh-CN": "有分销商反馈您的商品"}[language]
    await make_supplier(shop)
    supplier = server.user(SUPPLIER_TID, language_code=language, started=True)
    await shop.catalogue.set_language(SUPPLIER_TID, language)
    server.user(ADMIN_ID, language_code="en", started=True)
    server.user(RESELLER, started=True)

    with server.failing("sendMessage", 502, chat_id=SUPPLIER_TID):
        codes = await _bought_and_reported(shop)

        async def tried() -> bool:
            rows = await outbox_rows(shop, REPORTED_TO_SUPPLIER)
            return any(r.attempts >= 1 and r.outcome is None for r in rows)

        await eventually(tried, "a failed attempt to tell the supplier")
        assert _count(supplier, words) == 0
    clock.advance(minutes=1)
    await supplier.wait_for_message(lambda m: words in m.content and "says invalid" in m.content)
    (row,) = await outbox_rows(shop, REPORTED_TO_SUPPLIER)
    assert json.loads(row.payload) == {"report": 1} and codes[0] not in row.payload
    assert _count(supplier, words) == 1
    assert not any(codes[0] in m.content for m in supplier.messages)


@LANGUAGES
async def test_a_credit_grant_is_told_on_the_terms_granted_not_terms_changed_after(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock, language: str
) -> None:
    """Granted during an outage; before the notice gets through an admin changes the line
    (¥300.00, 0.10% a day, 60 days): the reseller still reads what the decision gave him."""
    await _history(shop, clock)
    ann = await _people(server, shop, language)
    application = await shop.credit.apply(RESELLER)
    granted = await shop.credit.decide(application.id, admin_telegram_id=ADMIN_ID, approve=True)
    assert granted.line is not None

    with server.failing("sendMessage", 502, chat_id=RESELLER):
        await _failed_once(shop)
        clock.advance(days=3)  # a later grant's term would run from a later day
        await shop.credit.grant(ADMIN_ID, RESELLER, limit=300_00, rate_bps=10, term_days=60)
    await _recovered(shop, clock)

    words = WORDS[language]["granted"]
    notice = await ann.wait_for_message(lambda m: words in m.content, after=0)
    assert "0.05%" in notice.content and "0.1%" not in notice.content
    assert granted.line.due_on.isoformat() in notice.content
    assert _count(ann, words) == 1
    (row,) = await _notices(shop)
    due = granted.line.due_on
    assert json.loads(row.payload) == {
        "queue": "credit",
        "request": 1,
        "limit": 100_00,
        "rate_bps": 5,
        "term_days": 30,
        "due_on": due.year * 10_000 + due.month * 100 + due.day,
    }

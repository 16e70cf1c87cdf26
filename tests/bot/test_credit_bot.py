"""Credit lines in the bot: a reseller sees the limit his history suggests with the figures
used and applies; the admin approves the application through the one approval mechanism;
the reseller is told and his statement shows the line; in English and in Chinese. The
admin's /reports adds revenue by source."""

from __future__ import annotations

import pytest

from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.conftest import FakeClock
from tests.factories import make_reseller, make_sku

RESELLER = 1001


async def history(shop: Platform, clock: FakeClock, telegram_id: int) -> None:
    """Twelve weeks of one unit a week (92.00), topped up as he went."""
    await make_sku(shop, stock=20)
    await make_reseller(shop, telegram_id, balance=92_00 * 12)
    for week in range(12):
        await shop.shop.buy_now(telegram_id, "STEAM-100", 1, idempotency_key=f"w{week}")
        clock.advance(days=7)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            {
                "suggest": "we suggest ¥100.00",
                "figures": "bought in 12 of 13 weeks",
                "apply": "📝 Apply for this line",
                "sent": "Application #1 for a credit line of ¥100.00 sent",
                "granted": "Your credit line of ¥100.00 was granted",
                "statement": "Due date: ",
                "waiting": "Your application #1 is already waiting",
            },
        ),
        (
            "zh-CN",
            {
                "suggest": "建议额度 ¥100.00",
                "figures": "13 周中有 12 周下单",
                "apply": "📝 申请该额度",
                "sent": "已提交账期额度 ¥100.00 的申请 #1",
                "granted": "你的账期额度 ¥100.00 已开通",
                "statement": "到期日：",
                "waiting": "你的申请 #1 已在等待管理员审核",
            },
        ),
    ],
)
async def test_a_reseller_applies_and_the_admin_grants_the_line(
    server: FakeTelegramServer,
    shop: Platform,
    clock: FakeClock,
    language: str,
    words: dict[str, str],
) -> None:
    await history(shop, clock, RESELLER)
    await shop.catalogue.set_language(RESELLER, language)
    reseller = server.user(RESELLER, "Rui", language_code=language, started=True)
    await reseller.send_text("/credit")
    offer = await reseller.wait_for_message(lambda m: words["suggest"] in m.content)
    assert words["figures"] in offer.content
    await reseller.press(words["apply"], message=offer)
    await reseller.wait_for_message(lambda m: words["sent"] in m.content)
    await reseller.press(words["apply"], message=offer)  # pressed twice: still one request
    await reseller.wait_for_message(lambda m: words["waiting"] in m.content)

    admin = server.user(ADMIN_ID)
    card = await admin.wait_for_message(lambda m: "Credit application #1" in m.content)
    assert "asks for ¥100.00 at 0.05% a day for 30 days" in card.content
    await admin.press("✅ Approve", message=card)
    await admin.wait_for_message(
        lambda m: "Credit application #1" in m.content and "Approved by" in m.content
    )
    await reseller.wait_for_message(lambda m: words["granted"] in m.content)

    line = await shop.credit.statement(RESELLER)
    assert (line.limit, line.rate_bps, line.term_days) == (100_00, 5, 30)
    await reseller.send_text("/credit")
    await reseller.wait_for_message(lambda m: words["statement"] in m.content)

    # the admin's view of him; a reseller may not look at another
    await admin.send_text(f"/credit {RESELLER}")
    await admin.wait_for_message(lambda m: "Limit ¥100.00" in m.content)
    await admin.send_text(f"/credit {RESELLER} freeze")
    await admin.wait_for_message(lambda m: "Credit line</b> (frozen)" in m.html)
    assert (await shop.credit.statement(RESELLER)).frozen
    await reseller.send_text(f"/credit {ADMIN_ID}")
    await reseller.wait_for_message(lambda m: "not allowed" in m.content or "无权" in m.content)


async def test_no_history_no_offer(server: FakeTelegramServer, shop: Platform) -> None:
    await make_reseller(shop, RESELLER, balance=10_00)
    reseller = server.user(RESELLER, "Rui", language_code="en", started=True)
    await reseller.send_text("/credit")
    answer = await reseller.wait_for_message(lambda m: "do not suggest one yet" in m.content)
    assert answer.reply_markup is None  # nothing to apply for


async def test_reports_show_revenue_by_source(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=5)
    await make_reseller(shop, RESELLER, balance=200_00)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 2, idempotency_key="r1")
    admin = server.user(ADMIN_ID)
    await admin.send_text("/reports")
    choose = await admin.wait_for_message(lambda m: "7 days" in str(m.reply_markup))
    await admin.press("7 days", message=choose)
    revenue = await admin.wait_for_message(lambda m: "Revenue" in m.content)
    # 2 units at 92.00 from 85.00: spread 3.50 a unit, commission 2.66 a unit
    assert "Spread: ¥7.00" in revenue.content
    assert "Commission: ¥5.32" in revenue.content
    assert "Interest: ¥0.00" in revenue.content
    assert "Total: ¥12.32 (ledger ¥12.32)" in revenue.content


@pytest.mark.parametrize(
    ("language", "title", "tier"),
    [("en", "Commission schedules", "from 0: 1%"), ("zh-CN", "佣金方案", "0 件起：1%")],
)
async def test_an_admin_edits_a_categorys_schedule(
    server: FakeTelegramServer, shop: Platform, language: str, title: str, tier: str
) -> None:
    await make_sku(shop, stock=2)  # category Steam
    await shop.catalogue.set_language(ADMIN_ID, language)
    admin = server.user(ADMIN_ID)
    await admin.send_text("/commission Steam 0 100")
    shown = await admin.wait_for_message(lambda m: title in m.content and "Steam" in m.content)
    assert f"Steam: {tier}" in shown.content
    assert (await shop.commission.schedules())[-1].tiers == ((0, 100),)
    await admin.send_text("/commission Steam 0 remove")
    await admin.wait_for_message(lambda m: title in m.content and "Steam" not in m.content)
    # a threshold bigger than any column holds is refused in words, not a crash
    for huge in ("/commission Steam 99999999999999999999 5", "/commission Steam 3000000000 remove"):
        await admin.send_text(huge)
        refusal = await admin.wait_for_message()
        assert "went wrong" not in refusal.content and "出错" not in refusal.content
    assert len(await shop.commission.schedules()) == 2

    await make_reseller(shop, RESELLER)
    reseller = server.user(RESELLER, "Rui", language_code="en", started=True)
    await reseller.send_text("/commission Steam 0 50")
    await reseller.wait_for_message(lambda m: "not allowed" in m.content)
    assert len(await shop.commission.schedules()) == 2  # default and exclusive only


async def test_past_due_the_reseller_and_the_admin_are_reminded(
    server: FakeTelegramServer, shop: Platform, clock: FakeClock
) -> None:
    await make_sku(shop, stock=3)  # 92.00
    await make_reseller(shop, RESELLER, balance=50_00)
    reseller = server.user(RESELLER, "Rui", language_code="en", started=True)
    await shop.credit.grant(ADMIN_ID, RESELLER, limit=100_00, rate_bps=5, term_days=1)
    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")  # 42.00 drawn
    clock.advance(days=2)
    run = await shop.credit.run_daily()  # as the scheduler does each morning
    assert (run.posted, run.interest, run.reminded) == (2, 2 * 3, 1)  # ⌈0.021⌉ = 0.03 a day
    await reseller.wait_for_message(
        lambda m: "Your credit line was due on 2026-11-26: you owe ¥42.06" in m.content
    )
    admin = server.user(ADMIN_ID)
    await admin.wait_for_message(lambda m: "is past the credit line's due date" in m.content)
    await reseller.send_text("/credit")
    await reseller.wait_for_message(
        lambda m: "Past due: top up ¥42.06 to repay" in m.content and "(overdue)" in m.content
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", {"set": "Credit line terms of 1001 set", "usage": "Usage: /credit TELEGRAM_ID terms",
                "terms": "Limit ¥800.00 · 0.07% a day · 45 days", "hint": "Change the terms",
                "suggest": "we would suggest", "none": "No credit line yet"}),
        ("zh-CN", {"set": "已设置 1001 的账期条款", "usage": "用法：/credit TELEGRAM_ID terms",
                   "terms": "¥800.00", "hint": "修改条款", "suggest": "目前建议额度",
                   "none": "你还没有账期额度"}),
    ],
)  # fmt: skip
async def test_an_admin_edits_a_lines_terms_and_bad_terms_are_explained(
    server: FakeTelegramServer,
    shop: Platform,
    clock: FakeClock,
    language: str,
    words: dict[str, str],
) -> None:
    await history(shop, clock, RESELLER)
    await shop.catalogue.set_language(ADMIN_ID, language)
    admin = server.user(ADMIN_ID, language_code=language, started=True)
    await admin.send_text(f"/credit {RESELLER}")
    await admin.wait_for_message(lambda m: words["hint"] in m.content)
    for bad in ("-5 5 30", "abc 5 30", "800 -1 30", "800 5 0", "800 5 99999999999", "800 5",
                "99999999999999999999 5 30", "800 5000 30"):  # fmt: skip
        await admin.send_text(f"/credit {RESELLER} terms {bad}")
        await admin.wait_for_message(lambda m: words["usage"] in m.content)
    for huge in ("/credit 99999999999999999999", "/credit 99999999999999999999 terms 5 5 5"):
        await admin.send_text(huge)  # no such user, in words (was an OverflowError)
        reply = await admin.wait_for_message()
        assert "went wrong" not in reply.content and "出错" not in reply.content
    await admin.send_text(f"/credit {RESELLER} terms 800.00 7 45")
    done = await admin.wait_for_message(lambda m: words["set"] in m.content)
    assert words["terms"] in done.content
    line = await shop.credit.statement(RESELLER)
    assert (line.limit, line.rate_bps, line.term_days) == (800_00, 7, 45)
    # the admin's review of a granted line no longer says "no credit line yet"
    await admin.send_text(f"/credit {RESELLER}")
    review = await admin.wait_for_message(lambda m: words["hint"] in m.content)
    assert words["suggest"] in review.content and words["none"] not in review.content
    # a reseller typing the admin's command changes nothing
    reseller = server.user(RESELLER, started=True)
    await reseller.send_text(f"/credit {RESELLER} terms 99999.00 0 365")
    await reseller.wait_for_message()
    line = await shop.credit.statement(RESELLER)
    assert (line.limit, line.rate_bps, line.term_days) == (800_00, 7, 45)

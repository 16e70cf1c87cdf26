"""A reseller tops up with USDT in the bot, against the fake Telegram and the fake TRON
node: Balance → Top up → USDT → amount → "send exactly … USDT (TRC20) to ADDRESS before …"
with the address's QR code → pays on the chain → Check → credited."""

from __future__ import annotations

import logging

import pytest

from core.checks import check_ledger
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_tron import FakeTronServer
from tests.conftest import FakeClock
from tests.factories import make_reseller
from tests.tron_helpers import OURS, usdt_settings

RESELLER = 7001


@pytest.fixture
def settings(database_url: str, node: FakeTronServer) -> Settings:
    return usdt_settings(database_url, node)


async def test_a_reseller_tops_up_with_usdt_and_checks_it_in(
    server: FakeTelegramServer,
    shop: Platform,
    node: FakeTronServer,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_reseller(shop, RESELLER)
    await shop.usdt.set_rate(725)
    ann = server.user(RESELLER, language_code="en", username="ann", started=True)

    await ann.send_text("💰 Balance")
    balance = await ann.wait_for_message(lambda m: "💳 Top up" in m.buttons)
    await ann.press("💳 Top up", message=balance)
    methods = await ann.wait_for_message(lambda m: "💵 USDT (TRC20)" in m.buttons)
    await ann.press("💵 USDT (TRC20)", message=methods)
    await ann.wait_for_message(lambda m: "how much" in m.content)
    await ann.send_text("100")
    pay = await ann.wait_for_message(lambda m: "USDT (TRC20)" in m.content)
    assert "Send exactly 13.801000 USDT (TRC20) to" in pay.content
    assert OURS in pay.content and "before" in pay.content
    qr = await ann.wait_for_message(lambda m: m.photo is not None)
    assert "deposit address" in qr.content
    assert (await ann.download(qr)).startswith(b"\x89PNG")

    await ann.press("🔄 Check payment", message=pay)
    await ann.wait_for_message(lambda m: "Still waiting" in m.content)

    node.chain.pay(OURS, 13_801_000, at=clock.now())
    node.chain.mine(19)
    monkeypatch.setattr("core.payments.usdt.CHECK_SPACING", 0.0)  # no wait between checks
    await ann.press("🔄 Check payment", message=pay)
    await ann.wait_for_message(lambda m: "credited ✅" in m.content)
    assert (await shop.balances.balance(RESELLER)).balance == 100_00
    assert (await check_ledger(shop.db)).ok


async def test_without_a_rate_the_reseller_is_told_to_choose_another_method(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    ann = server.user(RESELLER, language_code="zh-hans", username="ann", started=True)
    await shop.catalogue.set_language(RESELLER, "zh-CN")
    await ann.send_text("/balance")
    balance = await ann.wait_for_message(lambda m: len(m.buttons) > 0)
    await ann.press(balance.buttons[0], message=balance)
    methods = await ann.wait_for_message(lambda m: "💵 USDT（TRC20）" in m.buttons)
    await ann.press("💵 USDT（TRC20）", message=methods)
    await ann.wait_for_message(lambda m: "100" in m.content)
    await ann.send_text("100")
    await ann.wait_for_message(lambda m: "USDT 充值暂不可用" in m.content)


async def test_an_admin_sets_the_rate_and_sees_usdt_that_paid_nothing(
    server: FakeTelegramServer, shop: Platform, node: FakeTronServer, clock: FakeClock
) -> None:
    from core.audit import verify
    from tests.bot.conftest import ADMIN_ID

    admin = server.user(ADMIN_ID, language_code="en", started=True)
    await admin.send_text("/usdtrate")
    await admin.wait_for_message(lambda m: "No USDT rate yet" in m.content)
    await admin.send_text("/usdtrate seven")
    await admin.wait_for_message(lambda m: m.content.startswith("Usage: /usdtrate"))
    await admin.send_text("/usdtrate 7.25")
    await admin.wait_for_message(lambda m: "1 USDT = ¥7.25 from now on" in m.content)
    assert (await shop.usdt.rate()) is not None
    assert (await shop.usdt.rate()).set_by == f"admin:{ADMIN_ID}"  # type: ignore[union-attr]

    ann = server.user(RESELLER, language_code="en", started=True)
    await make_reseller(shop, RESELLER)
    await ann.send_text("/usdtrate 1")  # not an admin: the command is not his
    await ann.wait_for_message(lambda m: "1 USDT" not in m.content)
    assert (await shop.usdt.rate()).fen_per_usdt == 725  # type: ignore[union-attr]

    await admin.send_text("/usdt")
    await admin.wait_for_message(lambda m: "No USDT transfer is waiting" in m.content)
    node.chain.pay(OURS, 4_200_000, at=clock.now())
    node.chain.mine(19)
    await shop.usdt.watch()
    await admin.send_text("/usdt")
    listing = await admin.wait_for_message(lambda m: "USDT that paid no payment (1" in m.content)
    assert (
        "4.200000 USDT" in listing.content and "no payment expects this amount" in listing.content
    )
    assert "/usdtcredit" in listing.content
    [kept] = await shop.usdt.transfers()
    await admin.send_text(f"/usdtcredit {kept.tx_id} {RESELLER}")
    await admin.wait_for_message(lambda m: m.content.startswith("Usage: /usdtcredit"))
    await admin.send_text(f"/usdtcredit {kept.tx_id} {RESELLER} sent without a top-up")
    await admin.wait_for_message(lambda m: f"credited to {RESELLER}: +¥30.45 ✅" in m.content)
    assert (await shop.balances.balance(RESELLER)).balance == 30_45  # 4.2 × 7.25
    mark = admin.mark()
    await admin.send_text(f"/usdtcredit {kept.tx_id} {RESELLER} again")
    refused = await admin.wait_for_message(after=mark)
    assert "credited to" not in refused.content
    assert (await shop.balances.balance(RESELLER)).balance == 30_45
    assert (await check_ledger(shop.db)).ok
    assert (await verify(shop.db)).ok


async def test_a_rate_typo_is_refused_and_a_big_move_waits_for_the_admins_confirmation(
    server: FakeTelegramServer, shop: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """72.50 for 7.25 is refused outright; 9.00 after 7.25 is asked about: ✖ keeps the rate,
    ✅ sets it once — a second press, or one on a message too old to edit, sets nothing
    more and says what is in force. Chinese for a Chinese admin."""
    from tests.bot.conftest import ADMIN_ID

    admin = server.user(ADMIN_ID, language_code="en", started=True)
    await admin.send_text("/usdtrate 7.25")
    await admin.wait_for_message(lambda m: "1 USDT = ¥7.25 from now on" in m.content)
    await admin.send_text("/usdtrate 72.5")
    await admin.wait_for_message(lambda m: "outside ¥5.00 – ¥10.00" in m.content)
    await admin.send_text("/usdtrate 7.40")  # 2%: a day's move, set at once
    await admin.wait_for_message(lambda m: "1 USDT = ¥7.40 from now on" in m.content)

    await admin.send_text("/usdtrate 9")
    asked = await admin.wait_for_message(lambda m: "✖ Keep the current rate" in m.buttons)
    assert "moves the rate in force (¥7.40) by 21.62%" in asked.content
    await admin.press("✖ Keep the current rate", message=asked)
    await admin.wait_for_message(lambda m: "Nothing changed: 1 USDT stays ¥7.40" in m.content)
    assert (await shop.usdt.rate()).fen_per_usdt == 740  # type: ignore[union-attr]

    await admin.send_text("/usdtrate 9")
    asked = await admin.wait_for_message(lambda m: "✅ Set 1 USDT = ¥9.00" in m.buttons)
    ok = next(b["callback_data"] for row in asked.reply_markup["inline_keyboard"] for b in row
              if b["text"] == "✅ Set 1 USDT = ¥9.00")  # fmt: skip
    await admin.press("✅ Set 1 USDT = ¥9.00", message=asked)
    await admin.wait_for_message(lambda m: "1 USDT = ¥9.00 from now on" in m.content)
    again = await admin.press_data(ok, message=asked)  # a double tap
    answer = await admin.wait_for_callback_answer(again)
    assert "already the rate in force" in (answer.answer_text or "")
    assert (await shop.usdt.rate()).fen_per_usdt == 900  # type: ignore[union-attr]
    rates = await shop.usdt.rate()
    assert rates is not None and rates.set_by == f"admin:{ADMIN_ID}"

    # a Chinese admin presses ✅ on a question too old to edit: set, answered anew
    await shop.catalogue.set_language(ADMIN_ID, "zh-CN")
    await admin.send_text("/usdtrate 7")
    asked = await admin.wait_for_message(lambda m: "✖ 保留当前汇率" in m.buttons)
    assert "与当前汇率（¥9.00）相差 22.22%" in asked.content
    server.fail("editMessageText", 1, 400, description="Bad Request: message can't be edited")
    mark = admin.mark()
    await admin.press("✅ 设为 1 USDT = ¥7.00", message=asked)
    await admin.wait_for_message(lambda m: "从现在起 1 USDT = ¥7.00" in m.content, after=mark)
    assert (await shop.usdt.rate()).fen_per_usdt == 700  # type: ignore[union-attr]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # ordinary misuse

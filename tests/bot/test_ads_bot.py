"""Featured placement in the bot, as suppliers and resellers use it, in English and Chinese:
two suppliers bid (sealed) in /ads, the scheduler closes the round, the winner is told what
he pays (the second price) and the loser that nothing was charged, and the winning SKU shows
first in its category with the 推荐 / Featured mark. Paid services are bought in /services."""

from __future__ import annotations

from datetime import timedelta

from core.jobs import JobRunner
from core.models import AdPlacement, ServiceBilling, ServiceKind
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.conftest import FakeClock
from tests.factories import make_reseller, make_sku

SAM = 900  # supplier of STEAM-100, reads English
LI = 901  # supplier of STEAM-200, reads Chinese
ANN = 1001  # reseller, English
WANG = 1002  # reseller, Chinese


async def _market(shop: Platform) -> None:
    await make_sku(shop, "STEAM-100", stock=20, supplier=SAM)
    await make_sku(
        shop, "STEAM-200", stock=20, supplier=LI, supply_price=170_00, price=184_00,
        face_value=200_00,
    )  # fmt: skip
    await shop.catalogue.set_language(SAM, "en")
    await shop.catalogue.set_language(LI, "zh-CN")
    await make_reseller(shop, ANN, balance=5_000_00)
    await make_reseller(shop, WANG, balance=100_00)
    await shop.catalogue.set_language(WANG, "zh-CN")
    # both suppliers earn something to pay from
    await shop.shop.buy_now(ANN, "STEAM-100", 5, idempotency_key="s1")
    await shop.shop.buy_now(ANN, "STEAM-200", 5, idempotency_key="s2")
    await shop.ads.define_slot(
        ADMIN_ID, "Steam top", AdPlacement.CATEGORY, period_days=7, reserve=50_00,
        category="Steam",
    )  # fmt: skip


async def test_suppliers_bid_the_winner_is_featured_and_everyone_is_told(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _market(shop)
    sam = server.user(SAM, language_code="en", started=True)
    li = server.user(LI, language_code="zh-hans", started=True)

    await sam.send_text("/ads")
    menu = await sam.wait_for_message(lambda m: "Featured slots" in m.content)
    assert "Steam top — the top of a category · Steam; reserve ¥50.00" in menu.content
    await sam.press("Bid: Steam top")
    await sam.wait_for_message(lambda m: "Which of your products" in m.content)
    await sam.press("STEAM-100 card")
    await sam.wait_for_message(lambda m: "at least ¥50.00" in m.content)
    await sam.send_text("40")
    await sam.wait_for_message(lambda m: "at least the reserve, ¥50.00" in m.content)
    await sam.send_text("12000")  # 120 with two extra zeros
    await sam.wait_for_message(lambda m: "The most anyone may bid is ¥10,000.00" in m.content)
    await sam.send_text("1200")  # more than he has earned
    await sam.wait_for_message(lambda m: "it holds ¥429.20 now: bid at most that" in m.content)
    await sam.send_text("120")
    placed = await sam.wait_for_message(lambda m: "Sealed bid" in m.content)
    assert "Sealed bid of ¥120.00 for STEAM-100 on “Steam top”" in placed.content

    await li.send_text("/ads")
    menu = await li.wait_for_message(lambda m: "广告位竞价" in m.content)
    assert "您的出价" not in menu.content  # sealed: Sam's bid is not shown to Li
    await li.press("出价：Steam top")
    await li.wait_for_message(lambda m: "要推荐您的哪件商品" in m.content)
    await li.press("STEAM-200 card")
    await li.wait_for_message(lambda m: "不低于 ¥50.00" in m.content)
    await li.send_text("9000")
    await li.wait_for_message(lambda m: "出价不能超过这个数" in m.content)
    await li.send_text("90.00")
    await li.wait_for_message(lambda m: "已为「Steam top」密封出价 ¥90.00" in m.content)

    # the old SKU button, pressed again after the close, is answered, not obeyed
    clock = shop.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=1)
    runner = JobRunner(
        shop.jobs, shop.ads.job_handlers(), clock, grace=timedelta(hours=1),
        lease=timedelta(minutes=1),
    )  # fmt: skip
    assert (await runner.tick()).ran
    won = await sam.wait_for_message(lambda m: "You won" in m.content)
    assert "You pay ¥90.00 (your bid was ¥120.00)" in won.content
    lost = await li.wait_for_message(lambda m: "未中标" in m.content)
    assert "您在「Steam top」的出价 ¥90.00 未中标，未扣任何费用。" in lost.content
    assert (await shop.balances.supplier(SAM)).payable == 5 * 85_84 - 90_00

    ann = server.user(ANN, language_code="en", started=True)
    await ann.send_text("/catalogue")
    await ann.wait_for_message(lambda m: "Choose a category" in m.content)
    await ann.press("Steam (2)")
    page = await ann.wait_for_message(lambda m: "page 1/1" in m.content)
    labels = [b["text"] for row in (page.reply_markup or {})["inline_keyboard"] for b in row]
    assert labels[0] == "⭐ Featured · STEAM-100 card · ¥92.00 · 15 left"
    assert not labels[1].startswith("⭐")

    wang = server.user(WANG, language_code="zh-hans", started=True)
    await wang.send_text("/catalogue")
    await wang.wait_for_message(lambda m: "Steam (2)" in str(m.reply_markup))
    await wang.press("Steam (2)")
    page = await wang.wait_for_message(lambda m: "1/1" in m.content)
    labels = [b["text"] for row in (page.reply_markup or {})["inline_keyboard"] for b in row]
    assert labels[0].startswith("⭐ 推荐 · STEAM-100 card")

    # a week later the slot has freed itself: no mark
    clock.advance(days=7)
    await ann.send_text("/catalogue")
    await ann.wait_for_message(lambda m: "Choose a category" in m.content)
    await ann.press("Steam (2)")
    page = await ann.wait_for_message(lambda m: "page 1/1" in m.content)
    labels = [b["text"] for row in (page.reply_markup or {})["inline_keyboard"] for b in row]
    assert not any(label.startswith("⭐") for label in labels)


async def test_a_reseller_buys_a_service_once_however_often_he_presses(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _market(shop)
    await shop.paid_services.price(
        ADMIN_ID, "report-month", ServiceKind.ANALYTICS_REPORT, ServiceBilling.MONTHLY,
        price=30_00, days=30,
    )  # fmt: skip
    await shop.paid_services.price(
        ADMIN_ID, "boost-7", ServiceKind.SEARCH_BOOST, ServiceBilling.ONCE, price=20_00, days=7
    )
    wang = server.user(WANG, language_code="zh-hans", started=True)
    await wang.send_text("/services")
    menu = await wang.wait_for_message(lambda m: "增值服务" in m.content)
    assert "每周经营分析报告: ¥30.00 · 每 30 天，自动续费" in menu.content
    assert "搜索置顶" not in menu.content  # a boost is for suppliers
    await wang.press("每周经营分析报告 · ¥30.00")
    confirm = await wang.wait_for_message(lambda m: "以 ¥30.00 购买" in m.content)
    await wang.press("✅ 购买", message=confirm)
    await wang.wait_for_message(lambda m: "已开通" in m.content)
    again = await wang.press_data(
        confirm.reply_markup["inline_keyboard"][0][0]["callback_data"],  # type: ignore[index]
        message=confirm,
    )  # the same Buy pressed again (a double tap, an old copy): told, not charged
    answer = await wang.wait_for_callback_answer(again)
    assert "你已购买过：每周经营分析报告有效期至" in (answer.answer_text or "")
    await wang.wait_for_message(lambda m: "本次未再扣费" in m.content)
    await wang.send_text("/services")
    menu = await wang.wait_for_message(lambda m: "我的服务" in m.content)
    assert menu.content.count("每周经营分析报告：") == 1
    assert (await shop.balances.balance(WANG)).balance == 70_00
    # a week on, the scheduler sends his report: what he bought in those 7 days
    await shop.balances.top_up(WANG, 100_00, idempotency_key="w", note="x", actor="test")
    await shop.shop.buy_now(WANG, "STEAM-100", 1, idempotency_key="w1")
    clock = shop.clock
    assert isinstance(clock, FakeClock)
    clock.advance(days=7)
    runner = JobRunner(
        shop.jobs, shop.paid_services.job_handlers(), clock, grace=timedelta(hours=1),
        lease=timedelta(minutes=1),
    )  # fmt: skip
    assert (await runner.tick()).ran
    report = await wang.wait_for_message(lambda m: "📈" in m.content)
    assert "采购 1 件，共 ¥92.00" in report.content and "• STEAM-100 × 1" in report.content


async def test_a_second_press_of_buy_says_the_boost_is_active_until_when_and_charges_once(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _market(shop)
    await shop.paid_services.price(
        ADMIN_ID, "boost-7", ServiceKind.SEARCH_BOOST, ServiceBilling.ONCE, price=20_00, days=7
    )
    payable = (await shop.balances.supplier(SAM)).payable
    sam = server.user(SAM, language_code="en", started=True)
    await sam.send_text("/services")
    menu = await sam.wait_for_message(lambda m: "Search boost · ¥20.00" in m.buttons)
    await sam.press("Search boost · ¥20.00", message=menu)
    which = await sam.wait_for_message(lambda m: "STEAM-100 card" in m.buttons)
    await sam.press("STEAM-100 card", message=which)
    confirm = await sam.wait_for_message(lambda m: "✅ Buy" in m.buttons)
    buy = confirm.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    first, second = (
        await sam.press_data(buy, message=confirm),
        await sam.press_data(buy, message=confirm),
    )  # a double tap: both presses in flight at once
    answers = [await sam.wait_for_callback_answer(q) for q in (first, second)]
    told = [a.answer_text or "" for a in answers]
    assert sum("You bought this already: Search boost (STEAM-100) is active until" in t
               for t in told) == 1, told  # fmt: skip
    await sam.wait_for_message(lambda m: "Nothing was charged again." in m.content)
    assert (await shop.balances.supplier(SAM)).payable == payable - 20_00  # charged once
    assert len(await shop.paid_services.subscriptions(SAM)) == 1


async def test_buying_a_running_service_again_says_it_extends_it_and_does(
    server: FakeTelegramServer, shop: Platform
) -> None:
    """Sam (English) boosts STEAM-100 twice, Li (Chinese) buys the monthly report twice,
    each time from a new Buy button: the second confirmation says until when it runs and
    to when buying extends it, for how much; buying extends the one running (charged once
    more, still one service each)."""
    await _market(shop)
    await shop.paid_services.price(
        ADMIN_ID, "boost-7", ServiceKind.SEARCH_BOOST, ServiceBilling.ONCE, price=20_00, days=7
    )
    await shop.paid_services.price(
        ADMIN_ID, "report-month", ServiceKind.ANALYTICS_REPORT, ServiceBilling.MONTHLY,
        price=30_00, days=30,
    )  # fmt: skip
    sam = server.user(SAM, language_code="en", started=True)
    li = server.user(LI, language_code="zh-hans", started=True)
    sam_payable = (await shop.balances.supplier(SAM)).payable
    li_payable = (await shop.balances.supplier(LI)).payable

    async def boost() -> str:
        await sam.send_text("/services")
        menu = await sam.wait_for_message(lambda m: "Search boost · ¥20.00" in m.buttons)
        await sam.press("Search boost · ¥20.00", message=menu)
        which = await sam.wait_for_message(lambda m: "STEAM-100 card" in m.buttons)
        await sam.press("STEAM-100 card", message=which)
        confirm = await sam.wait_for_message(lambda m: "✅ Buy" in m.buttons)
        await sam.press("✅ Buy", message=confirm)
        return confirm.content

    assert "Buy Search boost (STEAM-100) for ¥20.00" in await boost()
    await sam.wait_for_message(lambda m: "Search boost is yours until" in m.content)
    second = await boost()
    assert "Your Search boost (STEAM-100) runs until " in second, second
    assert "; buying now extends it to " in second and second.endswith(" for ¥20.00.")
    await sam.wait_for_message(
        lambda m: "✅ Search boost (STEAM-100) extended: it now runs until" in m.content
    )
    [boosted] = await shop.paid_services.subscriptions(SAM)
    assert boosted.ends_at - boosted.starts_at == timedelta(days=14)
    assert (await shop.balances.supplier(SAM)).payable == sam_payable - 2 * 20_00

    async def report() -> str:
        await li.send_text("/services")
        menu = await li.wait_for_message(lambda m: "每周经营分析报告 · ¥30.00" in m.buttons)
        await li.press("每周经营分析报告 · ¥30.00", message=menu)
        confirm = await li.wait_for_message(lambda m: "✅ 购买" in m.buttons)
        await li.press("✅ 购买", message=confirm)
        return confirm.content

    assert "以 ¥30.00 购买每周经营分析报告" in await report()
    await li.wait_for_message(lambda m: "每周经营分析报告已开通" in m.content)
    second = await report()
    assert second.startswith("你的每周经营分析报告有效期至 "), second
    assert "；现在以 ¥30.00 购买，将延长至 " in second
    await li.wait_for_message(lambda m: "✅ 每周经营分析报告已续期，有效期延长至" in m.content)
    [monthly] = await shop.paid_services.subscriptions(LI)
    assert (monthly.period, monthly.ends_at - monthly.starts_at) == (2, timedelta(days=60))
    assert (await shop.balances.supplier(LI)).payable == li_payable - 2 * 30_00


async def test_a_supplier_buys_a_demand_report_and_gets_a_chart_and_a_csv(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _market(shop)
    await shop.paid_services.price(
        ADMIN_ID, "demand", ServiceKind.DEMAND_REPORT, ServiceBilling.ONCE, price=40_00, days=1
    )
    before = (await shop.balances.supplier(SAM)).payable
    sam = server.user(SAM, language_code="en", started=True)
    await sam.send_text("/services")
    await sam.wait_for_message(lambda m: "Paid services" in m.content)
    await sam.press("Demand report of a category · ¥40.00")
    await sam.wait_for_message(lambda m: "Which category" in m.content)
    await sam.press("Steam")
    confirm = await sam.wait_for_message(lambda m: "for ¥40.00" in m.content)
    await sam.press("✅ Buy", message=confirm)
    chart = await sam.wait_for_message(lambda m: m.photo is not None)
    # one reseller bought in Steam: fewer than 5, so no figure and no forecast
    assert "Demand in Steam" in chart.content and "too few buyers" in chart.content
    sheet = await sam.wait_for_message(lambda m: m.document is not None)
    assert "STEAM-100: 15 in stock" in sheet.content
    csv_text = (await sam.download(sheet)).decode("utf-8-sig")
    assert csv_text.startswith("section,bucket,units,resellers")
    assert "hour,12,," in csv_text
    assert (await shop.balances.supplier(SAM)).payable == before - 40_00
    # the button now says what pressing it again does; pressed twice at once, it charges
    # nothing more and says why the report came again
    assert sam.current(confirm).buttons == ["📥 Send this report again (free)"]
    data = sam.current(confirm).reply_markup["inline_keyboard"][0][0]["callback_data"]
    mark = sam.mark()
    presses = [await sam.press_data(data, message=confirm) for _ in "12"]
    for press in presses:
        answer = await sam.wait_for_callback_answer(press)
        assert answer.answer_text == "You already bought this report; sent again at no charge."
    again = await sam.wait_for_messages(2, lambda m: m.photo is not None, after=mark)
    assert all(m.content.startswith("You already bought this report") for m in again)
    assert (await shop.balances.supplier(SAM)).payable == before - 40_00

    # the answer is in the reader's language as it is now
    await shop.catalogue.set_language(SAM, "zh-CN")
    mark = sam.mark()
    await sam.press("📥 Send this report again (free)", message=confirm)
    resent = await sam.wait_for_message(lambda m: m.photo is not None, after=mark)
    assert resent.content.startswith("您已购买过这份报告，已免费再次发送。")
    assert (await shop.balances.supplier(SAM)).payable == before - 40_00

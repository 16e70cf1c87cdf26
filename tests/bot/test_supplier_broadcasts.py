"""Broadcast credits spent in the bot: a supplier who bought credits writes /promote, sees
the preview and how many of his own past buyers it reaches (never more than his credits,
never a reseller who opted out or bought only from others), presses Send (twice: one
campaign), and the normal broadcast worker sends it; credits of buyers who blocked the bot
come back with the report. In English and Chinese."""

from __future__ import annotations

from sqlalchemy import select

from core.models import BroadcastCampaign, ServiceBilling, ServiceKind
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.factories import make_reseller, make_sku

SAM = 900  # supplier of STEAM-100, English
LI = 901  # supplier of STEAM-200, Chinese
BUYERS = (1001, 1002, 1003, 1005)  # bought from Sam; 1002 has blocked the bot
OPTED_OUT = 1004  # bought from Sam, asked for no promotions
OTHERS = 1006  # bought only from Li
PROMO = "Spring sale: <b>STEAM-100</b> restocked"


async def _market(shop: Platform) -> None:
    await make_sku(shop, "STEAM-100", stock=20, supplier=SAM)
    await make_sku(shop, "STEAM-200", stock=5, supplier=LI, category="Steam")
    await shop.catalogue.set_language(SAM, "en")
    await shop.catalogue.set_language(LI, "zh-CN")
    for reseller in (*BUYERS, OPTED_OUT, OTHERS):
        await make_reseller(shop, reseller, balance=500_00)
        sku = "STEAM-200" if reseller == OTHERS else "STEAM-100"
        await shop.shop.buy_now(reseller, sku, 1, idempotency_key=f"b{reseller}")
    await shop.broadcasts.set_opted_out(OPTED_OUT, True)
    await shop.paid_services.price(
        ADMIN_ID, "promo-3", ServiceKind.BROADCAST_CREDITS, ServiceBilling.ONCE,
        price=30_00, days=30, credits=3,
    )  # fmt: skip


async def test_a_supplier_spends_credits_on_his_own_buyers_and_gets_unreached_ones_back(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await _market(shop)
    sam = server.user(SAM, language_code="en", started=True)
    li = server.user(LI, language_code="zh-hans", started=True)
    readers = {t: server.user(t, started=True) for t in (*BUYERS, OPTED_OUT, OTHERS)}
    server.block_user(1002, notify_bot=False)

    # a reseller has nobody to promote to: not allowed (credits are for suppliers)
    await readers[1001].send_text("/promote")
    await readers[1001].wait_for_message(lambda m: "not allowed" in m.content)
    # no credits yet: told where to buy them, in his language
    await sam.send_text("/promote")
    await sam.wait_for_message(lambda m: "no broadcast credits" in m.content)
    await li.send_text("/promote")
    await li.wait_for_message(lambda m: "你没有群发额度" in m.content)

    await shop.paid_services.price(
        ADMIN_ID, "demand", ServiceKind.DEMAND_REPORT, ServiceBilling.ONCE, price=40_00, days=1
    )
    await sam.send_text("/services")
    listing = await sam.wait_for_message(lambda m: "Paid services" in m.content)
    assert "¥40.00 · once, for one day" in listing.content  # not "for 1 days"
    await sam.press("Broadcast credits · ¥30.00")
    await sam.press("✅ Buy", message=await sam.wait_for_message(lambda m: m.buttons != []))
    await sam.wait_for_message(lambda m: "Write to your past buyers with /promote" in m.content)
    await sam.send_text("/promote")
    await sam.wait_for_message(
        lambda m: "can reach up to 3 of them with your 3 broadcast credits" in m.content
    )
    await sam.send_html(PROMO)
    summary = await sam.wait_for_message(lambda m: "Recipients:" in m.content)
    assert "past buyers of" in summary.content
    assert "Recipients: 3" in summary.content  # four buyers could get it, three credits
    send = summary.callback_data("📣 Send") or ""
    # another supplier forging Sam's Send button is refused; nothing is taken or sent
    forged = await li.wait_for_callback_answer(await li.press_data(send))
    assert forged.show_alert and forged.answer_text
    assert (await shop.broadcasts.credits(SAM)).total == 3
    await sam.press("📣 Send", message=summary)
    await sam.wait_for_message(lambda m: "is being sent" in m.content)
    again = await sam.wait_for_callback_answer(await sam.press_data(send, message=summary))
    assert "already started" in (again.answer_text or "")  # the same campaign, paid once

    report = await sam.wait_for_message(
        lambda m: "finished" in m.content and not m.buttons, timeout=30
    )
    assert "Sent: 2" in report.content
    assert "Blocked the bot: 1" in report.content
    assert "Broadcast credits returned: 1" in report.content
    got = {t: [m for m in u.messages if "Spring sale" in m.content] for t, u in readers.items()}
    assert [len(got[t]) for t in (1001, 1002, 1003, 1005)] == [1, 0, 1, 0]  # the 3 earliest
    assert got[OPTED_OUT] == [] and got[OTHERS] == []
    assert (await shop.broadcasts.credits(SAM)).total == 1  # 3 - 3 taken + 1 returned
    async with shop.db.reading() as session:
        assert len(list(await session.scalars(select(BroadcastCampaign.id)))) == 1

    # the credit returned is spent on the next one
    await sam.send_text("/promote")
    await sam.wait_for_message(lambda m: "can reach up to 1 of them" in m.content)
    await sam.send_text("/cancel")
    await sam.wait_for_message(lambda m: "Nothing was sent" in m.content)
    await server.wait_callbacks_answered()


async def test_promote_shows_what_the_campaign_uses_and_what_the_other_purchases_keep(
    server: FakeTelegramServer, shop: Platform
) -> None:
    """Two purchases of 3 credits: a campaign is paid from one (the one ending first), so
    /promote says "up to 3" and that 3 more wait — not "6" — and the preview agrees."""
    await _market(shop)
    await shop.paid_services.buy(SAM, "promo-3", idempotency_key="first")
    shop.clock.advance(days=1)  # type: ignore[attr-defined]
    await shop.paid_services.buy(SAM, "promo-3", idempotency_key="second")
    await shop.paid_services.buy(LI, "promo-3", idempotency_key="first")
    await shop.paid_services.buy(LI, "promo-3", idempotency_key="second")
    sam = server.user(SAM, language_code="en", started=True)
    await sam.send_text("/promote")
    asked = await sam.wait_for_message(lambda m: "Message your past buyers" in m.content)
    assert "can reach up to 3 of them: a message is paid from one purchase" in asked.content
    assert "Your other purchases keep 3 more credits for your next messages." in asked.content
    await sam.send_html(PROMO)
    summary = await sam.wait_for_message(lambda m: "Recipients:" in m.content)
    assert "Recipients: 3" in summary.content  # four of his buyers could get it: three credits

    li = server.user(LI, language_code="zh-hans", started=True)
    await li.send_text("/promote")
    asked = await li.wait_for_message(lambda m: "群发给老客户" in m.content)
    assert "这条消息最多可发给其中 3 位" in asked.content
    assert "你其他购买中的 3 个额度留给之后的消息" in asked.content
    await server.wait_callbacks_answered()

"""The admin's upstream screen in the bot: the list, one upstream, sync now (twice, and on
an old message), the change log, and the alert a failing upstream sends once — against the
fake Telegram server and a fake Dujiao-Next upstream over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.orders import Receipt
from core.platform import Platform
from core.upstreams.service import NewUpstream
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeProduct, Mode
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import outbox_settled
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller


@pytest.fixture
async def dujiao(platform: Platform) -> AsyncIterator[FakeDujiao]:
    catalogue = Catalogue()
    catalogue.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, stock=40))
    catalogue.add(FakeProduct(2, "iTunes 50", cost=45_00, face_value=50_00, stock=None))
    async with FakeDujiao(catalogue, now=lambda: platform.clock.now().timestamp()) as fake:
        yield fake


async def test_admin_sees_syncs_and_reads_the_change_log(
    server: FakeTelegramServer, shop: Platform, dujiao: FakeDujiao
) -> None:
    new = NewUpstream("dj", "dujiao", dujiao.base_url, dujiao.key, dujiao.secret, markup_bps=800)
    await shop.upstreams.add(new, actor=ADMIN)
    admin = server.user(ADMIN_ID, started=True)
    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "Admin panel" in m.content)

    await admin.press("🔗 Upstreams")
    listing = await admin.wait_for_message(lambda m: "Upstreams" in m.content)
    assert "dj (dujiao): 0/0 on sale · last sync never · ✅ ok" in listing.content
    await admin.press("dj", message=listing)
    card = await admin.wait_for_message(lambda m: "Upstream dj" in m.content)
    assert "Balance there: not reported" in card.content

    query = await admin.press("🔄 Sync now", message=card)
    answer = await admin.wait_for_callback_answer(query)
    assert answer.answer_text == "Synced: 2 new, 0 re-priced, 0 suspended, 0 resumed."
    synced = await admin.wait_for_message(lambda m: "On sale: 2 of 2" in m.content)
    assert "Balance there: ¥1,000,000.00" in synced.content
    # pressed again on the old card: nothing new, nothing twice
    query = await admin.press("🔄 Sync now", message=card)
    answer = await admin.wait_for_callback_answer(query)
    assert answer.answer_text == "Synced: 0 new, 0 re-priced, 0 suspended, 0 resumed."
    await admin.wait_for_message(lambda m: "On sale: 2 of 2" in m.content)

    dujiao.catalogue.set_price(1, 90_00)
    await shop.upstreams.sync("dj")
    await admin.press("📜 Change log")
    log = await admin.wait_for_message(lambda m: "Change log" in m.content)
    assert "re-priced · U1-1 · ¥99.36 → ¥97.20" in log.content
    assert log.content.count("new · U1-") == 2

    # the storefront shows the upstream's products at the marked-up price and its stock
    page = await shop.storefront.skus(ADMIN_ID, limit=10)
    assert {(line.name, line.my_price, line.stock) for line in page.lines} == {
        ("Steam 100", 97_20, 40),
        ("iTunes 50", 48_60, None),
    }


async def test_a_failing_upstream_alerts_the_admin_once_and_once_on_recovery(
    server: FakeTelegramServer, shop: Platform, dujiao: FakeDujiao
) -> None:
    new = NewUpstream("dj", "dujiao", dujiao.base_url, dujiao.key, dujiao.secret)
    await shop.upstreams.add(new, actor=ADMIN)
    admin = server.user(ADMIN_ID, started=True)
    await shop.upstreams.sync("dj")
    dujiao.catalogue.failing = 502
    for _ in range(3):
        await shop.upstreams.sync("dj")
    await admin.wait_for_message(lambda m: "cannot be synced: http 502" in m.content)
    await outbox_settled(shop)
    assert sum("cannot be synced" in m.content for m in admin.messages) == 1

    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "Admin panel" in m.content)
    await admin.press("🔗 Upstreams")
    listing = await admin.wait_for_message(lambda m: "Upstreams" in m.content)
    assert "⚠️ failing: http 502" in listing.content
    assert "⚠️ dj" in listing.buttons

    dujiao.catalogue.failing = None
    await admin.press("⚠️ dj", message=listing)
    await admin.wait_for_message(lambda m: "Upstream dj" in m.content)
    query = await admin.press("🔄 Sync now")
    answer = await admin.wait_for_callback_answer(query)
    assert answer.answer_text and answer.answer_text.startswith("Synced:")
    await admin.wait_for_message(lambda m: "Upstream dj syncs again" in m.content)
    await outbox_settled(shop)
    assert sum("syncs again" in m.content for m in admin.messages) == 1


async def test_the_screen_in_chinese(
    server: FakeTelegramServer, shop: Platform, dujiao: FakeDujiao
) -> None:
    new = NewUpstream("dj", "dujiao", dujiao.base_url, dujiao.key, dujiao.secret)
    await shop.upstreams.add(new, actor=ADMIN)
    await shop.catalogue.set_language(ADMIN_ID, "zh-CN")
    admin = server.user(ADMIN_ID, started=True)
    await admin.send_text("/admin")
    await admin.wait_for_message(lambda m: "管理面板" in m.content)
    await admin.press("🔗 上游货源")
    listing = await admin.wait_for_message(lambda m: "上游货源" in m.content)
    assert "上次同步 从未" in listing.content


@pytest.mark.parametrize(
    ("language", "told"),
    [
        ("en", "delivered order #{order} (<code>{sku}</code>, 1 unit(s)) after our deadline"),
        ("zh-CN", "才交付订单 #{order}（<code>{sku}</code>，1 件）"),
    ],
)
async def test_an_upstream_delivering_after_our_deadline_is_told_to_the_admin_once(
    server: FakeTelegramServer,
    shop: Platform,
    dujiao: FakeDujiao,
    clock: FakeClock,
    language: str,
    told: str,
) -> None:
    new = NewUpstream("dj", "dujiao", dujiao.base_url, dujiao.key, dujiao.secret)
    await shop.upstreams.add(new, actor=ADMIN)
    await shop.upstreams.sync("dj")
    await shop.catalogue.set_language(ADMIN_ID, language)
    admin = server.user(ADMIN_ID, started=True)
    await make_reseller(shop, 1001, balance=500_00)
    dujiao.catalogue.mode = Mode.SLOW
    receipt = await shop.shop.buy_now(1001, "U1-1", 1, idempotency_key="late")
    assert isinstance(receipt, Receipt)
    clock.advance(minutes=31)
    await shop.fulfilments.expire_due("test")  # failed, the reseller refunded
    dujiao.catalogue.fill(dujiao.catalogue.orders[f"kameng-{receipt.order_id}"], 1)
    clock.advance(minutes=1)
    await shop.procurement.poll_due("test")
    clock.advance(minutes=10)
    await shop.procurement.poll_due("test")

    text = (
        told.format(order=receipt.order_id, sku="U1-1").replace("<code>", "").replace("</code>", "")
    )
    await admin.wait_for_message(lambda m: text in m.content)
    await outbox_settled(shop)
    assert sum(f"#{receipt.order_id}" in m.content for m in admin.messages) == 1


@pytest.mark.parametrize(
    ("language", "button", "default", "mapped"),
    [
        (
            "en",
            "🔗 Upstreams",
            "New products go to: Upstream",
            "Its categories shelved elsewhere:\n• Steam → Steam cards",
        ),
        ("zh-CN", "🔗 上游货源", "新商品归入：Upstream", "其分类另有归属：\n• Steam → Steam cards"),
    ],
)
async def test_the_upstream_card_says_where_its_products_are_shelved(
    server: FakeTelegramServer,
    shop: Platform,
    dujiao: FakeDujiao,
    language: str,
    button: str,
    default: str,
    mapped: str,
) -> None:
    """What ``kameng upstream show`` prints: the default category new products go to,
    and each of the upstream's own categories mapped to one of ours."""
    new = NewUpstream("dj", "dujiao", dujiao.base_url, dujiao.key, dujiao.secret)
    await shop.upstreams.add(new, actor=ADMIN)
    await shop.upstreams.map_category("dj", "Steam", "Steam cards", actor=ADMIN, create=True)
    await shop.catalogue.set_language(ADMIN_ID, language)
    admin = server.user(ADMIN_ID, language_code=language[:2], started=True)
    await admin.send_text("/admin")
    panel = await admin.wait_for_message(lambda m: button in m.buttons)
    await admin.press(button, message=panel)
    listing = await admin.wait_for_message(lambda m: "dj" in m.buttons)
    await admin.press("dj", message=listing)
    card = await admin.wait_for_message(lambda m: default in m.content)
    assert mapped in card.content

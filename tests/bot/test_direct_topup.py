"""Direct top-up (直充) in the bot, acted out on the fake Telegram server: a reseller buys a
mobile top-up (typing the number, or picking a saved one), in English and Chinese; the
supplier gets the task, takes it, marks it done with a serial number, or failed with a
reason; buttons pressed twice or on an old message change nothing."""

from __future__ import annotations

import pytest

from core.checks import check_ledger
from core.models import OrderStatus
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.helpers import outbox_settled
from tests.conftest import TEST_SECRET
from tests.factories import SUPPLIER_TID, make_direct_sku, make_reseller

RESELLER = 1001


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Bursts of notices to one chat (task, then each state change) without the per-chat
    pace of production (``test_sender.py`` holds that)."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        telegram_private_chat_per_second=1000.0,
        _env_file=None,
    )


async def _people(server: FakeTelegramServer, shop: Platform, language: str):  # type: ignore[no-untyped-def]
    await make_direct_sku(shop)
    await make_reseller(shop, RESELLER, balance=200_00)
    await shop.catalogue.set_language(RESELLER, language)
    await shop.catalogue.set_language(SUPPLIER_TID, "en")
    sam = server.user(SUPPLIER_TID, first_name="Sam", language_code="en", started=True)
    ann = server.user(RESELLER, first_name="Ann", language_code=language[:2], started=True)
    return ann, sam


async def test_a_reseller_tops_up_a_phone_and_the_supplier_delivers_with_a_serial(
    server: FakeTelegramServer, shop: Platform
) -> None:
    ann, sam = await _people(server, shop, "en")

    await ann.send_text("/buy MOBILE-50 1")
    await ann.wait_for_message(lambda m: "type the Phone number" in m.content)
    await ann.send_text("12345")  # not a mobile number
    await ann.wait_for_message(lambda m: "Phone number does not look right" in m.content)
    await ann.send_text("13800138000")
    quote = await ann.wait_for_message(lambda m: "Top-up to 13800138000" in m.content)
    assert "Total: ¥49.50" in quote.content
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)
    assert "waiting for the supplier" in receipt.content and "¥150.50" in receipt.content
    confirm = quote.find_button("✅ Confirm")  # as it was before the receipt replaced it
    assert confirm is not None
    again = await ann.press_data(confirm["callback_data"], message=quote)  # a double tap
    await ann.wait_for_callback_answer(again)

    task = await sam.wait_for_message(lambda m: "Top-up task" in m.content, after=0)
    assert "13800138000" in task.content and "Ann" not in task.content
    await sam.press("▶️ Start", message=task)
    await ann.wait_for_message(lambda m: "being topped up" in m.content, after=0)
    await sam.press("✅ Done", message=task)
    await sam.wait_for_message(lambda m: "serial number as proof" in m.content)
    await sam.send_text("SN-20261204-77")
    await sam.wait_for_message(lambda m: "is ✅ delivered" in m.content)

    told = await ann.wait_for_message(lambda m: "✅ delivered" in m.content, after=0)
    assert "SN-20261204-77" in told.content
    # the task's buttons on the old message: answered, nothing changes
    late = await sam.press("❌ Failed", message=task)
    answer = await sam.wait_for_callback_answer(late)
    assert "finished already" in (answer.answer_text or "")
    await ann.send_text("/orders")
    listed = await ann.wait_for_message(
        lambda m: m.find_button("#1 · 1 × MOBILE-50 top-up · ¥49.50") is not None
    )
    await ann.press("#1 · 1 × MOBILE-50 top-up · ¥49.50", message=listed)
    detail = await ann.wait_for_message(
        lambda m: "<b>Order #1</b>" in m.content or "Order #1\n" in m.content
    )
    assert "✅ delivered" in detail.content and "SN-20261204-77" in detail.content
    assert "Top-up to 13800138000" in detail.content
    await outbox_settled(shop)
    assert (await shop.balances.balance(RESELLER)).balance == 150_50
    assert (await shop.balances.supplier(SUPPLIER_TID)).payable > 0
    assert (await check_ledger(shop.db)).ok


async def test_in_chinese_a_failed_top_up_is_refunded_with_the_reason_and_saved_numbers_return(
    server: FakeTelegramServer, shop: Platform
) -> None:
    ann, sam = await _people(server, shop, "zh-CN")

    await ann.send_text("/buy MOBILE-50 1")
    await ann.wait_for_message(lambda m: "请输入手机号" in m.content)
    await ann.send_text("13900139000")
    quote = await ann.wait_for_message(lambda m: "充值到 13900139000" in m.content)
    await ann.press("✅ 确认购买", message=quote)
    await ann.wait_for_message(lambda m: "等待供货商处理" in m.content)

    task = await sam.wait_for_message(lambda m: "Top-up task" in m.content, after=0)
    await sam.press("❌ Failed", message=task)
    await sam.wait_for_message(lambda m: "Type the reason" in m.content)
    await sam.send_text("number is not a mobile line")
    await sam.wait_for_message(lambda m: "is ❌ failed" in m.content)

    told = await ann.wait_for_message(lambda m: "❌ 充值失败" in m.content, after=0)
    assert "number is not a mobile line" in told.content and "已退回 ¥49.50" in told.content
    assert (await shop.balances.balance(RESELLER)).balance == 200_00

    # the next time, the number is offered again
    await ann.send_text("/buy MOBILE-50 1")
    offer = await ann.wait_for_message(lambda m: "以前充值过的账号" in m.content)
    await ann.press("13900139000", message=offer)
    await ann.wait_for_message(lambda m: "充值到 13900139000" in m.content)
    await outbox_settled(shop)


async def test_the_supplier_lists_open_tasks_and_delivers_part(
    server: FakeTelegramServer, shop: Platform
) -> None:
    ann, sam = await _people(server, shop, "en")
    quote = await shop.fulfilments.quote(RESELLER, "MOBILE-50", 3, {"phone": "13800138000"})
    bought = await shop.shop.buy(RESELLER, quote.id)

    await sam.send_text("/tasks")
    listed = await sam.wait_for_message(lambda m: "Status:" in m.content)
    assert "13800138000" in listed.content
    await sam.press("⚠️ Partly", message=listed)
    await sam.wait_for_message(lambda m: "how many of the 3 units" in m.content)
    await sam.send_text("5")
    await sam.wait_for_message(lambda m: "from 1 to 2" in m.content)
    await sam.send_text("2")
    proof = await sam.wait_for_message(lambda m: "as proof" in m.content)
    await sam.press("Skip", message=proof)
    await sam.wait_for_message(lambda m: "partly delivered" in m.content)

    seen = await shop.shop.order(RESELLER, bought.order_id)  # type: ignore[union-attr]
    assert seen.status is OrderStatus.PARTIALLY_DELIVERED
    told = await ann.wait_for_message(lambda m: "2 of 3 delivered" in m.content, after=0)
    assert "¥49.50 was refunded" in told.content
    await sam.send_text("/tasks")
    await sam.wait_for_message(lambda m: "No open top-up tasks" in m.content)
    await outbox_settled(shop)
    assert (await check_ledger(shop.db)).ok


GAME_FIELDS = (
    "uid:Game user ID:游戏用户ID:[0-9]{5,12}",
    "zone:Zone:区服:[0-9]{1,6}",
    "note?:Note:备注:\\S.*",  # optional
)


async def _gamer(server: FakeTelegramServer, shop: Platform, language: str):  # type: ignore[no-untyped-def]
    await make_direct_sku(shop, "GAME-60", fields=GAME_FIELDS)
    await make_reseller(shop, RESELLER, balance=200_00)
    await shop.catalogue.set_language(RESELLER, language)
    return server.user(RESELLER, first_name="Ann", language_code=language[:2], started=True)


async def test_each_field_is_checked_as_typed_and_an_optional_one_is_skipped(
    server: FakeTelegramServer, shop: Platform
) -> None:
    """A wrong user ID is refused at once, naming the field, before the zone is asked; the
    zone typed next keeps the ID; the optional note is skipped; the account is what the sale
    stored, and an old Skip pressed after the form ended changes nothing."""
    ann = await _gamer(server, shop, "en")

    await ann.send_text("/buy GAME-60 1")
    await ann.wait_for_message(lambda m: "type the Game user ID" in m.content)
    await ann.send_text("abc")
    await ann.wait_for_message(lambda m: "Game user ID does not look right" in m.content)
    assert not any("Zone" in m.content for m in ann.messages)  # asked again, not moved on
    await ann.send_text("1234567")
    await ann.wait_for_message(lambda m: "type the Zone" in m.content)
    await ann.send_text("asia")
    await ann.wait_for_message(lambda m: "Zone does not look right" in m.content)
    await ann.send_text("8001")
    note = await ann.wait_for_message(lambda m: "type the Note" in m.content)
    assert "press Skip" in note.content
    await ann.press("Skip", message=note)
    quote = await ann.wait_for_message(lambda m: "Top-up to 1234567 · 8001" in m.content)
    await ann.press("✅ Confirm", message=quote)
    receipt = await ann.wait_for_message(lambda m: "Order #" in m.content)
    assert "waiting for the supplier" in receipt.content

    [order], _ = await shop.shop.orders(RESELLER)
    seen = await shop.shop.order(RESELLER, order.id)
    assert seen.fulfilment is not None
    assert seen.fulfilment.account == {"uid": "1234567", "zone": "8001"}  # no note
    await ann.press("Skip", message=note)  # the form has ended
    await ann.wait_for_message(lambda m: "That form has ended" in m.content)
    await outbox_settled(shop)


async def test_in_chinese_a_wrong_value_names_its_field_and_a_given_note_is_kept(
    server: FakeTelegramServer, shop: Platform
) -> None:
    ann = await _gamer(server, shop, "zh-CN")

    await ann.send_text("/buy GAME-60 1")
    await ann.wait_for_message(lambda m: "请输入游戏用户ID" in m.content)
    await ann.send_text("12")
    await ann.wait_for_message(lambda m: "游戏用户ID格式不正确" in m.content)
    await ann.send_text("123456")
    await ann.wait_for_message(lambda m: "请输入区服" in m.content)
    await ann.send_text("7")
    note = await ann.wait_for_message(lambda m: "请输入备注" in m.content)
    assert note.find_button("跳过") is not None and "此项可不填" in note.content
    await ann.send_text("VIP")
    await ann.wait_for_message(lambda m: "充值到 123456 · 7 · VIP" in m.content)
    await outbox_settled(shop)

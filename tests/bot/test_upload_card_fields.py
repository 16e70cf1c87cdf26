"""A supplier uploads cards with a number and a password (a GB18030 CSV with a header, or
pasted), sees every line counted, and resellers receive both fields, ready to copy."""

from __future__ import annotations

from typing import Any

from core.models import StockKind
from core.platform import Platform
from core.reviews import NewProduct
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.factories import make_reseller

SAM = 2001
ANN, BAI = 1001, 1002


def _has(text: str) -> Any:
    return lambda m: text in m.content


async def _approved_sku(shop: Platform) -> str:
    await shop.catalogue.ensure_user(SAM, language="zh-CN")
    application = await shop.onboarding.apply(SAM, company_name="Sam Cards", contact_note="-")
    await shop.onboarding.decide(application.id, admin_telegram_id=ADMIN_ID, approve=True)
    product = NewProduct("JD 100", "Gift cards", 100_00, 90_00, StockKind.UNIQUE, False, "own")
    submitted = await shop.reviews.submit(SAM, product)
    await shop.reviews.decide(submitted.id, admin_telegram_id=ADMIN_ID, approve=True)
    return submitted.sku_code


async def test_a_gb18030_card_file_is_counted_line_by_line_and_sold_with_both_fields(
    server: FakeTelegramServer, shop: Platform
) -> None:
    sku = await _approved_sku(shop)
    await make_reseller(shop, ANN, balance=5_000_00)
    await make_reseller(shop, BAI, balance=5_000_00)
    await shop.catalogue.set_language(BAI, "zh-CN")
    sam = server.user(SAM, language_code="zh-hans")
    upload = (
        '卡号,卡密\r\nJD-0001,密码-0001\r\n\r\n"JD-0002","pw,0002"\r\nJD-0001,密码-0001\r\n'
    ).encode("gb18030") + b"\x8f\xff\x00\xa3\r\nJD-\x07BELL,x\r\n"

    await sam.send_text(f"/upload {sku}")
    await sam.wait_for_message(_has("发送"))
    await sam.send_document("cards.csv", upload)

    report = await sam.wait_for_message(_has("文件内重复"))
    for line in (
        "读取行数：7",
        "已添加：2",
        "文件内重复：1",
        "平台已存在：0",
        "无效：2",
        "空行：1",
        "跳过的表头行：1",
    ):
        assert line in report.content.splitlines(), line
    returned = await sam.wait_for_message(lambda m: m.document is not None)
    rows = (await sam.download(returned)).decode().splitlines()
    assert [row.split("\t")[:2] for row in rows] == [
        ["5", "文件内重复"],
        ["6", "含无法识别的字符（编码错误）"],
        ["7", "含控制字符"],
    ]

    ann = server.user(ANN, language_code="en")
    await ann.send_text(f"/buy {sku} 1")
    await ann.press("✅ Confirm", message=await ann.wait_for_message(_has("Total:")))
    receipt = await ann.wait_for_message(_has("Order #"))
    assert "Card no.: JD-0001  Password: 密码-0001" in receipt.content
    assert receipt.codes == ["JD-0001", "密码-0001"]  # each field copyable on its own

    bai = server.user(BAI, language_code="zh-hans")
    await bai.send_text(f"/buy {sku} 1")
    await bai.press("✅ 确认购买", message=await bai.wait_for_message(_has("合计")))
    receipt = await bai.wait_for_message(_has("订单 #"))
    assert "卡号：JD-0002  密码：pw,0002" in receipt.content
    assert receipt.codes == ["JD-0002", "pw,0002"]


async def test_pasted_cards_and_more_than_twenty_come_as_a_tab_separated_file(
    server: FakeTelegramServer, shop: Platform
) -> None:
    sku = await _approved_sku(shop)
    await make_reseller(shop, ANN, balance=5_000_00)
    sam = server.user(SAM, language_code="zh-hans")
    pasted = "number\tpassword\n" + "\n".join(
        f"N-{n:02d}\tP-{n:02d}" + ("\n" if n == 3 else "") for n in range(25)
    )

    await sam.send_text(f"/upload {sku}")
    await sam.wait_for_message(_has("发送"))
    await sam.send_text(pasted)

    report = await sam.wait_for_message(_has("文件内重复"))
    assert "读取行数：27\n已添加：25\n" in report.content
    assert "空行：1\n跳过的表头行：1\n" in report.content

    ann = server.user(ANN, language_code="en")
    await ann.send_text(f"/buy {sku} 21")
    await ann.press("✅ Confirm", message=await ann.wait_for_message(_has("Total:")))
    sent = await ann.wait_for_message(lambda m: m.document is not None)
    lines = (await ann.download(sent)).decode().splitlines()
    assert lines[0] == "number\tpassword"
    assert lines[1:] == [f"N-{n:02d}\tP-{n:02d}" for n in range(21)]

"""What each role can discover: the "/" command menu (set per chat for suppliers and admins,
in their language), /help with a section per role, and the admin panel's waiting lists.
Acted out against the fake Telegram server on a real database."""

from __future__ import annotations

from typing import Any

import pytest

from bot.command_menus import MENUS, command_names
from core.models import Role
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.bot.helpers import eventually
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

ZH_SUPPLIER, ZH_ADMIN = 901, 43
EN_RESELLER, ZH_RESELLER = 1001, 1002
APPLICANT, NEWCOMER = 2001, 3001
UNKNOWN = "I don't know that command"
RESELLER_ONLY = command_names(())
SUPPLIER_ONLY = list(MENUS[Role.SUPPLIER])
ADMIN_ONLY = list(MENUS[Role.ADMIN])


def _chat(telegram_id: int) -> dict[str, Any]:
    return {"type": "chat", "chat_id": telegram_id}


def _names(commands: list[dict[str, Any]]) -> list[str]:
    return [command["command"] for command in commands]


def _described(commands: list[dict[str, Any]]) -> dict[str, str]:
    return {command["command"]: command["description"] for command in commands}


@pytest.fixture
def policy() -> str:
    return "open"


@pytest.fixture
def settings(settings: Settings, policy: str) -> Settings:
    return settings.model_copy(update={"registration": policy})


@pytest.fixture
async def staff(server: FakeTelegramServer, platform: Platform) -> None:
    """Suppliers, admins and resellers in both languages, known to the bot and to Telegram
    (they wrote to it before) before the bot starts."""
    for telegram_id, role in (
        (SUPPLIER_TID, Role.SUPPLIER),
        (ZH_SUPPLIER, Role.SUPPLIER),
        (ZH_ADMIN, Role.ADMIN),
    ):
        await platform.catalogue.ensure_user(telegram_id)  # wrote to the bot before
        await platform.catalogue.grant_role(telegram_id, role, actor=ADMIN)
    await platform.catalogue.set_language(SUPPLIER_TID, "en")
    await platform.catalogue.set_language(ZH_SUPPLIER, "zh-CN")
    await platform.catalogue.set_language(ZH_ADMIN, "zh-CN")
    await make_reseller(platform, EN_RESELLER)
    await make_reseller(platform, ZH_RESELLER)
    await platform.catalogue.set_language(ZH_RESELLER, "zh-CN")
    for telegram_id in (ADMIN_ID, SUPPLIER_TID, EN_RESELLER):
        server.user(telegram_id, language_code="en", started=True)
    for telegram_id in (ZH_SUPPLIER, ZH_ADMIN, ZH_RESELLER):
        server.user(telegram_id, language_code="zh-hans", started=True)


async def test_each_role_sees_its_commands_in_its_language(
    server: FakeTelegramServer, staff: None, shop: Platform
) -> None:
    # resellers: the default menus, English and Chinese, reseller commands only
    for language_code in ("", "en", "zh"):
        assert _names(server.commands(language_code=language_code)) == RESELLER_ONLY
    assert _described(server.commands(language_code="en"))["orders"] == "My orders"
    assert _described(server.commands(language_code="zh"))["start"] == "主菜单"
    for reseller in (EN_RESELLER, ZH_RESELLER):
        assert server.commands(_chat(reseller)) == []  # nothing of their own

    # suppliers: their chat's menu adds the supplier commands, not the admins'
    for supplier in (SUPPLIER_TID, ZH_SUPPLIER):
        names = _names(server.commands(_chat(supplier)))
        assert set(SUPPLIER_ONLY) <= set(names) and "start" in names
        assert not set(ADMIN_ONLY) & set(names)
        assert "supplier" not in names  # no applying again
    assert _described(server.commands(_chat(SUPPLIER_TID)))["upload"] == (
        "Upload codes: /upload SKU"
    )
    assert _described(server.commands(_chat(ZH_SUPPLIER)))["upload"] == "上传卡密：/upload 商品编码"

    # admins: the admin commands, in their language
    for admin in (ADMIN_ID, ZH_ADMIN):
        names = _names(server.commands(_chat(admin)))
        assert set(ADMIN_ONLY) <= set(names) and "start" in names
        assert not set(SUPPLIER_ONLY) & set(names)
    assert _described(server.commands(_chat(ADMIN_ID)))["promo"] == "Schedule a promotion"
    assert _described(server.commands(_chat(ZH_ADMIN)))["promo"] == "创建定时促销"
    assert _described(server.commands(_chat(ZH_ADMIN)))["broadcast"] == "群发消息给分销商"


async def test_the_payment_commands_are_in_the_menus_of_who_may_use_them(
    server: FakeTelegramServer, staff: None, shop: Platform
) -> None:
    assert "stars" in _names(server.commands(language_code="en"))
    assert (
        _described(server.commands(language_code="zh"))["stars"]
        == "用 Telegram 星星充值：/stars 金额"
    )
    admin_payments = {"payments", "paycredit", "usdt", "usdtrate", "usdtcredit"}
    admin_payments |= {"stars_rate", "stars_refund"}
    assert not admin_payments & set(_names(server.commands(language_code="en")))
    for admin in (ADMIN_ID, ZH_ADMIN):
        assert admin_payments <= set(_names(server.commands(_chat(admin))))
    zh = _described(server.commands(_chat(ZH_ADMIN)))
    assert zh["stars_refund"] == "退还星星支付：/stars_refund 支付单号 原因"
    assert zh["usdtcredit"] == "USDT 转账入账：/usdtcredit 交易ID 用户ID 备注"
    english = _described(server.commands(_chat(ADMIN_ID)))
    assert all(zh[name] != english[name] for name in admin_payments)  # each one translated


async def test_a_staff_menu_follows_a_language_switch(
    server: FakeTelegramServer, staff: None, shop: Platform
) -> None:
    supplier = server.user(SUPPLIER_TID, started=True)
    await supplier.send_text("/language")
    await supplier.wait_for_message(lambda m: "中文" in m.buttons)
    await supplier.press("中文")
    await supplier.wait_for_message(lambda m: "English" not in m.buttons)
    assert _described(server.commands(_chat(SUPPLIER_TID)))["earnings"] == "收益和提现"


@pytest.mark.parametrize("role", [Role.RESELLER, Role.SUPPLIER, Role.ADMIN])
async def test_every_command_in_a_menu_has_a_handler(
    server: FakeTelegramServer, shop: Platform, role: Role
) -> None:
    """Each command of a role's menu, sent by a fresh user of that role (no form left open
    by the command before), gets an answer other than "unknown command"."""
    for number, name in enumerate(command_names({role})):
        telegram_id = 5000 + number
        await make_reseller(shop, telegram_id)
        if role is not Role.RESELLER:
            await shop.catalogue.grant_role(telegram_id, role, actor=ADMIN)
        user = server.user(telegram_id, language_code="en", started=True)
        await user.send_text(f"/{name}")
        reply = await user.wait_for_message()
        assert UNKNOWN not in reply.content, name


async def test_help_has_a_section_per_role(
    server: FakeTelegramServer, staff: None, shop: Platform
) -> None:
    async def help_of(telegram_id: int) -> str:
        user = server.user(telegram_id, started=True)
        await user.send_text("/help")
        return (await user.wait_for_message()).content

    reseller = await help_of(EN_RESELLER)
    assert "How it works" in reseller
    assert "As a supplier" not in reseller and "As an admin" not in reseller

    supplier = await help_of(SUPPLIER_TID)
    assert "How it works" in supplier and "As a supplier" in supplier
    assert "/upload — Upload codes: /upload SKU" in supplier
    assert "/earnings — Earnings and withdrawals" in supplier
    assert "As an admin" not in supplier

    admin = await help_of(ADMIN_ID)
    assert "As an admin" in admin and "/broadcast — Message resellers" in admin
    assert "/export — Orders as CSV" in admin and "As a supplier" not in admin

    zh_supplier = await help_of(ZH_SUPPLIER)
    assert "供货商功能" in zh_supplier and "/myproducts — 我的商品、库存和销量" in zh_supplier
    zh_admin = await help_of(ZH_ADMIN)
    assert "管理员功能" in zh_admin and "/promos —" in zh_admin and "供货商功能" not in zh_admin
    zh_reseller = await help_of(ZH_RESELLER)
    assert "管理员功能" not in zh_reseller and "供货商功能" not in zh_reseller


@pytest.mark.parametrize("policy", ["approval"])
async def test_panel_counts_and_lists_applications_withdrawals_and_registrations(
    server: FakeTelegramServer, staff: None, shop: Platform
) -> None:
    # one of each waits: a supplier application, a withdrawal, a registration request
    await make_sku(shop, stock=2)
    await make_reseller(shop, EN_RESELLER, balance=100_00)
    await shop.shop.buy_now(EN_RESELLER, "STEAM-100", 1, idempotency_key="k")
    await shop.supplier_payouts.request_withdrawal(SUPPLIER_TID, 10_00)
    await make_reseller(shop, APPLICANT)
    applicant = server.user(APPLICANT, language_code="en", started=True)
    await shop.onboarding.apply(APPLICANT, company_name="Sam Cards", contact_note="@sam")
    newcomer = server.user(NEWCOMER, first_name="Ann", language_code="en", started=True)
    await newcomer.send_text("/start")
    await newcomer.wait_for_message(lambda m: "sent to the admins" in m.content)

    admin = server.user(ADMIN_ID, started=True)
    await admin.send_text("/admin")
    panel = await admin.wait_for_message(lambda m: "Admin panel" in m.content)
    assert "Supplier applications waiting: 1" in panel.content
    assert "Withdrawal requests waiting: 1" in panel.content
    assert "Registration requests waiting: 1" in panel.content
    assert {
        "🏭 Supplier applications (1)",
        "💸 Withdrawals (1)",
        "🚪 Registrations (1)",
    } <= set(panel.buttons)

    # each list re-sends the item with its decision buttons, which work from there
    assert server.commands(_chat(APPLICANT)) == []
    await admin.press("🏭 Supplier applications (1)", message=panel)
    card = await admin.wait_for_message(lambda m: "Supplier application #" in m.content)
    assert "Sam Cards" in card.content and card.buttons == ["✅ Approve", "❌ Reject"]
    await admin.press("✅ Approve", message=card)
    await applicant.wait_for_message(lambda m: "approved" in m.content)
    assert set(SUPPLIER_ONLY) <= set(_names(server.commands(_chat(APPLICANT))))  # at once

    await admin.press("💸 Withdrawals (1)", message=panel)
    request = await admin.wait_for_message(
        lambda m: "asks for ¥10.00" in m.content and "payable" not in m.content
    )
    assert request.buttons == ["✅ Mark paid", "❌ Reject"]
    await admin.press("✅ Mark paid", message=request)
    await eventually(
        lambda: _counts(shop, "withdrawals", 0), "the withdrawal to be paid", timeout=10
    )

    await admin.press("🚪 Registrations (1)", message=panel)
    join = await admin.wait_for_message(lambda m: "wants to join" in m.content)
    await admin.press("✅ Approve", message=join)
    await newcomer.wait_for_message(lambda m: "Ann" in m.content)

    await admin.send_text("/admin")
    after = await admin.wait_for_message(lambda m: "Admin panel" in m.content)
    assert "🏭 Supplier applications (0)" in after.buttons
    assert "Registration requests waiting: 0" in after.content

    zh_admin = server.user(ZH_ADMIN, started=True)
    await zh_admin.send_text("/admin")
    zh_panel = await zh_admin.wait_for_message(lambda m: "管理面板" in m.content)
    assert "待审核的供货商申请" in zh_panel.content and "🚪 注册申请（0）" in zh_panel.buttons


async def _counts(shop: Platform, name: str, expected: int) -> bool:
    return (await shop.admin.pending_counts(ADMIN_ID))[name] == expected

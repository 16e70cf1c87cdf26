"""Telegram lets a bot write to a user, or set a menu in their chat, only once they have
written to it. A user the operator created (``kameng user grant``, ``balance credit``) has
not: the bot leaves them out until they write, and Telegram never has to refuse it."""

from __future__ import annotations

from bot.app import create_bot
from bot.command_menus import register_all
from bot.i18n import make_i18n
from core.models import Role
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import ADMIN_ID
from tests.bot.test_broadcasts import SALE_HTML, compose, copies, report_of
from tests.factories import ADMIN

GRANTED_SUPPLIER, GRANTED_RESELLER, WROTE = 7001, 7002, 7003


async def test_no_menu_is_set_for_a_supplier_granted_from_the_cli_who_never_wrote(
    server: FakeTelegramServer, platform: Platform, shop: Platform
) -> None:
    await platform.catalogue.grant_role(GRANTED_SUPPLIER, Role.SUPPLIER, actor=ADMIN)
    server.user(GRANTED_SUPPLIER)  # exists on Telegram, never opened the bot

    # the shop fixture started the bot before the grant: a restart sets the menus again
    menu_calls = len(server.calls("setMyCommands"))
    bot = create_bot(shop.settings)
    try:
        await register_all(bot, make_i18n(), shop)
    finally:
        await bot.session.close()

    scopes = [c.get("scope") for c in server.calls("setMyCommands")[menu_calls:]]
    assert {"type": "chat", "chat_id": ADMIN_ID} in scopes  # the admin's, who wrote
    assert {"type": "chat", "chat_id": GRANTED_SUPPLIER} not in scopes
    assert server.errors == []


async def test_a_broadcast_leaves_out_resellers_who_never_wrote(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await shop.catalogue.grant_role(GRANTED_RESELLER, Role.RESELLER, actor=ADMIN)
    never = server.user(GRANTED_RESELLER)
    wrote = server.user(WROTE)
    await wrote.send_text("/start")
    await wrote.wait_for_message(lambda m: "Welcome" in m.content)
    admin = server.user(ADMIN_ID)

    summary = await compose(admin, SALE_HTML)
    assert "Recipients: 2" in summary.content  # the one who wrote, and the admin
    await admin.press("📣 Send", message=summary)
    report = await admin.wait_for_message(report_of(admin))
    assert "Sent: 2" in report.content
    assert len(copies(wrote)) == 1 and copies(never) == []
    assert server.errors == []

    await never.send_text("/start")  # now they wrote: the next broadcast reaches them
    await never.wait_for_message()  # welcomed (in Chinese: the grant's default language)
    summary = await compose(admin, SALE_HTML)
    assert "Recipients: 3" in summary.content

"""The chat page in a real browser: headless Chromium (Debian's) driven by Playwright,
the real bot polling the fake Telegram server, a real database."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from core.models import Role
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.personas import PERSONAS, RESELLER_SILVER, SUPPLIER
from tests.bot.conftest import server, shop  # noqa: F401 - the bot's fixtures, reused
from tests.factories import ADMIN, make_sku
from tests.sandbox.chat_helpers import chromium, screenshots_dir, serving


async def _people(platform: Platform) -> list[str]:
    """A SKU of the persona supplier with 10 codes; the silver reseller with ¥500.00."""
    codes = await make_sku(platform, "STEAM-100", stock=10, supplier=SUPPLIER.telegram_id)
    silver = RESELLER_SILVER.telegram_id
    await platform.catalogue.ensure_user(silver, username="maya_cards", language="en")
    await platform.catalogue.set_level(silver, "silver", actor=ADMIN)
    await platform.balances.top_up(silver, 500_00, idempotency_key="seed", note="seed", actor=ADMIN)
    await platform.catalogue.grant_role(SUPPLIER.telegram_id, Role.SUPPLIER, actor=ADMIN)
    return codes


async def _open(page: Page, url: str, persona: str) -> None:
    await page.goto(f"{url}/#{persona}")
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")


async def test_a_reseller_opens_the_menu_and_buys_codes(
    server: FakeTelegramServer,  # noqa: F811
    shop: Platform,  # noqa: F811
    tmp_path: Path,
) -> None:
    codes = await _people(shop)
    shots = screenshots_dir(tmp_path)
    async with serving(server, shop, PERSONAS) as url, chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await _open(page, url, RESELLER_SILVER.key)
        await expect(page.get_by_test_id("balance")).to_have_text("¥500.00")
        await page.get_by_test_id("message-input").fill("/start")
        await page.get_by_test_id("send-button").click()
        keyboard = page.get_by_test_id("reply-keyboard")
        await expect(keyboard.get_by_text("🛒 Catalogue")).to_be_visible()
        await keyboard.get_by_text("🛒 Catalogue").click()
        await page.screenshot(path=str(shots / "reseller-catalogue.png"))
        await page.wait_for_timeout(1500)
        await page.screenshot(path=str(shots / "reseller-catalogue2.png"))
        del codes

"""The sandbox as a person tries it: ``kameng sandbox`` started as a developer starts it (the
full demo platform, the real bot on the Telegram emulator), and its chat page in a real
headless Chromium (Debian's ``chromium``, driven by Playwright).

A silver reseller browses the catalogue and buys 3 codes; the supplier of that SKU sees the
sale notice; the admin opens the reports and sees the chart; the supplier uploads a codes
file and sees the counts. Screenshots go to ``KAMENG_SCREENSHOTS`` (default: the test's
temporary directory); the time from the command to the first page is printed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sandbox.personas import ADMIN, RESELLER_SILVER, SUPPLIER, Persona
from tests.sandbox.chat_helpers import chromium, screenshots_dir
from tests.sandbox.sandbox_process import sandbox_process

# the sandbox runs the real bot; a step waits for what a person would wait for
STEP_MS = 20_000


async def _as(page: Any, persona: Persona) -> None:
    """Pick a persona in the switcher and wait for its live chat."""
    from playwright.async_api import expect

    await page.locator(f'[data-testid="persona"][data-persona="{persona.key}"]').click()
    await expect(page.get_by_test_id("chat-title")).to_contain_text(persona.title_en)
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")


async def _say(page: Any, text: str) -> None:
    await page.get_by_test_id("message-input").fill(text)
    await page.get_by_test_id("send-button").click()


def _bot_message(page: Any, text: str) -> Any:
    """The newest message of the bot that contains ``text``."""
    return page.locator('[data-testid="message"][data-from="bot"]').filter(has_text=text).last


async def _press(page: Any, message: Any, label: str) -> None:
    await message.get_by_test_id("inline-button").filter(has_text=label).first.click()


async def test_a_visitor_buys_codes_and_sees_each_side_of_the_sale(tmp_path: Path) -> None:
    async with chromium() as browser, sandbox_process(tmp_path) as box:
        from playwright.async_api import expect

        expect.set_options(timeout=STEP_MS)
        shots = screenshots_dir(tmp_path)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(box.page_url)
        await expect(page.get_by_test_id("persona").first).to_be_visible()
        first_page = time.monotonic() - box.started
        print(f"\nfrom `kameng sandbox` to the first page: {first_page:.1f} s")
        (shots / "time-to-first-page.txt").write_text(f"{first_page:.1f} s\n")

        # a reseller browses and buys 3 codes of the supplier's Steam card
        await _as(page, RESELLER_SILVER)
        await _say(page, "/start")
        catalogue = page.get_by_test_id("reply-button").filter(has_text="Catalogue")
        await catalogue.click()
        categories = _bot_message(page, "Choose a category")
        await _press(page, categories, "Game cards")
        listing = _bot_message(page, "page 1/")
        await _press(page, listing, "Steam 钱包充值卡 50 元")
        card = _bot_message(page, "Face value")
        await _press(page, card, "Other quantity")
        await expect(_bot_message(page, "How many")).to_be_visible()
        await _say(page, "3")
        quote = _bot_message(page, "Total:")
        await expect(quote).to_contain_text("3 ×")
        await _press(page, quote, "Confirm")
        receipt = _bot_message(page, "Order #")
        await expect(receipt.locator("code")).to_have_count(3)
        await page.screenshot(path=str(shots / "sandbox-reseller-receipt.png"))

        # the supplier of that SKU hears of the sale
        await _as(page, SUPPLIER)
        notice = _bot_message(page, "已售出")
        await expect(notice).to_contain_text("3 × Steam 钱包充值卡 50 元")
        await page.screenshot(path=str(shots / "sandbox-supplier-sale.png"))

        # the admin opens the reports and sees the chart
        await _as(page, ADMIN)
        await _say(page, "/reports")
        await _press(page, _bot_message(page, "which period"), "7 days")
        chart = page.get_by_test_id("photo").last
        await expect(chart).to_be_visible()
        loaded = await chart.evaluate("image => image.complete && image.naturalWidth > 0")
        assert loaded, "the report chart did not load"
        await chart.scroll_into_view_if_needed()
        await page.screenshot(path=str(shots / "sandbox-admin-report.png"))

        # the supplier uploads a codes file and sees the counts
        await _as(page, SUPPLIER)
        await _say(page, "/upload STEAM-50")
        await expect(_bot_message(page, "发送")).to_be_visible()
        codes = "".join(f"SANDBOX-STEAM-50-{n:04d}\n" for n in range(1, 21))
        await page.get_by_test_id("document-input").set_input_files(
            {"name": "steam-50.txt", "mimeType": "text/plain", "buffer": codes.encode()}
        )
        report = _bot_message(page, "读取行数")
        await expect(report).to_contain_text("已添加：20")
        await page.screenshot(path=str(shots / "sandbox-supplier-upload.png"))

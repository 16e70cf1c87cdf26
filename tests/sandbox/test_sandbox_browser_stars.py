"""Topping up with Telegram Stars in ``kameng sandbox``, as a person does it in Chromium: the
reseller asks for a Stars top-up, the invoice appears with its Pay button, paying it asks
the bot first and then the balance in the side panel changes (see test_sandbox_browser.py)."""

from __future__ import annotations

from pathlib import Path

from sandbox.personas import RESELLER_SILVER
from tests.sandbox.chat_helpers import chromium, screenshots_dir
from tests.sandbox.sandbox_process import sandbox_process
from tests.sandbox.test_sandbox_browser import STEP_MS, _as, _say


async def test_a_reseller_tops_up_with_stars_in_the_chat_page(tmp_path: Path) -> None:
    async with chromium() as browser, sandbox_process(tmp_path) as box:
        from playwright.async_api import expect

        expect.set_options(timeout=STEP_MS)
        shots = screenshots_dir(tmp_path)
        page = await browser.new_page(viewport={"width": 1280, "height": 800})
        await page.goto(box.page_url)
        await _as(page, RESELLER_SILVER)
        balance = page.locator("#balance")
        shown_before = await balance.inner_text()
        await _say(page, "/stars 10")
        invoice = page.get_by_test_id("invoice").last
        await expect(invoice).to_contain_text("⭐ 100")  # ¥10.00 at the demo's ¥0.10 a star
        await page.screenshot(path=str(shots / "sandbox-stars-invoice.png"))
        await page.get_by_test_id("pay-button").last.click()
        await expect(page.get_by_test_id("invoice-paid").last).to_be_visible()
        await expect(balance).not_to_have_text(shown_before)
        await page.screenshot(path=str(shots / "sandbox-stars-paid.png"))

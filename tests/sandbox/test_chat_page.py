"""The chat page in a real browser: headless Chromium (Debian's) driven by Playwright, the
real bot polling the fake Telegram server, a real database. Screenshots go to
``KAMENG_SCREENSHOTS`` (default: the test's temporary directory)."""

from __future__ import annotations

from pathlib import Path

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from playwright.async_api import Browser, Locator, Page, expect

from core.models import Role
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.personas import ADMIN as ADMIN_PERSONA
from sandbox.personas import NEWCOMER, PERSONAS, RESELLER_SILVER, SECOND_SUPPLIER
from tests.bot.conftest import server, shop  # noqa: F401 - the bot's fixtures, reused
from tests.bot.helpers import eventually
from tests.factories import ADMIN, make_sku
from tests.sandbox.chat_helpers import chromium, screenshots_dir, serving
from tests.sandbox.helpers import PNG_1x1, make_bot

MAYA = RESELLER_SILVER.telegram_id
LEO = SECOND_SUPPLIER.telegram_id
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


async def _people(platform: Platform) -> list[str]:
    """Maya (silver reseller, English) with ¥500.00; Leo (supplier, English) owns an empty
    SKU; STEAM-100 has 10 codes at ¥92.00."""
    codes = await make_sku(platform, "STEAM-100", stock=10)
    await make_sku(
        platform, "NETFLIX-1M", price=30_00, supply_price=25_00, category="Video", supplier=LEO
    )
    await platform.catalogue.set_language(LEO, "en")
    await platform.catalogue.ensure_user(MAYA, username="maya_cards", language="en")
    await platform.catalogue.set_level(MAYA, "silver", actor=ADMIN)
    await platform.balances.top_up(MAYA, 500_00, idempotency_key="seed", note="seed", actor=ADMIN)
    return codes


BROWSER_ERRORS: dict[int, list[str]] = {}  # page id → what its console reported as errors


async def _open(browser: Browser, url: str, persona: str, **options: object) -> Page:
    page = await browser.new_page(viewport=options.pop("viewport", WIDE), **options)  # type: ignore[arg-type]
    errors = BROWSER_ERRORS.setdefault(id(page), [])
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{url}/#{persona}")
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    return page


async def _say(page: Page, text: str) -> None:
    await page.get_by_test_id("message-input").fill(text)
    await page.get_by_test_id("send-button").click()


def _bot_message(page: Page, text: str) -> Locator:
    return page.locator('[data-testid="message"][data-from="bot"]', has_text=text)


async def test_a_reseller_browses_presses_buttons_and_buys_three_codes(
    server: FakeTelegramServer,  # noqa: F811
    shop: Platform,  # noqa: F811
    tmp_path: Path,
) -> None:
    codes = await _people(shop)
    shots = screenshots_dir(tmp_path)
    async with serving(server, shop, PERSONAS) as url, chromium() as browser:
        page = await _open(browser, url, RESELLER_SILVER.key)
        await expect(page.get_by_test_id("balance")).to_have_text("¥500.00")
        await expect(page.get_by_test_id("level")).to_have_text("silver")

        # the command menu lists the commands the bot registered for her language
        await page.get_by_test_id("menu-button").click()
        menu = page.get_by_test_id("command-menu")
        await expect(menu.locator('[data-command="catalogue"]')).to_contain_text("Browse products")
        await menu.locator('[data-command="start"]').click()
        keyboard = page.get_by_test_id("reply-keyboard")
        await expect(keyboard.get_by_text("🛒 Catalogue")).to_be_visible()

        await keyboard.get_by_text("🛒 Catalogue").click()
        categories = page.get_by_test_id("message").filter(has_text="Choose a category")
        await categories.get_by_role("button", name="Steam (1)").click()
        # the same message, edited in place: no new bubble, an "edited" mark
        listing = page.get_by_test_id("message").filter(has_text="page 1/1")
        await expect(listing.get_by_test_id("edited-mark")).to_be_visible()
        gone = page.get_by_test_id("message").filter(has_text="Choose a category")
        await expect(gone).to_have_count(0)
        await listing.get_by_test_id("inline-button").first.click()
        card = page.get_by_test_id("message").filter(has_text="Face value: ¥100.00")
        await card.get_by_role("button", name="5", exact=True).click()
        quote = page.get_by_test_id("message").filter(has_text="Total: ¥460.00")
        await quote.get_by_role("button", name="✖ Cancel").click()
        await expect(page.get_by_test_id("toast")).to_have_text("Cancelled. Nothing was charged.")

        await _say(page, "/buy STEAM-100 3")
        quote = page.get_by_test_id("message").filter(has_text="Total: ¥276.00")
        await quote.get_by_role("button", name="✅ Confirm").click()
        receipt = page.get_by_test_id("message").filter(has_text="Order #")
        await expect(receipt.get_by_test_id("code")).to_have_text(codes[:3])
        await expect(page.get_by_test_id("balance")).to_have_text("¥224.00")
        await page.screenshot(path=str(shots / "sandbox-chat-reseller.png"))

        # what Telegram saw: the bot's calls for this chat, newest first
        log = page.get_by_test_id("call")
        await expect(log.filter(has_text="editMessageText").first).to_be_visible()
        await expect(log.filter(has_text="answerCallbackQuery").first).to_be_visible()
        # nothing the page asked for was missing (a favicon included), no script failed
        assert BROWSER_ERRORS[id(page)] == []


async def test_a_supplier_uploads_a_codes_file_and_sees_the_counts(
    server: FakeTelegramServer,  # noqa: F811
    shop: Platform,  # noqa: F811
    tmp_path: Path,
) -> None:
    await _people(shop)
    codes_file = tmp_path / "codes.txt"
    codes_file.write_text("NF-0001\nNF-0002\nNF-0003\nNF-0003\n")
    async with serving(server, shop, PERSONAS) as url, chromium() as browser:
        page = await _open(browser, url, SECOND_SUPPLIER.key)
        await expect(page.get_by_test_id("roles")).to_contain_text("supplier")
        await _say(page, "/upload NETFLIX-1M")
        await expect(_bot_message(page, "Send the codes")).to_be_visible()
        await page.get_by_test_id("attach-button").click()
        await expect(page.get_by_test_id("attach-document")).to_be_visible()
        await page.get_by_test_id("document-input").set_input_files(str(codes_file))
        sent = page.locator('[data-testid="message"][data-from="user"]').get_by_test_id("document")
        await expect(sent).to_contain_text("codes.txt")
        report = page.get_by_test_id("message").filter(has_text="Added: 3")
        await expect(report).to_contain_text("Duplicates in the file: 1")
        await page.screenshot(path=str(screenshots_dir(tmp_path) / "sandbox-chat-supplier.png"))
    assert await shop.catalogue.stock_count("NETFLIX-1M") == 3


async def test_an_admin_opens_the_report_and_sees_the_chart(
    server: FakeTelegramServer,  # noqa: F811
    shop: Platform,  # noqa: F811
    tmp_path: Path,
) -> None:
    await _people(shop)
    await shop.shop.buy_now(MAYA, "STEAM-100", 3, idempotency_key="sale-1")
    admin = ADMIN_PERSONA.telegram_id
    await shop.catalogue.ensure_user(admin, username="kameng_admin", language="en")
    await shop.catalogue.grant_role(admin, Role.ADMIN, actor=ADMIN)
    async with serving(server, shop, PERSONAS) as url, chromium() as browser:
        page = await _open(browser, url, ADMIN_PERSONA.key)
        await expect(page.get_by_test_id("roles").locator('[data-role="admin"]')).to_be_visible()
        await _say(page, "/reports")
        await _bot_message(page, "which period").get_by_role("button", name="7 days").click()
        await expect(_bot_message(page, "Platform revenue")).to_contain_text("Orders: 1 · Units: 3")
        chart = _bot_message(page, "GMV per day").get_by_test_id("photo")
        await expect(chart).to_be_visible()
        loaded = "image => image.complete && image.naturalWidth"  # the PNG itself, 800 px wide
        await chart.evaluate("image => new Promise(r => image.decode().then(r, r))")
        assert await chart.evaluate(loaded) == 800
        await page.screenshot(path=str(screenshots_dir(tmp_path) / "sandbox-chat-admin.png"))


async def test_a_call_telegram_refuses_is_a_red_line_and_two_tabs_update_live(
    server: FakeTelegramServer,  # noqa: F811
    shop: Platform,  # noqa: F811
    tmp_path: Path,
) -> None:
    await _people(shop)
    async with serving(server, shop, PERSONAS) as url, chromium() as browser:
        first = await _open(browser, url, RESELLER_SILVER.key)
        second = await _open(browser, url, RESELLER_SILVER.key)
        await _say(first, "/balance")
        for page in (first, second):  # the other tab shows it too, without reloading
            await expect(page.get_by_test_id("message").filter(has_text="¥500.00")).to_be_visible()

        refusal = "Bad Request: chat not found"
        server.fail("sendMessage", error_code=400, description=refusal, chat_id=MAYA)
        await _say(second, "/balance")
        for page in (first, second):
            red = page.get_by_test_id("refused-call")
            await expect(red).to_contain_text("sendMessage: 400")
            await expect(red).to_contain_text("Bad Request: chat not found")
            await expect(red).to_have_css("color", "rgb(229, 57, 53)")
        # right after the user's own message, where the reply should have been
        before = first.get_by_test_id("refused-call").locator("xpath=preceding-sibling::*[1]")
        await expect(before).to_have_attribute("data-from", "user")
        await expect(before).to_contain_text("/balance")

        # a photo the visitor sends shows in the chat
        await first.get_by_test_id("photo-input").set_input_files(
            files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG_1x1}]
        )
        for page in (first, second):
            await expect(page.locator('[data-from="user"] [data-testid="photo"]')).to_be_visible()
        await first.screenshot(path=str(screenshots_dir(tmp_path) / "sandbox-chat-refused.png"))


async def test_dark_mode_and_a_phone_width_window(
    server: FakeTelegramServer,  # noqa: F811
    shop: Platform,  # noqa: F811
    tmp_path: Path,
) -> None:
    await _people(shop)
    async with serving(server, shop, PERSONAS) as url, chromium() as browser:
        page = await _open(
            browser, url, RESELLER_SILVER.key, viewport=PHONE, color_scheme="dark", locale="zh-CN"
        )
        html = page.locator("html")
        await expect(html).to_have_attribute("data-theme", "dark")
        await expect(page.get_by_test_id("composer")).to_be_visible()
        await expect(page.get_by_test_id("persona-switcher")).not_to_be_in_viewport()
        # the page speaks the browser's language; the bot speaks the persona's
        await expect(page.get_by_test_id("menu-button")).to_have_text("菜单")
        await _say(page, "/start")
        await expect(page.get_by_test_id("reply-keyboard")).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing wider than the phone
        await page.screenshot(path=str(screenshots_dir(tmp_path) / "sandbox-chat-phone-dark.png"))

        # the persona switcher slides over the chat; another persona's chat is another chat
        await page.get_by_test_id("open-personas").click()
        await expect(page.get_by_test_id("persona-switcher")).to_be_in_viewport()
        await page.locator('[data-persona="supplier-2"]').click()
        await expect(page.get_by_test_id("chat-title")).to_contain_text("Leo")
        await expect(page.get_by_test_id("message")).to_have_count(0)

        await page.get_by_test_id("open-personas").click()  # the settings are in that drawer
        await page.get_by_test_id("theme-toggle").click()
        await expect(html).to_have_attribute("data-theme", "light")
        await page.get_by_test_id("lang-toggle").click()
        await expect(page.get_by_test_id("menu-button")).to_have_text("Menu")


async def test_a_newcomer_starts_the_bot_from_the_start_button(
    server: FakeTelegramServer,  # noqa: F811
    shop: Platform,  # noqa: F811
) -> None:
    async with serving(server, shop, PERSONAS) as url, chromium() as browser:
        page = await _open(browser, url, NEWCOMER.key)
        await expect(page.get_by_test_id("panel-unknown")).to_be_visible()
        await expect(page.get_by_test_id("composer")).to_be_hidden()  # Telegram shows START
        await page.get_by_test_id("start-button").click()
        await expect(_bot_message(page, "Sam")).to_be_visible()  # greeted by name
        await expect(page.get_by_test_id("composer")).to_be_visible()
        await expect(page.get_by_test_id("panel-unknown")).to_be_hidden()
        await expect(page.get_by_test_id("balance")).to_have_text("¥0.00")


async def test_formatting_spoilers_url_buttons_and_an_alert(
    server: FakeTelegramServer,  # noqa: F811
    platform: Platform,
) -> None:
    bot = make_bot(server)
    buttons = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Docs", url="https://example.com/docs")],
            [InlineKeyboardButton(text="Why?", callback_data="why")],
        ]
    )
    async with serving(server, platform, PERSONAS) as url, chromium() as browser:
        page = await _open(browser, url, RESELLER_SILVER.key)
        await bot.send_message(
            MAYA,
            "<b>bold</b> <i>it</i> <s>old</s> <tg-spoiler>hidden</tg-spoiler> "
            '<a href="https://example.com/">link</a> &lt;script&gt;alert(1)&lt;/script&gt;'
            "<blockquote>quoted</blockquote>",
            parse_mode="HTML",
            reply_markup=buttons,
        )
        text = page.get_by_test_id("message-text")
        await expect(text.locator("strong")).to_have_text("bold")
        await expect(text.locator("em")).to_have_text("it")
        await expect(text.locator("blockquote")).to_have_text("quoted")
        await expect(text).to_contain_text("<script>alert(1)</script>")  # shown, not run
        await expect(text.locator("script")).to_have_count(0)
        await expect(text.locator("a")).to_have_attribute("href", "https://example.com/")
        spoiler = page.get_by_test_id("spoiler")
        await expect(spoiler).to_have_css("color", "rgba(0, 0, 0, 0)")  # hidden until clicked
        await spoiler.click()
        await expect(spoiler).not_to_have_css("color", "rgba(0, 0, 0, 0)")
        await expect(page.get_by_test_id("url-button")).to_have_attribute(
            "href", "https://example.com/docs"
        )

        await page.get_by_role("button", name="Why?").click()

        async def pressed() -> bool:
            return bool(server.unanswered_callback_queries())

        await eventually(pressed, "the press to reach Telegram")
        [query] = server.unanswered_callback_queries()
        await bot.answer_callback_query(query.id, "Because the rules say so.", show_alert=True)
        dialog = page.get_by_test_id("alert-dialog")
        await expect(dialog).to_be_visible()
        await expect(page.get_by_test_id("alert-text")).to_have_text("Because the rules say so.")
        await page.get_by_test_id("alert-ok").click()
        await expect(dialog).to_be_hidden()
    await bot.session.close()

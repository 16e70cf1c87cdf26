"""The chat page served on port 0 for a test, and a headless Chromium to look at it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from core.platform import Platform
from sandbox.chat.app import build_chat_app
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.local_http import serving_app
from sandbox.personas import ApiLink, Persona

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
API = ApiLink("http://127.0.0.1:9", "kmg_sandbox_key", 7002)


@asynccontextmanager
async def serving(
    telegram: FakeTelegramServer,
    platform: Platform,
    personas: Sequence[Persona],
    api: ApiLink = API,
) -> AsyncIterator[str]:
    """The chat page on 127.0.0.1:<free port>, as the runner serves it; yields its URL."""
    async with serving_app(build_chat_app(telegram, platform, personas, api)) as url:
        yield url


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (its own driver; no browser download)."""
    if not HAVE_CHROMIUM:
        pytest.skip("Chromium not installed: apt-get install chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


def screenshots_dir(tmp_path: Path) -> Path:
    """``KAMENG_SCREENSHOTS`` if set, else the test's own temporary directory."""
    folder = Path(os.environ.get("KAMENG_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder

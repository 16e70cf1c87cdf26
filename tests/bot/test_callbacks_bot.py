"""/callback in the bot: a reseller points their key's order callbacks at their shop, sees
the secret once, the running bot's callback worker posts a sale there, and the API key
screen's button lists the delivery — in English and in Chinese."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from core.order_callbacks import SIGNATURE_HEADER, verify
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_telegram import FakeTelegramServer
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

RESELLER = 4101
SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{20,}")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        callbacks_allow_private=True,  # the shop below listens on 127.0.0.1
        outbox_poll_seconds=0.05,
        _env_file=None,
    )


@pytest.fixture
async def hook() -> AsyncIterator[tuple[str, list[tuple[bytes, str]]]]:
    received: list[tuple[bytes, str]] = []

    async def handle(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers[SIGNATURE_HEADER]))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received
    await runner.cleanup()


async def until(condition: object, seconds: float = 10.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.parametrize(
    ("language", "code", "words"),
    [
        ("en", "en", ("Order callbacks now go to", "shown only this once", "delivered", "off")),
        ("zh-CN", "zh-hans", ("订单回调现在发送到", "仅显示这一次", "已送达", "已关闭")),
    ],
)
async def test_a_reseller_sets_a_callback_and_reads_its_deliveries(
    server: FakeTelegramServer,
    shop: Platform,
    clock: FakeClock,
    hook: tuple[str, list[tuple[bytes, str]]],
    language: str,
    code: str,
    words: tuple[str, str, str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url, received = hook
    await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=500_00)
    await shop.catalogue.set_language(RESELLER, language)
    await shop.api_keys.issue(RESELLER, actor=ADMIN)
    ann = server.user(RESELLER, language_code=code, started=True)

    await ann.send_text("/callback ftp://nowhere")
    await ann.wait_for_message(lambda m: "http" in m.content and "ftp" not in m.content)
    await ann.send_text(f"/callback {url}")
    shown = await ann.wait_for_message(lambda m: words[0] in m.content)
    assert words[1] in shown.content
    secret = SECRET.search(shown.content)
    assert secret is not None

    await shop.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="bot-cb-1")
    await until(lambda: len(received) == 1)
    body, header = received[0]
    assert verify(secret.group(), header, body, int(clock.now().timestamp()))

    await ann.send_text("/apikey")
    screen = await ann.wait_for_message(lambda m: url in m.content)
    button = next(b for b in screen.buttons if "📬" in b)
    await ann.press(button, message=screen)
    log = await ann.wait_for_message(lambda m: words[2] in m.content)
    assert "200" in log.content and "order.delivered" in log.content
    await ann.press(button, message=screen)  # pressed again: the same list, nothing breaks
    await ann.wait_for_message(lambda m: words[2] in m.content and m is not log)

    await ann.send_text("/callback off")
    await ann.wait_for_message(lambda m: words[3] in m.content)
    assert await shop.order_callbacks.current(RESELLER) is None
    await server.wait_callbacks_answered()
    assert secret.group() not in caplog.text  # shown once, to its owner only: never logged

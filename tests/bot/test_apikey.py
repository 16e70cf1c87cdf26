"""/apikey in the bot: a reseller gets a new key once, the old one stops working, and the
key works against the HTTP API."""

from __future__ import annotations

import re

import aiohttp

from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.factories import make_reseller
from web.app import ApiServer

RESELLER = 4001
KEY = re.compile(r"kmg_[A-Za-z0-9_-]{20,}")


async def status_of(base_url: str, key: str) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}) as response,
    ):
        return response.status


async def test_apikey_shows_a_new_key_once_and_revokes_the_old(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER, balance=10_00)
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/apikey")
    offer = await ann.wait_for_message(lambda m: "no API key yet" in m.content)
    await ann.press("🔑 Create a new key", message=offer)
    shown = await ann.wait_for_message(lambda m: "shown only this once" in m.content)
    first = KEY.search(shown.content)
    assert first is not None and first.group() in shown.codes
    assert not ann.current(offer).buttons  # the offer's buttons are gone once used

    await ann.send_text("/apikey")
    again = await ann.wait_for_message(lambda m: "Your API key:" in m.content)
    assert first.group()[:12] in again.content and first.group() not in again.content
    await ann.press("🔑 Create a new key", message=again)
    second = KEY.search((await ann.wait_for_message(lambda m: "shown only" in m.content)).content)
    assert second is not None and second.group() != first.group()

    async with ApiServer(shop, "127.0.0.1", 0) as api:
        assert await status_of(api.base_url, first.group()) == 401
        assert await status_of(api.base_url, second.group()) == 200
    await server.wait_callbacks_answered()


async def test_a_stale_new_key_button_does_not_replace_the_key_again(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    await shop.catalogue.set_language(RESELLER, "zh-CN")
    ann = server.user(RESELLER, language_code="zh-hans", started=True)
    await ann.send_text("/apikey")
    offer = await ann.wait_for_message(lambda m: "你还没有 API 密钥" in m.content)
    data = offer.callback_data("🔑 生成新密钥")
    assert data is not None
    await ann.press("🔑 生成新密钥", message=offer)
    await ann.wait_for_message(lambda m: "仅显示这一次" in m.content)
    issued = await shop.api_keys.current(RESELLER)

    query = await ann.press_data(data, message=offer)  # the same press again (a double tap)
    answer = await ann.wait_for_callback_answer(query)
    assert answer.show_alert and answer.answer_text
    assert await shop.api_keys.current(RESELLER) == issued

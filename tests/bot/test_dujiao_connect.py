"""/apikey in the bot: a reseller with a key connects a Dujiao-Next shop; the URL, key and
secret are shown once and a Dujiao-Next connection signed with them works; pressing the
button again (a double tap) changes nothing."""

from __future__ import annotations

import re

from core.platform import Platform
from core.upstreams.adapter import Credentials
from core.upstreams.dujiao import DujiaoAdapter
from core.upstreams.http import UrllibClient
from sandbox.fake_telegram import FakeTelegramServer
from tests.factories import ADMIN, make_reseller
from web.app import ApiServer

RESELLER = 4002
SHOWN = re.compile(r"API key: (\d+)\nAPI secret: ([0-9a-f]{48})")
SHOWN_ZH = re.compile(r"API Key：(\d+)\nAPI Secret：([0-9a-f]{48})")


async def test_connect_a_dujiao_shop_from_the_api_key_screen(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER, balance=10_00)
    await shop.api_keys.issue(RESELLER, actor=ADMIN)
    ann = server.user(RESELLER, language_code="en", started=True)

    await ann.send_text("/apikey")
    screen = await ann.wait_for_message(lambda m: "Your API key:" in m.content)
    data = screen.callback_data("🔗 Connect a Dujiao-Next shop")
    assert data is not None
    await ann.press("🔗 Connect a Dujiao-Next shop", message=screen)
    shown = await ann.wait_for_message(lambda m: "site connection" in m.content)
    found = SHOWN.search(shown.content)
    assert found is not None and "/api/v1/upstream" in shown.content
    key, secret = found.groups()
    assert secret in shown.codes

    query = await ann.press_data(data, message=screen)  # the same press again
    answer = await ann.wait_for_callback_answer(query)
    assert answer.show_alert and answer.answer_text
    assert await shop.dujiao.enabled(RESELLER) == key

    async with ApiServer(shop, "127.0.0.1", 0) as api:
        connection = DujiaoAdapter(
            Credentials(api.base_url, key, secret), UrllibClient(timeout=10), shop.clock
        )
        assert await connection.balance() == 10_00  # the secret shown first still works
    await server.wait_callbacks_answered()


async def test_the_connection_is_worded_in_chinese(
    server: FakeTelegramServer, shop: Platform
) -> None:
    await make_reseller(shop, RESELLER)
    await shop.catalogue.set_language(RESELLER, "zh-CN")
    await shop.api_keys.issue(RESELLER, actor=ADMIN)
    ann = server.user(RESELLER, language_code="zh-hans", started=True)
    await ann.send_text("/apikey")
    screen = await ann.wait_for_message(lambda m: "你的 API 密钥" in m.content)
    await ann.press("🔗 对接独角数卡 (Dujiao-Next) 店铺", message=screen)
    shown = await ann.wait_for_message(lambda m: "站点对接" in m.content)
    assert SHOWN_ZH.search(shown.content) is not None
    await server.wait_callbacks_answered()

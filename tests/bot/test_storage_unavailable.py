"""A purchase while the database's disk is read-only: the reseller is told, in his
language, that nothing was charged and to try again in a minute, not "something went
wrong"; once the disk is back the same Confirm buys."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import StorageUnavailable
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from tests.factories import make_reseller, make_sku

RESELLER = 1001


@pytest.mark.parametrize(
    ("language", "confirm", "expected"),
    [("en", "✅ Confirm", "Try again in a minute"), ("zh-CN", "✅ 确认购买", "请一分钟后再试")],
)
async def test_confirm_on_a_read_only_disk(
    server: FakeTelegramServer,
    shop: Platform,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
    confirm: str,
    expected: str,
) -> None:
    codes = await make_sku(shop, stock=3)
    await make_reseller(shop, RESELLER, balance=100_00)
    await shop.catalogue.set_language(RESELLER, language)
    ann = server.user(RESELLER, language_code=language.lower(), started=True)
    await ann.send_text("/buy STEAM-100 1")
    quote = await ann.wait_for_message(lambda m: "92.00" in m.content)

    buy = shop.shop.buy

    async def read_only_disk(*args: Any, **kwargs: Any) -> Any:
        raise StorageUnavailable(reason="read-only")  # what core/db.py raises then

    monkeypatch.setattr(shop.shop, "buy", read_only_disk)
    answer = await ann.wait_for_callback_answer(await ann.press(confirm, message=quote))
    assert answer.show_alert and expected in (answer.answer_text or "")
    assert (await shop.balances.balance(RESELLER)).balance == 100_00

    monkeypatch.setattr(shop.shop, "buy", buy)  # the disk is back
    await ann.press(confirm, message=quote)
    receipt = await ann.wait_for_message(lambda m: bool(m.codes))
    assert receipt.codes == [codes[0]]

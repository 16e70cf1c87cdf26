"""A handler gets each service from the dispatcher by its name, not from the whole
platform: a dispatcher given another service (here a stand-in storefront) is what its
handlers use."""

from __future__ import annotations

import asyncio
import contextlib

from bot.app import build_dispatcher, create_bot
from core.platform import Platform
from core.settings import Settings
from core.storefront import Page
from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import TOKEN

RESELLER = 1001


class StandInStorefront:
    """Finds seven SKUs for any search and remembers what it was asked."""

    def __init__(self) -> None:
        self.searches: list[tuple[int, str | None, int]] = []

    async def skus(
        self,
        telegram_id: int,
        *,
        category_id: int | None = None,
        search: str | None = None,
        offset: int = 0,
        limit: int = 8,
    ) -> Page:
        self.searches.append((telegram_id, search, limit))
        return Page(lines=[], total=7)


async def test_a_search_is_answered_by_the_storefront_the_dispatcher_was_given(
    server: FakeTelegramServer, platform: Platform, settings: Settings
) -> None:
    bot = create_bot(
        settings.model_copy(update={"bot_token": TOKEN, "telegram_api_base": server.base_url})
    )
    dispatcher = build_dispatcher(platform)
    stand_in = StandInStorefront()
    dispatcher["storefront"] = stand_in
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        ann = server.user(RESELLER, language_code="en", started=True)
        await ann.send_text("steam")
        reply = await ann.wait_for_message(lambda m: "steam" in m.content)
        # the platform's own storefront has no SKU at all: it would say "Nothing matches"
        assert "Results for “steam”: 7" in reply.content
        assert stand_in.searches == [(RESELLER, "steam", 8)]
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        await bot.session.close()

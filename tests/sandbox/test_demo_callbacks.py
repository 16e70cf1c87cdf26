"""The demo with its shop (as ``kameng sandbox`` runs it): the gold reseller's API key posts
its order callbacks to the sandbox's small receiver; an order over the API reaches it,
signed, and shows in the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from core.db import Database
from core.platform import build_platform
from sandbox.demo import build_demo
from sandbox.personas import RESELLER_GOLD
from sandbox.run import sandbox_settings
from sandbox.shop_receiver import ShopReceiver
from tests.conftest import TEST_SECRET, FakeClock
from tests.web.conftest import GENEROUS
from web.app import ApiServer
from web.callback_sender import CallbackSender

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def test_the_demo_shop_receives_the_gold_resellers_order_callbacks(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    async with ShopReceiver() as shop:
        settings = sandbox_settings(
            tmp_path,
            TEST_SECRET,
            "http://127.0.0.1:1",
            shop_callback_url=shop.url,
        ).model_copy(update={"database_url": database_url})
        demo = await build_demo(settings, now=NOW)
        platform = build_platform(settings, clock=FakeClock(NOW + timedelta(minutes=1)), db=db)
        info = await platform.order_callbacks.current(RESELLER_GOLD.telegram_id)
        assert info is not None and info.url == shop.url
        worker = CallbackSender(platform)
        try:
            assert await worker.round() == 0  # the demo's history was before the callback
            async with (
                ApiServer(platform, "127.0.0.1", 0, GENEROUS) as api,
                aiohttp.ClientSession() as http,
            ):
                skus = await (
                    await http.get(
                        f"{api.base_url}/api/v1/skus",
                        headers={"Authorization": f"Bearer {demo.api_key}"},
                    )
                ).json()
                sku = next(s["code"] for s in skus["items"] if (s["stock"] or 0) > 0)
                answer = await http.post(
                    f"{api.base_url}/api/v1/orders",
                    json={"sku": sku, "quantity": 1, "external_id": "DEMO-1"},
                    headers={"Authorization": f"Bearer {demo.api_key}"},
                )
                assert answer.status == 201, await answer.text()
            assert await worker.round() == 1
        finally:
            await worker.stop()
        [got] = shop.received
        assert got["body"]["external_id"] == "DEMO-1" and got["signature"].startswith("t=")
        [logged] = await platform.order_callbacks.deliveries(RESELLER_GOLD.telegram_id)
        assert logged.outcome == "delivered" and logged.status_code == 200

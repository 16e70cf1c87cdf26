"""``kameng outbox status``: what an operator checks when suppliers say they heard nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.platform import Platform
from tests.cli_runner import run_kameng
from tests.factories import make_reseller, make_sku


async def test_outbox_status_counts_pending_notifications(
    platform: Platform, database_url: str, tmp_path: Path
) -> None:
    await make_sku(platform, stock=3)
    await make_reseller(platform, 1001, balance=500_00)
    for key in ("a", "b"):
        await platform.shop.buy_now(1001, "STEAM-100", 1, idempotency_key=key)
    (claimed, _) = await platform.outbox.claim("w", kinds=("sale",))
    await platform.outbox.retry(claimed, "TelegramServerError: Bad Gateway")

    env = {"KAMENG_DATABASE_URL": database_url}
    done = await asyncio.to_thread(run_kameng, "outbox", "status", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith("pending 2, ")
    assert done.stdout.strip().endswith("failed before 1")

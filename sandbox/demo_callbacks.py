"""The demo's order callbacks: the gold reseller's API key posts every order change to the
sandbox's small shop (``sandbox/shop_receiver.py``), when the settings name its URL (as in
``kameng sandbox``). Made through the use case: ``order_callbacks.set``."""

from __future__ import annotations

from core.platform import Platform
from sandbox.personas import RESELLER_GOLD

OPERATOR = "operator:sandbox"


async def add_callback(platform: Platform) -> None:
    """Point the gold reseller's active key at the sandbox's shop (``shop_callback_url`` of
    the sandbox's settings; nothing without one)."""
    url = str(getattr(platform.settings, "shop_callback_url", ""))
    if url:
        await platform.order_callbacks.set(RESELLER_GOLD.telegram_id, url, actor=OPERATOR)

"""The demo's Telegram Stars: the admin sets the rate on the shop's first day, so a reseller
in ``kameng sandbox`` can top up with Stars (Balance → Top up → ⭐ Telegram Stars, or
``/stars 100``) and pay the invoice with the chat page's Pay button."""

from __future__ import annotations

from core.platform import Platform
from sandbox.personas import ADMIN

#: ¥0.10 a star: a ¥100 top-up is an invoice of 1,000 ⭐
DEMO_FEN_PER_STAR = 10


async def open_stars(platform: Platform) -> None:
    """The admin's rate, through the same use case (audited) as ``/stars_rate``."""
    await platform.stars.set_rate(
        DEMO_FEN_PER_STAR, admin_telegram_id=ADMIN.telegram_id, note="demo: the opening rate"
    )

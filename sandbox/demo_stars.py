"""The demo's Telegram Stars: the admin sets the rate on the shop's first day, so a reseller
in ``kameng sandbox`` can top up with Stars (Balance → Top up → ⭐ Telegram Stars, or
``/stars 100``) and pay the invoice with the chat page's Pay button. The rate is the
configured currency's (``KAMENG_CURRENCY``), inside its sane range (``core/decisions/rates.py``);
a currency with no known range opens no Stars top-ups."""

from __future__ import annotations

from core.platform import Platform
from sandbox.personas import ADMIN

#: 1 ⭐ in each currency with a sane range (``STARS_RANGES``), minor units: ¥0.10 a star (a
#: ¥100 top-up is an invoice of 1,000 ⭐), 1 cent in a dollar or euro shop
RATES = {"CNY": 10, "HKD": 10, "USD": 1, "EUR": 1}
DEMO_FEN_PER_STAR = RATES["CNY"]


async def open_stars(platform: Platform) -> str | None:
    """The admin's rate, through the same use case (audited) as ``/stars_rate``; or, for a
    currency without one, the line the build's summary shows instead."""
    currency = platform.settings.currency.upper()
    rate = RATES.get(currency)
    if rate is None:
        return (
            f"no Stars rate: the demo knows none in {currency} "
            "(set one with: kameng stars rate FEN_PER_STAR)"
        )
    await platform.stars.set_rate(
        rate, admin_telegram_id=ADMIN.telegram_id, note="demo: the opening rate"
    )
    return None

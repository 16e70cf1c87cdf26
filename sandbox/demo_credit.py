"""The demo's other revenue: a commission schedule for game cards (staples pay less) and a
credit line (账期) the bronze reseller has drawn on. Made through the core's use cases
only, at the end of the history, so today's sales use the new schedule and the history
keeps the default one it was sold under."""

from __future__ import annotations

from core.platform import Platform
from sandbox.demo_categories import GAMES
from sandbox.personas import ADMIN, RESELLER_BRONZE

CREDIT_LIMIT = 1_000_00
CREDIT_RATE_BPS = 5  # 0.05% a day
CREDIT_TERM_DAYS = 30
DRAW_SKU = "VPN-M"  # cyclic: never runs out; bronze pays 24.00


async def open_credit_and_schedules(platform: Platform) -> int:
    """Returns the orders it made (one)."""
    admin = ADMIN.telegram_id
    # game cards sell often: 2% from the first unit, 1% from 500 units in 30 days
    await platform.commission.set_tier(admin, GAMES, min_units=0, rate_bps=200)
    await platform.commission.set_tier(admin, GAMES, min_units=500, rate_bps=100)
    # the bronze reseller gets a line and buys past his own money: he has drawn on it
    bronze = RESELLER_BRONZE.telegram_id
    await platform.credit.grant(
        admin, bronze, limit=CREDIT_LIMIT, rate_bps=CREDIT_RATE_BPS, term_days=CREDIT_TERM_DAYS
    )
    balance = (await platform.balances.balance(bronze)).balance
    units = max(0, balance) // 24_00 + 5  # about 100.00 past zero
    await platform.shop.buy_now(bronze, DRAW_SKU, units, idempotency_key="demo-credit-draw")
    return 1

"""The demo's payments (when 易支付 is enabled, as in ``kameng sandbox``): a top-up the gold
reseller paid short an hour ago, held ``mismatched`` for the admin (the panel's "Payments to
check", ``/paycredit``). Made through the use cases: ``payments.create``, then the gateway's
signed notification through ``payments.notify``, as ``/pay/epay/notify`` would pass it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from core.payments.epay import signed
from core.platform import Platform
from sandbox.personas import RESELLER_GOLD

SHORT_PAYMENT_AGO = timedelta(hours=1)
ASKED, PAID = 200_00, "20.00"  # a digit lost at the cashier


async def add_payments(
    platform: Platform, set_clock: Callable[[datetime], None], now: datetime
) -> None:
    """``set_clock(moment)`` moves the demo's clock (never backwards)."""
    if "epay" not in platform.payments.methods:
        return
    settings = platform.settings
    set_clock(now - SHORT_PAYMENT_AGO)
    created = await platform.payments.create(RESELLER_GOLD.telegram_id, "epay", ASKED)
    set_clock(now - SHORT_PAYMENT_AGO + timedelta(minutes=3))
    notice = {
        "pid": settings.epay_pid,
        # in api mode (the sandbox's) the gateway named its trade_no at creation
        "trade_no": created.step.provider_reference or "2026000000990001",
        "out_trade_no": created.payment.id,
        "type": "alipay",
        "name": f"top-up {created.payment.id}",
        "money": PAID,
        "trade_status": "TRADE_SUCCESS",
    }
    await platform.payments.notify("epay", signed(notice, settings.epay_key))
    set_clock(now)

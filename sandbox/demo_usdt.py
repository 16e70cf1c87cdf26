"""The demo's USDT: the operator sets today's rate, so a reseller in the sandbox can top up
with USDT against the fake TRON node (``sandbox/fake_tron``). The rate is the configured
currency's (``KAMENG_CURRENCY``): one outside its sane range would be refused
(``core/decisions/rates.py``); a currency with no known range opens no USDT top-ups."""

from __future__ import annotations

from core.platform import Platform

#: the demo's deposit address (any Base58 text: the fake node takes what it is given)
DEPOSIT_ADDRESS = "TKamengSandboxDepositxxxxxxxxxxxxx"
#: 1 USDT in each currency with a sane range (``USDT_RANGES``), minor units: ¥7.25, $1.00…
RATES = {"CNY": 725, "HKD": 780, "USD": 100, "EUR": 92}
RATE_FEN = RATES["CNY"]


async def set_up_usdt(platform: Platform) -> str | None:
    """Today's rate for the configured currency; or, for a currency without one, the line
    the build's summary shows instead (nothing is set: a USDT top-up is refused)."""
    currency = platform.settings.currency.upper()
    rate = RATES.get(currency)
    if rate is None:
        return (
            f"no USDT rate: the demo knows none in {currency} "
            "(set one with: kameng usdt rate set PRICE)"
        )
    await platform.usdt.set_rate(rate, note="the sandbox's rate")
    return None


def usdt_settings(node_url: str) -> dict[str, object]:
    """The sandbox's USDT settings: the fake node, the demo's address, a watcher that
    looks every 5 seconds."""
    return {
        "usdt_deposit_address": DEPOSIT_ADDRESS,
        "usdt_api_url": node_url,
        "usdt_watch_seconds": 5,
    }

"""The demo's USDT: the operator sets today's rate, so a reseller in the sandbox can top up
with USDT against the fake TRON node (``sandbox/fake_tron``)."""

from __future__ import annotations

from core.platform import Platform

#: the demo's deposit address (any Base58 text: the fake node takes what it is given)
DEPOSIT_ADDRESS = "TKamengSandboxDepositxxxxxxxxxxxxx"
RATE_FEN = 725  # 1 USDT = 7.25 CNY


async def set_up_usdt(platform: Platform) -> None:
    await platform.usdt.set_rate(RATE_FEN, note="the sandbox's rate")


def usdt_settings(node_url: str) -> dict[str, object]:
    """The sandbox's USDT settings: the fake node, the demo's address, a watcher that
    looks every 5 seconds."""
    return {
        "usdt_deposit_address": DEPOSIT_ADDRESS,
        "usdt_api_url": node_url,
        "usdt_watch_seconds": 5,
    }

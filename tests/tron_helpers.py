"""What the USDT tests share: the deposit address, and settings that point USDT at a fake
TRON node (``sandbox/fake_tron``)."""

from __future__ import annotations

from core.settings import Settings
from sandbox.fake_tron import FakeTronServer
from tests.conftest import TEST_SECRET

OURS = "TJmmqjb1DK9TTZbQXzRQ2AuA94z4gKAPFh"  # the deposit address
THEIRS = "TLCuBEirVzB6V4menLZKw1jfBTFMZbuKq7"  # someone else's
FAKE_USDT = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"  # a token that calls itself USDT


def usdt_settings(database_url: str, node: FakeTronServer) -> Settings:
    """The test database's settings with USDT on, watching ``OURS`` on ``node``."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        usdt_deposit_address=OURS,
        usdt_api_url=node.base_url,
        usdt_confirmations=19,
        payment_ttl_seconds=1800,
        payment_grace_seconds=1800,
        _env_file=None,
    )

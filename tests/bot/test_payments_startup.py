"""Starting the bot with 易支付 enabled but no ``KAMENG_PAYMENTS_PUBLIC_URL``: the gateway
has no address to notify, so the operator gets one WARNING line (not an ERROR) at start-up;
with the address set, or with providers that need none (Stars), nothing is said."""

from __future__ import annotations

import logging

import pytest

from core.platform import Platform
from core.settings import Settings

EPAY = {"epay_gateway": "http://127.0.0.1:9/", "epay_pid": "1001", "epay_key": "k"}


def _said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.get_records("setup") if "KAMENG_PAYMENTS_PUBLIC_URL" in r.getMessage()
    ]


@pytest.fixture
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return settings.model_copy(update=request.param)


@pytest.mark.parametrize(
    ("settings", "warned"),
    [
        (EPAY, True),
        ({**EPAY, "payments_public_url": "https://shop.example.com"}, False),
        ({"stars_enabled": True}, False),
    ],
    indirect=["settings"],
)
async def test_an_unreachable_provider_is_one_warning_at_start_up(
    caplog: pytest.LogCaptureFixture, shop: Platform, warned: bool
) -> None:
    said = _said(caplog)
    if warned:
        assert [r.levelno for r in said] == [logging.WARNING]
        assert "epay enabled but KAMENG_PAYMENTS_PUBLIC_URL is not set" in said[0].getMessage()
    else:
        assert said == []
    assert not [r for r in caplog.get_records("setup") if r.levelno >= logging.ERROR]

"""The bot's one way of writing amounts and times: worked examples per language and currency."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.formatting import money, when


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (9200, "CNY", "zh_CN", "¥92.00"),
        (9200, "CNY", "en", "¥92.00"),  # not Babel's "CN¥"
        (1250, "USD", "en", "$12.50"),
        (1250, "USD", "zh_CN", "$12.50"),  # not Babel's "US$"
        (-500, "CNY", "zh_CN", "-¥5.00"),
        (-500, "USD", "en", "-$5.00"),
        (0, "CNY", "en", "¥0.00"),
        (1, "CNY", "en", "¥0.01"),
        (123456789, "CNY", "zh_CN", "¥1,234,567.89"),
        (123456789, "USD", "en", "$1,234,567.89"),
        (500, "EUR", "en", "€5.00"),
    ],
)
def test_money(minor: int, currency: str, locale: str, shown: str) -> None:
    assert money(minor, currency, locale) == shown


@pytest.mark.parametrize(
    ("moment", "zone", "shown"),
    [
        (datetime(2026, 12, 1, 10, 25, tzinfo=UTC), "Asia/Shanghai", "2026-12-01 18:25 (UTC+8)"),
        (datetime(2026, 12, 1, 18, 25, tzinfo=UTC), "Asia/Shanghai", "2026-12-02 02:25 (UTC+8)"),
        (datetime(2026, 12, 1, 10, 25), "Asia/Shanghai", "2026-12-01 18:25 (UTC+8)"),  # naive: UTC
        (datetime(2026, 12, 1, 10, 25, tzinfo=UTC), "UTC", "2026-12-01 10:25 (UTC)"),
        (datetime(2026, 12, 1, 10, 25, tzinfo=UTC), "Asia/Kolkata", "2026-12-01 15:55 (UTC+5:30)"),
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "America/New_York", "2026-07-01 08:00 (UTC-4)"),
        (datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "America/New_York", "2026-12-01 07:00 (UTC-5)"),
    ],
)
@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_when(moment: datetime, zone: str, shown: str, locale: str) -> None:
    if locale == "zh_CN":  # the same digits; the brackets full-width, as Chinese punctuation
        shown = shown.replace(" (", "（").replace(")", "）")
    assert when(moment, ZoneInfo(zone), locale) == shown

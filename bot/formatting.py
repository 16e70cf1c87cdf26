"""How the bot writes amounts and times: one module, so every message agrees.

``money`` and ``when`` are pure (the currency, zone and locale are arguments). The texts call
``amount`` and ``moment``, which read them for the reader at hand: the locale from the
gettext context, the zone and currency from ``reading_as`` (set per update by
``ReaderMiddleware`` and around every message the bot sends on its own).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from aiogram.utils.i18n.context import get_i18n
from babel.numbers import format_currency, get_currency_symbol

from core.money import MINOR_PER_MAJOR
from core.settings import Settings

DEFAULT_LOCALE = "zh_CN"
TIME_FORMAT = "%Y-%m-%d %H:%M"

# Babel's symbols carry the country where the locale does not use the currency (en: CN¥,
# zh-CN: US$). Resellers know their deployment's currency: show the sign they write.
NARROW_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def money(minor: int, currency: str, locale: str) -> str:
    """``9200, "CNY", "en"`` → ``¥92.00``; negatives as ``-¥5.00``; grouping by locale."""
    major = Decimal(minor) / MINOR_PER_MAJOR
    text = format_currency(major, currency, locale=locale, currency_digits=False, format=None)
    narrow = NARROW_SYMBOLS.get(currency)
    if narrow is not None:
        text = text.replace(get_currency_symbol(currency, locale), narrow, 1)
    return text


def utc_offset(moment: datetime) -> str:
    """``UTC+8``, ``UTC-3:30``, ``UTC``: the zone as a reader anywhere can read it."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    if not minutes:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def when(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """``2026-12-01 18:25 (UTC+8)``: the moment in ``zone``, the zone always shown.

    The same digits in every language; Chinese puts the zone in full-width brackets
    (``18:25（UTC+8）``), as it does all punctuation. A naive ``moment`` is UTC, as the
    database stores it."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    local = aware.astimezone(zone)
    if locale.startswith("zh"):
        return f"{local.strftime(TIME_FORMAT)}（{utc_offset(local)}）"
    return f"{local.strftime(TIME_FORMAT)} ({utc_offset(local)})"


def day(moment: datetime, zone: ZoneInfo) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d")


@dataclass(frozen=True)
class Reader:
    """What, besides the language, decides how a message is written for its reader."""

    zone: ZoneInfo
    currency: str


def zone_for(settings: Settings, telegram_id: int | None = None) -> ZoneInfo:
    """The reader's time zone: the deployment's today; a per-user zone changes only this."""
    del telegram_id
    return ZoneInfo(settings.timezone)


def reader_for(settings: Settings, telegram_id: int | None = None) -> Reader:
    return Reader(zone=zone_for(settings, telegram_id), currency=settings.currency)


_DEFAULT_READER = Reader(
    zone=ZoneInfo(Settings.model_fields["timezone"].default),
    currency=Settings.model_fields["currency"].default,
)
_reader: ContextVar[Reader] = ContextVar("kameng_reader", default=_DEFAULT_READER)


@contextmanager
def reading_as(settings: Settings, telegram_id: int | None = None) -> Iterator[Reader]:
    """Within this block texts are written for this reader (zone and currency)."""
    reader = reader_for(settings, telegram_id)
    token = _reader.set(reader)
    try:
        yield reader
    finally:
        _reader.reset(token)


def current_reader() -> Reader:
    return _reader.get()


def current_locale() -> str:
    try:
        return get_i18n().current_locale
    except LookupError:
        return DEFAULT_LOCALE


def amount(minor: int) -> str:
    """``minor`` for the current reader: their currency, their language's number style."""
    return money(minor, current_reader().currency, current_locale())


def percent(bps: int) -> str:
    """Basis points as a percentage without the sign: 1250 → "12.5", 500 → "5"."""
    whole, rest = divmod(bps, 100)
    return f"{whole}" if not rest else f"{whole}.{rest:02d}".rstrip("0")


def moment(at: datetime) -> str:
    """``at`` for the current reader: in their zone, with the zone shown."""
    return when(at, current_reader().zone, current_locale())


def reader_zone() -> ZoneInfo:
    return current_reader().zone

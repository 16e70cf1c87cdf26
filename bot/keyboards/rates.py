"""The ✅ / ✖ question under a big change of a rate admins set (USDT's, the Stars')."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import rate_texts


class RateCb(CallbackData, prefix="rate"):
    """An admin's answer to "set this rate?": it names the rate (``of``), the one asked for
    and the one in force when asked (``was``), so a second press, or a press after another
    admin changed the rate, sets nothing (``set_rate``'s ``replacing``)."""

    of: str  # "usdt" | "stars"
    action: str  # "ok" | "no"
    rate: int  # fen per USDT, or per star
    was: int


def confirm(of: str, rate: int, was: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=rate_texts.confirm_button(of, rate),
        callback_data=RateCb(of=of, action="ok", rate=rate, was=was),
    )
    builder.button(
        text=rate_texts.keep_button(),
        callback_data=RateCb(of=of, action="no", rate=rate, was=was),
    )
    builder.adjust(1)
    return builder.as_markup()

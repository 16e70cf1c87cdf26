"""Keyboards of the supplier side: admin decisions and the choices inside supplier forms."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.keyboards.callbacks import SupplierFormCb

MAX_CATEGORY_BUTTONS = 30


def categories(names: list[str]) -> InlineKeyboardMarkup | None:
    if not names:
        return None
    builder = InlineKeyboardBuilder()
    for index, name in enumerate(names[:MAX_CATEGORY_BUTTONS]):
        builder.button(text=name, callback_data=SupplierFormCb(step="category", value=str(index)))
    builder.adjust(2)
    return builder.as_markup()


def stock_kinds() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Unique"), callback_data=SupplierFormCb(step="kind", value="unique"))
    builder.button(text=_("Cyclic"), callback_data=SupplierFormCb(step="kind", value="cyclic"))
    return builder.as_markup()


def exclusive() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Exclusive"), callback_data=SupplierFormCb(step="exclusive", value="1"))
    builder.button(
        text=_("Not exclusive"), callback_data=SupplierFormCb(step="exclusive", value="0")
    )
    return builder.as_markup()


def skip() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=SupplierFormCb(step="skip"))
    return builder.as_markup()


def keep(field: str) -> InlineKeyboardMarkup:
    """ "Keep" for one question only: a stale button of an earlier question does nothing."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Keep"), callback_data=SupplierFormCb(step="keep", value=field))
    return builder.as_markup()

"""Keyboards of the admins' promotion wizard and reports."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import scheduler_texts
from bot.keyboards.callbacks import PromoCb, SalesReportCb
from core.reports import Period
from core.storefront import CategoryLine


def _single(label: object, action: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=str(label), callback_data=PromoCb(action=action))
    return builder.as_markup()


def promo_scope() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=str(scheduler_texts.SCOPE_SKUS), callback_data=PromoCb(action="skus"))
    builder.button(text=str(scheduler_texts.SCOPE_CATEGORY), callback_data=PromoCb(action="cats"))
    builder.button(text=str(scheduler_texts.CANCEL), callback_data=PromoCb(action="cancel"))
    builder.adjust(2, 1)
    return builder.as_markup()


def promo_categories(lines: list[CategoryLine]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for line in lines:
        builder.button(text=line.name, callback_data=PromoCb(action="cat", category=line.id))
    builder.adjust(2)
    return builder.as_markup()


def promo_all_levels() -> InlineKeyboardMarkup:
    return _single(scheduler_texts.ALL_LEVELS, "all")


def promo_no_reminder() -> InlineKeyboardMarkup:
    return _single(scheduler_texts.NO_REMINDER, "noremind")


def promo_confirm(token: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=str(scheduler_texts.SCHEDULE), callback_data=PromoCb(action="ok", token=token)
    )
    builder.button(text=str(scheduler_texts.CANCEL), callback_data=PromoCb(action="cancel"))
    return builder.as_markup()


def report_periods() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for period in Period:
        builder.button(
            text=str(scheduler_texts.PERIOD_LABELS[period]),
            callback_data=SalesReportCb(period=period.value),
        )
    return builder.as_markup()

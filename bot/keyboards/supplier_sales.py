"""Buttons of the supplier's sales side and the admins' withdrawal decisions."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import supplier_sales_texts
from bot.keyboards.approvals import decision_buttons
from core.models import SalesNotify
from core.supplier_payouts import WithdrawalKind
from core.supplier_sales import ProductLine


class SupplierCb(CallbackData, prefix="sup"):
    action: str  # "mode" | "products" | "threshold" | "earnings" | "withdraw"
    mode: str = ""
    sku: str = ""
    page: int = 0


def supplier_menu(current: SalesNotify) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for mode in SalesNotify:
        mark = "✅ " if mode is current else ""
        builder.button(
            text=mark + supplier_sales_texts.mode_label(mode),
            callback_data=SupplierCb(action="mode", mode=mode.value),
        )
    builder.button(text=_("📦 My products"), callback_data=SupplierCb(action="products"))
    builder.button(text=_("💼 Earnings"), callback_data=SupplierCb(action="earnings"))
    builder.adjust(1, 1, 1, 2)
    return builder.as_markup()


def products(lines: list[ProductLine], page: int, pages: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for line in lines:
        if line.stock is not None:  # cyclic stock never runs low
            builder.button(
                text=supplier_sales_texts.threshold_button(line),
                callback_data=SupplierCb(action="threshold", sku=line.code, page=page),
            )
    alerts = sum(1 for line in lines if line.stock is not None)
    nav = 0
    if page > 0:
        builder.button(text=_("◀ Back"), callback_data=SupplierCb(action="products", page=page - 1))
        nav += 1
    if page + 1 < pages:
        builder.button(text=_("Next ▶"), callback_data=SupplierCb(action="products", page=page + 1))
        nav += 1
    builder.adjust(*([2] * ((alerts + 1) // 2)), *([nav] if nav else []))
    return builder.as_markup()


def earnings(can_withdraw: bool) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if can_withdraw:
        builder.button(text=_("💸 Request withdrawal"), callback_data=SupplierCb(action="withdraw"))
    return builder.as_markup()


def withdrawal_decision(request_id: int) -> InlineKeyboardMarkup:
    return decision_buttons(WithdrawalKind.name, request_id, approve=_("✅ Mark paid"))

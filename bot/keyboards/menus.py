"""Keyboards. Labels come from ``bot.texts``; payloads from the callback factories."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from bot import texts
from bot.keyboards.callbacks import (
    ApiKeyCb,
    BalanceCb,
    BuyCb,
    CatalogueCb,
    LanguageCb,
    OrdersCb,
)
from core.orders import OrderSummary
from core.pricing.quotes import QuoteView
from core.storefront import CategoryLine, FirstScreen, SkuLine

QUANTITY_CHOICES = (1, 5, 10, 50)


def main_menu() -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    for label in (
        texts.MENU_CATALOGUE,
        texts.MENU_ORDERS,
        texts.MENU_BALANCE,
        texts.MENU_HELP,
        texts.MENU_LANGUAGE,
    ):
        builder.button(text=str(label))
    builder.adjust(3, 2)
    return builder.as_markup(resize_keyboard=True)


def categories(lines: list[CategoryLine], first: FirstScreen | None = None) -> InlineKeyboardMarkup:
    """The first screen: featured SKUs and brand zones (one a row), then the categories."""
    builder = InlineKeyboardBuilder()
    top = 0
    if first is not None:
        for sku in first.featured:
            builder.button(
                text=texts.sku_button(sku), callback_data=CatalogueCb(action="sku", sku=sku.code)
            )
        for zone in first.zones:
            builder.button(
                text=f"🏷 {zone.name}", callback_data=CatalogueCb(action="zone", category=zone.id)
            )
        top = len(first.featured) + len(first.zones)
    for line in lines:
        builder.button(
            text=f"{line.name} ({line.skus})",
            callback_data=CatalogueCb(action="list", category=line.id),
        )
    builder.adjust(*([1] * top), 2)
    return builder.as_markup()


SKU_PAGE_SIZE = 8  # SKUs on one page of a category or of search results


def sku_list(lines: list[SkuLine], *, category: int, page: int, pages: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for line in lines:
        builder.button(
            text=texts.sku_button(line), callback_data=CatalogueCb(action="sku", sku=line.code)
        )
    sizes = [1] * len(lines)
    nav = 0
    if page > 0:
        builder.button(
            text=_("◀ Back"),
            callback_data=CatalogueCb(action="list", category=category, page=page - 1),
        )
        nav += 1
    if page + 1 < pages:
        builder.button(
            text=_("Next ▶"),
            callback_data=CatalogueCb(action="list", category=category, page=page + 1),
        )
        nav += 1
    builder.button(text=_("Categories"), callback_data=CatalogueCb(action="home"))
    builder.adjust(*sizes, *([nav] if nav else []), 1)
    return builder.as_markup()


def back_home() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Categories"), callback_data=CatalogueCb(action="home"))
    return builder.as_markup()


def sku_card(line: SkuLine) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if line.in_stock:
        for quantity in QUANTITY_CHOICES:
            builder.button(
                text=str(quantity), callback_data=BuyCb(action="qty", sku=line.code, qty=quantity)
            )
        builder.button(text=_("Other quantity"), callback_data=BuyCb(action="typed", sku=line.code))
    builder.button(text=_("Categories"), callback_data=CatalogueCb(action="home"))
    builder.adjust(len(QUANTITY_CHOICES), 1, 1)
    return builder.as_markup()


def confirm(quote: QuoteView) -> InlineKeyboardMarkup:
    """Confirm only on a quote that can be paid; else what can be done instead."""
    builder = InlineKeyboardBuilder()
    if quote.over_stock:
        if quote.available:
            builder.button(
                text=texts.quote_available_button(quote.available),
                callback_data=BuyCb(action="qty", sku=quote.sku_code, qty=quote.available),
            )
    elif quote.shortfall:
        builder.button(text=_("💰 Top up"), callback_data=BalanceCb(action="topup"))
    else:
        builder.button(text=_("✅ Confirm"), callback_data=BuyCb(action="ok", quote=quote.id))
    builder.button(text=_("✖ Cancel"), callback_data=BuyCb(action="cancel"))
    builder.adjust(2)
    return builder.as_markup()


def orders(items: list[OrderSummary], page: int, pages: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for order in items:
        builder.button(
            text=texts.order_button(order), callback_data=OrdersCb(action="show", order=order.id)
        )
    nav = 0
    if page > 0:
        builder.button(text=_("◀ Back"), callback_data=OrdersCb(action="list", page=page - 1))
        nav += 1
    if page + 1 < pages:
        builder.button(text=_("Next ▶"), callback_data=OrdersCb(action="list", page=page + 1))
        nav += 1
    builder.adjust(*([1] * len(items)), *([nav] if nav else []))
    return builder.as_markup()


def order_actions(order_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📄 Codes as file"), callback_data=OrdersCb(action="file", order=order_id)
    )
    builder.button(text=_("🔁 Buy again"), callback_data=OrdersCb(action="again", order=order_id))
    builder.button(text=_("◀ Orders"), callback_data=OrdersCb(action="list"))
    builder.adjust(2, 1)
    return builder.as_markup()


def balance_actions() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("💳 Top up"), callback_data=BalanceCb(action="topup"))
    builder.button(text=_("📜 Statement"), callback_data=BalanceCb(action="statement"))
    builder.button(text=_("🎟 Redeem voucher"), callback_data=BalanceCb(action="voucher"))
    builder.adjust(2, 1)
    return builder.as_markup()


def languages() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text="中文", callback_data=LanguageCb(code="zh-CN"))
    builder.button(text="English", callback_data=LanguageCb(code="en"))
    return builder.as_markup()


def apikey_actions(replacing: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts.apikey_new_button(),
        callback_data=ApiKeyCb(action="new", replacing=replacing),
    )
    builder.button(text=texts.apikey_cancel_button(), callback_data=ApiKeyCb(action="cancel"))
    if replacing:
        builder.button(
            text=texts.callback_deliveries_button(), callback_data=ApiKeyCb(action="deliveries")
        )
        builder.button(  # an active key can answer as a Dujiao-Next upstream
            text=texts.dujiao_enable_button(),
            callback_data=ApiKeyCb(action="dujiao", replacing=replacing),
        )
    builder.adjust(2, 1)
    return builder.as_markup()

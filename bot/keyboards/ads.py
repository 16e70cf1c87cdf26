"""Buttons of featured placement bidding and paid services."""

from __future__ import annotations

import secrets

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import ads_texts
from core.ads import OpenRound
from core.paid_services import OfferView


class AdsCb(CallbackData, prefix="bid"):
    action: str  # "round" (bid on it) | "sku" (this SKU)
    round: int = 0
    sku: str = ""


class ServiceCb(CallbackData, prefix="svc"):
    action: str  # "offer" | "sku" (boost this SKU) | "buy" (confirmed, with its key)
    offer: str = ""
    sku: str = ""
    key: str = ""


def rounds(views: list[OpenRound]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for view in views:
        builder.button(
            text=ads_texts.bid_button(view.slot),
            callback_data=AdsCb(action="round", round=view.round_id),
        )
    builder.adjust(1)
    return builder.as_markup()


def skus(round_id: int, choices: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in choices:
        builder.button(text=name, callback_data=AdsCb(action="sku", round=round_id, sku=code))
    builder.adjust(1)
    return builder.as_markup()


def offers(views: list[OfferView]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for view in views:
        builder.button(
            text=ads_texts.offer_button(view),
            callback_data=ServiceCb(action="offer", offer=view.code),
        )
    builder.adjust(1)
    return builder.as_markup()


def boost_skus(offer: str, choices: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code, name in choices:
        builder.button(text=name, callback_data=ServiceCb(action="sku", offer=offer, sku=code))
    builder.adjust(1)
    return builder.as_markup()


def demand_categories(offer: str, choices: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for category_id, name in choices:
        builder.button(
            text=name, callback_data=ServiceCb(action="cat", offer=offer, sku=str(category_id))
        )
    builder.adjust(2)
    return builder.as_markup()


def confirm_demand(offer: OfferView, category_id: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=ads_texts.buy_button(),
        callback_data=ServiceCb(
            action="data", offer=offer.code, sku=category_id, key=secrets.token_hex(6)
        ),
    )
    return builder.as_markup()


def resend_demand(bought: ServiceCb) -> InlineKeyboardMarkup:
    """After the purchase: the same button (same key), labelled for what it now does."""
    builder = InlineKeyboardBuilder()
    builder.button(text=ads_texts.resend_button(), callback_data=bought)
    return builder.as_markup()


def confirm(offer: OfferView, sku: str) -> InlineKeyboardMarkup:
    """The key rides on the button: pressing it twice (or an old copy) buys once."""
    builder = InlineKeyboardBuilder()
    builder.button(
        text=ads_texts.buy_button(),
        callback_data=ServiceCb(action="buy", offer=offer.code, sku=sku, key=secrets.token_hex(6)),
    )
    return builder.as_markup()

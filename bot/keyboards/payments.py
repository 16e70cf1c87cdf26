"""The top-up's buttons: a method per enabled provider (and the bank transfer), then the
payment's Pay link and Check button. Each carries what it acts on, so pressing it twice or
on an old message acts on the same payment."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import payment_texts, usdt_texts


class PayMethodCb(CallbackData, prefix="paym"):
    method: str  # a provider's name, or "bank"


class PaymentCb(CallbackData, prefix="payc"):
    action: str  # "check"
    payment: str  # our payment id (22 characters)


def methods(names: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for name in [*names, payment_texts.BANK]:
        builder.button(
            text=payment_texts.method_label(name), callback_data=PayMethodCb(method=name)
        )
    builder.adjust(1)
    return builder.as_markup()


def pay(payment_id: str, url: str | None) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    if url and url.startswith(("https://", "http://")) and len(url) <= 2048:
        builder.button(text=payment_texts.open_button(), url=url)
    builder.button(
        text=payment_texts.check_button(),
        callback_data=PaymentCb(action="check", payment=payment_id),
    )
    builder.adjust(1)
    return builder.as_markup()


class PaymentAdminCb(CallbackData, prefix="paya"):
    action: str  # "stuck"


class UsdtRateCb(CallbackData, prefix="usdtr"):
    """An admin's answer to "set this rate?": it names the rate asked for and the rate in
    force when asked (``was``), so a second press, or a press after another admin changed
    the rate, sets nothing (``core.payments.usdt.Usdt.set_rate``'s ``replacing``)."""

    action: str  # "ok" | "no"
    rate: int  # fen per USDT
    was: int


def usdt_rate_confirm(rate: int, was: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=usdt_texts.rate_confirm_button(rate),
        callback_data=UsdtRateCb(action="ok", rate=rate, was=was),
    )
    builder.button(
        text=usdt_texts.rate_keep_button(),
        callback_data=UsdtRateCb(action="no", rate=rate, was=was),
    )
    builder.adjust(1)
    return builder.as_markup()

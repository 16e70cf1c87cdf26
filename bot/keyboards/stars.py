"""The Stars buttons: an invoice's Pay button, an admin's refund card."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import stars_texts


class StarsRefundCb(CallbackData, prefix="xtr"):
    action: str  # "ok" | "no"
    payment: str


def pay(stars: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=stars_texts.pay_button(stars), pay=True)]]
    )


def refund_card(payment_id: str, stars: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=stars_texts.refund_button(stars),
                    callback_data=StarsRefundCb(action="ok", payment=payment_id).pack(),
                ),
                InlineKeyboardButton(
                    text=stars_texts.cancel_button(),
                    callback_data=StarsRefundCb(action="no", payment=payment_id).pack(),
                ),
            ]
        ]
    )

"""An order's detail as a reseller sees it: its bad-code reports' status under the text and
a "Report a problem" button under the order's buttons."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot import aftersales_texts
from bot.keyboards import admin as kb
from core.aftersales import AfterSales


async def order_detail_extras(
    aftersales: AfterSales, telegram_id: int, order_id: int, text: str, markup: InlineKeyboardMarkup
) -> tuple[str, InlineKeyboardMarkup]:
    """The order detail with its reports' status and a "Report a problem" button."""
    reports = await aftersales.reports_for_order(telegram_id, order_id)
    label, data = kb.report_button(order_id)
    rows = [*markup.inline_keyboard, [InlineKeyboardButton(text=label, callback_data=data)]]
    return text + aftersales_texts.report_lines(reports), InlineKeyboardMarkup(inline_keyboard=rows)

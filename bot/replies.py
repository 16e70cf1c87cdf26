"""Sending composite replies: a receipt with its codes (inline or as a file); a screen
shown in place of the message whose button was pressed."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from bot import texts
from bot.telegram_session import EditMessageTextUnread
from core.delivery.codes import as_text_file
from core.orders import Receipt

TEXT_LIMIT = 4096


async def show_in_place(
    message: Message, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """``text`` in place of ``message`` (a button's message); a message without text (a
    file, a photo: Telegram cannot edit its text) gets the screen as a new message. An
    edit that would change nothing is not sent (``bot.telegram_requests``)."""
    if message.text is None:
        await message.answer(text, reply_markup=reply_markup)
    else:
        await message.edit_text(text, reply_markup=reply_markup)


def codes_file(receipt: Receipt) -> BufferedInputFile:
    body = as_text_file(receipt.cards)
    return BufferedInputFile(body.encode(), filename=f"order-{receipt.order_id}.txt")


async def show_receipt(bot: Bot, chat_id: int, receipt: Receipt, quote: Message | None) -> None:
    """The quote becomes the receipt: one edit shows the order, the new balance and up to 20
    codes (monospace, copyable) and takes the Confirm button away. More codes (or very long
    ones) follow as a .txt file. A quote that can no longer be edited (deleted meanwhile)
    gets the receipt as a new message instead."""
    inline = texts.receipt_with_codes(receipt)
    in_file = len(receipt.codes) > texts.MAX_CODES_INLINE or len(inline) > TEXT_LIMIT
    text = texts.receipt_codes_in_file(receipt) if in_file else inline
    if not await _edited(quote, text):
        await bot.send_message(chat_id, text)
    if in_file:
        caption = texts.codes_file_caption(receipt)
        await bot.send_document(chat_id, codes_file(receipt), caption=caption)


async def _edited(message: Message | None, text: str) -> bool:
    if message is None:
        return False
    try:
        # without reply_markup: the buttons go
        edit = EditMessageTextUnread.of(message.chat.id, message.message_id, text)
        await edit.as_(message.bot)
    except TelegramBadRequest:  # deleted, or otherwise no longer editable
        return False
    return True

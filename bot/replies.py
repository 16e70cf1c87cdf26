"""Sending composite replies: a receipt with its codes (inline or as a file); a quote with
its Confirm button; a screen shown in place of the message whose button was pressed; an
answer to a typed message or a button press as a new message."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message

from bot import fulfilment_texts, texts
from bot.keyboards import menus
from bot.telegram_session import EditMessageTextUnread, SendMessageUnread
from core.delivery.codes import as_text_file
from core.orders import Receipt
from core.pricing.quotes import QuoteView

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
    if receipt.fulfilment is not None and not receipt.codes:  # paid now, delivered later
        text = fulfilment_texts.direct_receipt(receipt)
        if not await _edited(quote, text):
            await bot.send_message(chat_id, text)
        return
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


async def reply(event: Message | CallbackQuery, text: str, markup: Any = None) -> None:
    """Answer a typed message or a button press with a new message."""
    if isinstance(event, CallbackQuery):
        await event.answer()
        if not isinstance(event.message, Message):
            return
        event = event.message
    await event.answer(text, reply_markup=markup)


async def show_quote(target: Message, quote: QuoteView, prefix: str | None = None) -> None:
    """The quote with Confirm (or Top up) under it, as a new message in ``target``'s chat."""
    text = texts.quote(quote)
    if prefix:
        text = f"{prefix}\n\n{text}"
    markup = menus.confirm(quote)
    await SendMessageUnread.of(target.chat.id, text, markup).as_(target.bot)

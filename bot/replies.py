"""Sending composite replies: a receipt with its codes (inline or as a file)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BufferedInputFile

from bot import texts
from core.orders import Receipt

TEXT_LIMIT = 4096


def codes_file(receipt: Receipt) -> BufferedInputFile:
    body = "\n".join(receipt.codes) + "\n"
    return BufferedInputFile(body.encode(), filename=f"order-{receipt.order_id}.txt")


async def send_receipt(bot: Bot, chat_id: int, receipt: Receipt) -> None:
    """Up to 20 codes in the message, monospace; more (or very long ones) as a .txt file."""
    inline = texts.receipt_with_codes(receipt)
    if len(receipt.codes) <= texts.MAX_CODES_INLINE and len(inline) <= TEXT_LIMIT:
        await bot.send_message(chat_id, inline)
        return
    await bot.send_message(chat_id, texts.receipt_codes_in_file(receipt))
    await bot.send_document(chat_id, codes_file(receipt), caption=texts.codes_file_caption(receipt))

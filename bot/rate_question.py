"""The question a command setting a rate (``/usdtrate``, ``/stars_rate``) asks when the
rate was not set: ✅ / ✖ for a big move (answered in ``bot/handlers/admin_rates.py``), else
why not. Shared by both commands, so both rates read and behave the same."""

from __future__ import annotations

from aiogram.types import Message

from bot import rate_texts
from bot.keyboards import rates as keyboards
from core.errors import RateRefused


async def answer_refusal(message: Message, refused: RateRefused) -> None:
    """What a command setting a rate answers when the rate was not set: the ✅ / ✖ question
    for a big move, else why not."""
    p = refused.params
    if p["reason"] != "confirm":
        await message.answer(rate_texts.refused(refused))
        return
    of, rate, current = str(p["of"]), int(p["rate"]), int(p["current"])
    await message.answer(
        rate_texts.confirm(of, rate, current, int(p["change_bps"])),
        reply_markup=keyboards.confirm(of, rate, current),
    )

"""The guard on the rates admins set (``/usdtrate``, ``/stars_rate``), one for both: a rate
outside its currency's sane range is refused, one moving the rate in force by more than 20%
is asked about (✅ / ✖) and set only on ✅, once — a second press, or one after another
admin's change, sets nothing and says what is in force (``core/decisions/rates.py``). The
commands ask with ``bot/rate_question.py``; this router takes the answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from bot import rate_texts, stars_texts, usdt_texts
from bot.errors import is_stale_message
from bot.filters import admin_router
from bot.keyboards.rates import RateCb
from bot.replies import show_in_place
from core.catalogue import UserView
from core.errors import RateRefused
from core.payments.stars import Stars
from core.payments.usdt import Usdt


async def rate_pressed(
    query: CallbackQuery, callback_data: RateCb, user: UserView, usdt: Usdt, stars: Stars
) -> None:
    """✅ sets the rate asked for, only if the rate in force is still the one the question
    showed. ✖ changes nothing and says what stays. An old message that can no longer be
    edited gets the answer as a new message."""
    of = callback_data.of
    if callback_data.action != "ok":
        await query.answer()
        in_force = await _in_force(of, usdt, stars)
        await _show(query, rate_texts.kept(of, callback_data.was if in_force is None else in_force))
        return
    rate, was, admin = callback_data.rate, callback_data.was, user.telegram_id
    try:
        if of == "stars":
            star = await stars.set_rate(
                rate, admin_telegram_id=admin, confirmed=True, replacing=was
            )
            done = stars_texts.rate_set(star.fen_per_star)
        else:
            usdt_rate = await usdt.set_rate(
                rate, admin_telegram_id=admin, confirmed=True, replacing=was
            )
            done = usdt_texts.rate_set(usdt_rate)
    except RateRefused as refused:
        text = rate_texts.refused(refused)
        await query.answer(text[:200], show_alert=True)
        await _show(query, text)
        return
    await query.answer()
    await _show(query, done)


async def _in_force(of: str, usdt: Usdt, stars: Stars) -> int | None:
    if of == "stars":
        return await stars.rate()
    view = await usdt.rate()
    return None if view is None else view.fen_per_usdt


async def _show(query: CallbackQuery, text: str) -> None:
    """``text`` in place of the question (its buttons go), or as a new message when the
    question is too old or gone."""
    if isinstance(query.message, Message):
        try:
            await show_in_place(query.message, text)
            return
        except TelegramBadRequest as stale:
            if not is_stale_message(stale):
                raise
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, text)


def setup() -> Router:
    router = admin_router("admin_rates")
    router.callback_query.register(rate_pressed, RateCb.filter())
    return router

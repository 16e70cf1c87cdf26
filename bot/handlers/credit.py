"""/credit: a reseller's credit line (statement, or the limit his history suggests and an
Apply button that puts an application in the approval queue); /credit ID for an admin, and
/credit ID freeze (or unfreeze)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot import credit_texts
from bot.keyboards.callbacks import CreditCb
from core.catalogue import UserView
from core.credit import MAX_RATE_BPS, MAX_TERM_DAYS, CreditLines, CreditStatement
from core.money import MalformedAmount, parse_amount


def _apply_button() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=str(credit_texts.APPLY), callback_data=CreditCb(action="apply").pack()
                )
            ]
        ]
    )


async def show(
    message: Message, command: CommandObject, user: UserView, credit: CreditLines
) -> None:
    words = (command.args or "").split()
    if words[1:2] == ["terms"]:  # an admin sets a reseller's terms
        terms = _terms(words[2:])
        if not words[0].isdigit() or terms is None:
            await message.answer(credit_texts.terms_usage(MAX_RATE_BPS, MAX_TERM_DAYS))
            return
        limit, rate_bps, term_days = terms
        granted = await credit.grant(
            user.telegram_id, int(words[0]), limit=limit, rate_bps=rate_bps, term_days=term_days
        )
        await message.answer(
            credit_texts.terms_set(int(words[0])) + "\n\n" + credit_texts.statement(granted)
        )
        return
    if words:  # an admin looks at a reseller, or freezes his line
        if not words[0].isdigit() or words[1:] not in ([], ["freeze"], ["unfreeze"]):
            await message.answer(credit_texts.not_a_reseller_id())
            return
        if words[1:]:
            frozen = words[1] == "freeze"
            await credit.freeze(user.telegram_id, int(words[0]), frozen=frozen)
        line, suggestion = await credit.review(user.telegram_id, int(words[0]))
        texts = [credit_texts.statement(line)] if line else []
        hint = credit_texts.terms_hint(int(words[0]))
        suggested = credit_texts.suggestion(suggestion, has_line=line is not None)
        await message.answer("\n\n".join([*texts, suggested, hint]))
        return
    mine = await credit.mine(user.telegram_id)
    if isinstance(mine, CreditStatement):
        await message.answer(credit_texts.statement(mine))
        return
    markup = _apply_button() if mine.limit > 0 else None
    await message.answer(credit_texts.suggestion(mine), reply_markup=markup)


def _terms(words: list[str]) -> tuple[int, int, int] | None:
    """LIMIT RATE_BPS TERM_DAYS as typed (``500.00 5 30``); None when not that."""
    if len(words) != 3 or not (words[1].isdigit() and words[2].isdigit()):
        return None
    try:
        limit = parse_amount(words[0])
    except MalformedAmount:
        return None
    rate_bps, term_days = int(words[1]), int(words[2])
    if limit < 0 or rate_bps > MAX_RATE_BPS or not 0 < term_days <= MAX_TERM_DAYS:
        return None
    return limit, rate_bps, term_days


async def apply(
    query: CallbackQuery,
    user: UserView,
    credit: CreditLines,
) -> None:
    application = await credit.apply(user.telegram_id)
    await query.answer()
    if isinstance(query.message, Message):  # the admins' cards: the outbox (core)
        await query.message.answer(credit_texts.applied(application))


def setup() -> Router:
    router = Router(name="credit")
    router.message.register(show, Command("credit"))
    router.callback_query.register(apply, CreditCb.filter(F.action == "apply"))
    return router

"""/credit: a reseller's credit line (statement, or the limit his history suggests and an
Apply button that puts an application in the approval queue); /credit ID for an admin, and
/credit ID freeze (or unfreeze)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot import credit_texts
from bot.keyboards.approvals import decision_buttons
from bot.keyboards.callbacks import CreditCb
from bot.notices import tell_admins
from bot.sender import Sender
from core.catalogue import Catalogue, UserView
from core.credit import CreditLines, CreditStatement
from core.settings import Settings


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
    if words:  # an admin looks at a reseller, or freezes his line
        if not words[0].isdigit() or words[1:] not in ([], ["freeze"], ["unfreeze"]):
            await message.answer(credit_texts.not_a_reseller_id())
            return
        if words[1:]:
            frozen = words[1] == "freeze"
            await credit.freeze(user.telegram_id, int(words[0]), frozen=frozen)
        line, suggestion = await credit.review(user.telegram_id, int(words[0]))
        texts = [credit_texts.statement(line)] if line else []
        await message.answer("\n\n".join([*texts, credit_texts.suggestion(suggestion)]))
        return
    mine = await credit.mine(user.telegram_id)
    if isinstance(mine, CreditStatement):
        await message.answer(credit_texts.statement(mine))
        return
    markup = _apply_button() if mine.limit > 0 else None
    await message.answer(credit_texts.suggestion(mine), reply_markup=markup)


async def apply(
    query: CallbackQuery,
    user: UserView,
    credit: CreditLines,
    catalogue: Catalogue,
    settings: Settings,
    sender: Sender,
    i18n: I18n,
) -> None:
    application = await credit.apply(user.telegram_id)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(credit_texts.applied(application))
    if application.created:
        await tell_admins(
            sender,
            catalogue,
            settings,
            i18n,
            lambda: (
                credit_texts.for_admin(application),
                decision_buttons(credit.kind.name, application.id),
            ),
        )


def setup() -> Router:
    router = Router(name="credit")
    router.message.register(show, Command("credit"))
    router.callback_query.register(apply, CreditCb.filter(F.action == "apply"))
    return router

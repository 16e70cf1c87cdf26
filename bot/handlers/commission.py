"""/commission for admins: the commission schedules, and setting or removing a tier of the
default, the exclusive or a category's ladder (the core refuses anyone else)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bot import credit_texts
from core.catalogue import UserView
from core.commission import CommissionSchedules


async def commission(
    message: Message, command: CommandObject, user: UserView, commission: CommissionSchedules
) -> None:
    words = (command.args or "").split()
    if not words:
        await message.answer(credit_texts.schedules(await commission.schedules(user.telegram_id)))
        return
    if len(words) < 3 or not words[-2].isdigit():
        await message.answer(credit_texts.commission_usage())
        return
    schedule, units = " ".join(words[:-2]), int(words[-2])
    if words[-1] == "remove":
        await commission.remove_tier(user.telegram_id, schedule, min_units=units)
    elif words[-1].isdigit():
        await commission.set_tier(
            user.telegram_id, schedule, min_units=units, rate_bps=int(words[-1])
        )
    else:
        await message.answer(credit_texts.commission_usage())
        return
    await message.answer(credit_texts.schedules(await commission.schedules(user.telegram_id)))


def setup() -> Router:
    router = Router(name="commission")
    router.message.register(commission, Command("commission"))
    return router

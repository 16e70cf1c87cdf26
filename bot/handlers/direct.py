"""A direct top-up's account, typed field by field or picked from the saved ones, then the
quote (``bot/direct_account.py`` starts it from the buying flow)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import fulfilment_texts
from bot.direct_account import DirectFlow, ask_field, quote_account
from bot.filters import TYPED
from bot.keyboards.fulfilment import DirectCb
from core.catalogue import UserView
from core.fulfilment import Fulfilments


async def field_typed(
    message: Message, state: FSMContext, user: UserView, fulfilments: Fulfilments
) -> None:
    data = await state.get_data()
    spec = await fulfilments.direct_spec(str(data.get("sku", "")))
    if spec is None or "index" not in data:
        await state.clear()
        await message.answer(fulfilment_texts.stale_flow())
        return
    index = int(data["index"])
    values = dict(data["values"]) | {spec.fields[index].name: (message.text or "").strip()}
    if index + 1 < len(spec.fields):
        await state.update_data(values=values, index=index + 1)
        await ask_field(message, spec, index + 1)
        return
    await quote_account(
        message, state, fulfilments, user.telegram_id, data["sku"], int(data["qty"]), values
    )


async def saved_chosen(
    query: CallbackQuery,
    callback_data: DirectCb,
    state: FSMContext,
    user: UserView,
    fulfilments: Fulfilments,
) -> None:
    values = await fulfilments.saved_account(user.telegram_id, callback_data.account)
    await query.answer()
    if isinstance(query.message, Message):
        await quote_account(
            query.message,
            state,
            fulfilments,
            user.telegram_id,
            callback_data.sku,
            callback_data.qty,
            values,
        )


def setup() -> Router:
    router = Router(name="direct")
    router.message.register(field_typed, StateFilter(DirectFlow.typing_field), TYPED)
    router.callback_query.register(saved_chosen, DirectCb.filter(F.action == "use"))
    return router

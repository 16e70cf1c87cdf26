"""A direct top-up's account, typed field by field or picked from the saved ones, then the
quote (``bot/direct_account.py`` starts it from the buying flow). Each value is checked as it
is typed, by the rule the sale applies (``check_value``): a wrong one is refused naming its
field, which is asked again, the values before it kept. An optional field may be skipped."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import fulfilment_texts, texts
from bot.direct_account import DirectFlow, ask_field, quote_account
from bot.filters import TYPED
from bot.keyboards import fulfilment as keyboards
from bot.keyboards.fulfilment import DirectCb
from core.catalogue import UserView
from core.decisions.fulfilment import check_value
from core.decisions.refusal import Refusal
from core.fulfilment import Fulfilments


async def field_typed(
    message: Message, state: FSMContext, user: UserView, fulfilments: Fulfilments
) -> None:
    await _take(message, state, user, fulfilments, message.text or "")


async def field_skipped(
    query: CallbackQuery,
    callback_data: DirectCb,
    state: FSMContext,
    user: UserView,
    fulfilments: Fulfilments,
) -> None:
    """Skip on an optional field's question: only the field being asked now (an old
    message's button, or another form's, ends nothing)."""
    await query.answer()
    if not isinstance(query.message, Message):
        return
    data = await state.get_data()
    spec = await fulfilments.direct_spec(callback_data.sku)
    asked = (
        spec.fields[int(data["index"])]
        if spec is not None
        and await state.get_state() == DirectFlow.typing_field.state
        and data.get("sku") == callback_data.sku
        and int(data.get("index", len(spec.fields))) < len(spec.fields)
        else None
    )
    if asked is None or asked.name != callback_data.field or asked.required:
        await query.message.answer(fulfilment_texts.stale_flow())
        return
    await _take(query.message, state, user, fulfilments, "")


async def _take(
    target: Message, state: FSMContext, user: UserView, fulfilments: Fulfilments, typed: str
) -> None:
    """The value for the field being asked (``""``: skipped), then the next field or, after
    the last, the quote."""
    data = await state.get_data()
    spec = await fulfilments.direct_spec(str(data.get("sku", "")))
    if spec is None or "index" not in data or int(data["index"]) >= len(spec.fields):
        await state.clear()
        await target.answer(fulfilment_texts.stale_flow())
        return
    index, sku, quantity = int(data["index"]), str(data["sku"]), int(data["qty"])
    field = spec.fields[index]
    values = dict(data["values"])
    match check_value(field, typed):
        case Refusal(error):  # the same field again; the state (and values) unchanged
            await target.answer(
                texts.error(error), reply_markup=keyboards.field_keys(sku, quantity, field, [])
            )
            return
        case str(value):
            values[field.name] = value
        case None:  # an optional field left out
            values.pop(field.name, None)
    if index + 1 < len(spec.fields):
        await state.update_data(values=values, index=index + 1)
        await ask_field(target, spec, sku, quantity, index + 1)
        return
    await quote_account(target, state, fulfilments, user.telegram_id, sku, quantity, values)


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
    router.callback_query.register(field_skipped, DirectCb.filter(F.action == "skip"))
    return router

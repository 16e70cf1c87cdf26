"""Asking a reseller for a direct top-up's account, field by field, before the quote: where
the buying flow (``bot/handlers/buy.py``) hands a direct SKU over and where the account flow
(``bot/handlers/direct.py``) goes on. Each typed value is checked when the last one is in,
as it is typed (``check_value``, the rule the sale applies) and all again by the core when
the last one is in (``Fulfilments.quote``); a wrong one is asked again, the values accepted
before it kept."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message

from bot import fulfilment_texts
from bot.keyboards import fulfilment as keyboards
from bot.replies import show_quote
from core.errors import InvalidAccount
from core.fulfilment import DirectSpec, Fulfilments

__all__ = ["DirectFlow", "ask_account", "ask_field", "quote_account"]


class DirectFlow(StatesGroup):
    typing_field = State()


async def ask_account(
    target: Message,
    state: FSMContext,
    fulfilments: Fulfilments,
    telegram_id: int,
    sku_code: str,
    quantity: int,
) -> bool:
    """Start asking for the account when ``sku_code`` is a direct SKU (True), else False."""
    spec = await fulfilments.direct_spec(sku_code)
    if spec is None:
        return False
    await state.set_state(DirectFlow.typing_field)
    await state.set_data({"sku": sku_code.upper(), "qty": quantity, "values": {}, "index": 0})
    saved = await fulfilments.saved_accounts(telegram_id, sku_code)
    await target.answer(
        fulfilment_texts.ask_field(spec.sku_name, spec.fields[0], bool(saved)),
        reply_markup=keyboards.field_keys(sku_code.upper(), quantity, spec.fields[0], saved),
    )
    return True


async def ask_field(
    target: Message, spec: DirectSpec, sku_code: str, quantity: int, index: int
) -> None:
    field = spec.fields[index]
    await target.answer(
        fulfilment_texts.ask_field(spec.sku_name, field, False),
        reply_markup=keyboards.field_keys(sku_code, quantity, field, []),
    )


async def quote_account(
    target: Message,
    state: FSMContext,
    fulfilments: Fulfilments,
    telegram_id: int,
    sku_code: str,
    quantity: int,
    values: dict[str, str],
) -> None:
    """The quote for this account, or the wrong field asked again."""
    try:
        quote = await fulfilments.quote(telegram_id, sku_code, quantity, values)
    except InvalidAccount as refused:
        spec = await fulfilments.direct_spec(sku_code)
        names = [field.name for field in spec.fields] if spec else []
        field = str(refused.params.get("field"))
        if spec is None or field not in names:
            raise
        index = names.index(field)
        kept = {name: values[name] for name in names[:index] if name in values}
        await state.set_state(DirectFlow.typing_field)
        await state.set_data({"sku": sku_code, "qty": quantity, "values": kept, "index": index})
        raise
    await state.clear()
    await show_quote(target, quote, fulfilment_texts.quote_for(values))

"""A supplier's direct top-up tasks: the list (/tasks), Start, Done (with an optional proof:
a photo or a serial number), Partly (how many units), Failed (a reason). Every button names
its order, so a second press or one on an old message is answered from the order's state:
a task that has ended shows how it ended and changes nothing."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import fulfilment_texts, texts
from bot.filters import TYPED
from bot.keyboards import fulfilment as keyboards
from bot.keyboards.fulfilment import TaskCb
from bot.replies import show_in_place
from core.catalogue import UserView
from core.errors import OrderFinished
from core.fulfilment import Fulfilments, Task


class TaskFlow(StatesGroup):
    proof = State()
    units = State()
    reason = State()


async def tasks(message: Message, user: UserView, fulfilments: Fulfilments) -> None:
    open_tasks = await fulfilments.tasks(user.telegram_id)
    if not open_tasks:
        await message.answer(fulfilment_texts.no_tasks())
        return
    await message.answer(fulfilment_texts.tasks_head(len(open_tasks)))
    for task in open_tasks[:10]:
        await message.answer(fulfilment_texts.task(task), reply_markup=keyboards.for_task(task))


async def _open_task(
    query: CallbackQuery, user: UserView, fulfilments: Fulfilments, order: int
) -> Task | None:
    """The task if it is still open; else its end shown in place, and ``None``."""
    task = await fulfilments.task(user.telegram_id, order)
    if task.open:
        return task
    await query.answer(texts.error(OrderFinished(status=task.status.value)))
    if isinstance(query.message, Message):
        await show_in_place(query.message, fulfilment_texts.task(task))
    return None


async def start(
    query: CallbackQuery, callback_data: TaskCb, user: UserView, fulfilments: Fulfilments
) -> None:
    if await _open_task(query, user, fulfilments, callback_data.order) is None:
        return
    task = await fulfilments.start(user.telegram_id, callback_data.order)
    await query.answer(fulfilment_texts.started())
    if isinstance(query.message, Message):
        await show_in_place(query.message, fulfilment_texts.task(task), keyboards.for_task(task))


async def ask(
    query: CallbackQuery,
    callback_data: TaskCb,
    state: FSMContext,
    user: UserView,
    fulfilments: Fulfilments,
) -> None:
    task = await _open_task(query, user, fulfilments, callback_data.order)
    if task is None:
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await state.set_data({"order": task.order_id, "quantity": task.quantity})
    if callback_data.action == "done":
        await state.set_state(TaskFlow.proof)
        await query.message.answer(
            fulfilment_texts.ask_proof(task.order_id),
            reply_markup=keyboards.skip_proof(task.order_id),
        )
    elif callback_data.action == "part":
        await state.set_state(TaskFlow.units)
        await query.message.answer(fulfilment_texts.ask_units(task.order_id, task.quantity))
    else:
        await state.set_state(TaskFlow.reason)
        await query.message.answer(fulfilment_texts.ask_reason(task.order_id))


async def skip_proof(
    query: CallbackQuery,
    callback_data: TaskCb,
    state: FSMContext,
    user: UserView,
    fulfilments: Fulfilments,
) -> None:
    if await _open_task(query, user, fulfilments, callback_data.order) is None:
        return
    data = await state.get_data()
    units = data.get("units") if data.get("order") == callback_data.order else None
    await state.clear()
    task = await fulfilments.complete(user.telegram_id, callback_data.order, units=units)
    await query.answer()
    if isinstance(query.message, Message):
        await show_in_place(query.message, fulfilment_texts.done(task))


async def proof_sent(
    message: Message, state: FSMContext, user: UserView, fulfilments: Fulfilments
) -> None:
    data = await state.get_data()
    await state.clear()
    photo = message.photo[-1].file_id if message.photo else None
    proof = (message.caption if photo else message.text) or ""
    task = await fulfilments.complete(
        user.telegram_id,
        int(data["order"]),
        units=data.get("units"),
        proof=proof,
        proof_file_id=photo,
    )
    await message.answer(fulfilment_texts.done(task))


async def units_typed(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    quantity = int(data["quantity"])
    raw = (message.text or "").strip()
    if not raw.isdigit() or not 1 <= int(raw) < quantity:
        await message.answer(fulfilment_texts.bad_units(quantity - 1))
        return
    await state.update_data(units=int(raw))
    await state.set_state(TaskFlow.proof)
    order = int(data["order"])
    await message.answer(
        fulfilment_texts.ask_proof(order), reply_markup=keyboards.skip_proof(order)
    )


async def reason_typed(
    message: Message, state: FSMContext, user: UserView, fulfilments: Fulfilments
) -> None:
    data = await state.get_data()
    await state.clear()
    task = await fulfilments.fail(user.telegram_id, int(data["order"]), message.text or "")
    await message.answer(fulfilment_texts.done(task))


def setup() -> Router:
    router = Router(name="fulfil_tasks")
    router.message.register(tasks, Command("tasks"))
    router.message.register(tasks, F.text == fulfilment_texts.MENU_TASKS)
    router.callback_query.register(start, TaskCb.filter(F.action == "start"))
    router.callback_query.register(ask, TaskCb.filter(F.action.in_({"done", "part", "fail"})))
    router.callback_query.register(skip_proof, TaskCb.filter(F.action == "skip"))
    router.message.register(proof_sent, StateFilter(TaskFlow.proof), F.photo)
    router.message.register(proof_sent, StateFilter(TaskFlow.proof), TYPED)
    router.message.register(units_typed, StateFilter(TaskFlow.units), TYPED)
    router.message.register(reason_typed, StateFilter(TaskFlow.reason), TYPED)
    return router

"""After-sales. A reseller reports a bad code from the order detail (pick the code by its
position, then a reason and optionally a screenshot); the SKU's supplier (never shown the
code or the screenshot) and every admin are told; an admin shows the code, replaces it from
stock, refunds that unit (its code is voided), or rejects with a reason; the reseller is
told and sees the report's status under the order. The admins' cards are the outbox's
(``core.approvals.ask_admins``); the supplier's notice is a direct one (``bot.notices``).
Under a refunded report the admin may restock the void code, once the supplier confirms it
unused (the reason is asked for)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot import admin_texts, aftersales_texts
from bot.filters import TYPED, admin_router
from bot.keyboards import admin as kb
from bot.replies import reply
from core.aftersales import AfterSales
from core.catalogue import UserView
from core.restocks import Restocks


class ReportFlow(StatesGroup):
    position = State()
    reason = State()


class CodeRestockFlow(StatesGroup):
    reason = State()


# the reseller's side -------------------------------------------------------------------


async def start_report(
    query: CallbackQuery,
    callback_data: kb.BadCodeReportCb,
    user: UserView,
    aftersales: AfterSales,
    state: FSMContext,
) -> None:
    order_id = callback_data.order
    available = await aftersales.reportable_positions(user.telegram_id, order_id)
    if not available:
        await query.answer(aftersales_texts.nothing_to_report(), show_alert=True)
        return
    if len(available) <= kb.MAX_POSITION_BUTTONS:
        await reply(query, aftersales_texts.pick_code(order_id), kb.positions(order_id, available))
        return
    await state.set_state(ReportFlow.position)
    await state.update_data(order=order_id)
    await reply(query, aftersales_texts.type_position(order_id, max(available)))


async def typed_position(
    message: Message, state: FSMContext, user: UserView, aftersales: AfterSales
) -> None:
    order_id = int((await state.get_data())["order"])
    text = (message.text or "").strip().lstrip("#")
    available = await aftersales.reportable_positions(user.telegram_id, order_id)
    if not text.isdigit() or len(text) > 6 or int(text) not in available:
        await message.answer(aftersales_texts.type_position(order_id, max(available, default=0)))
        return
    await _ask_reason(message, state, order_id, int(text))


async def picked(
    query: CallbackQuery, callback_data: kb.BadCodeReportCb, state: FSMContext
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_reason(query.message, state, callback_data.order, callback_data.pos)


async def _ask_reason(message: Message, state: FSMContext, order_id: int, position: int) -> None:
    await state.set_state(ReportFlow.reason)
    await state.update_data(order=order_id, position=position)
    await message.answer(aftersales_texts.ask_reason(order_id, position))


async def reason(
    message: Message,
    state: FSMContext,
    user: UserView,
    aftersales: AfterSales,
) -> None:
    text = (message.caption or message.text or "").strip()
    if not text:
        await message.answer(aftersales_texts.reason_required())
        return
    data = await state.get_data()
    await state.clear()  # a refusal below ends the flow: the reseller starts again
    photo = message.photo[-1].file_id if message.photo else None
    reported = await aftersales.report(
        user.telegram_id,
        int(data["order"]),
        int(data["position"]),
        reason=text,
        screenshot_file_id=photo,
    )
    await message.answer(aftersales_texts.report_sent(reported.report))
    # promised with the report (the outbox): the admins' cards with the screenshot, and the
    # supplier's notice of what is wrong (never the code, nor the screenshot, which may show it)


# the admin's side ----------------------------------------------------------------------


async def open_reports(query: CallbackQuery, user: UserView, aftersales: AfterSales) -> None:
    items = await aftersales.open_reports(user.telegram_id)
    await reply(query, admin_texts.open_reports(len(items)), kb.reports(items))


async def show_report(
    query: CallbackQuery, callback_data: kb.ReportDecisionCb, user: UserView, aftersales: AfterSales
) -> None:
    report = await aftersales.get(user.telegram_id, callback_data.report)
    await reply(query, admin_texts.report_for_admin(report), kb.report_decision(report))


async def show_code(
    query: CallbackQuery, callback_data: kb.ReportDecisionCb, user: UserView, aftersales: AfterSales
) -> None:
    report = await aftersales.get(user.telegram_id, callback_data.report)
    code = await aftersales.reported_code(user.telegram_id, report.id)
    await reply(query, admin_texts.reported_code(report, code))


async def ask_restock_reason(
    query: CallbackQuery, callback_data: kb.RestockCb, state: FSMContext
) -> None:
    await state.set_state(CodeRestockFlow.reason)
    await state.update_data(order=callback_data.order, line=callback_data.line)
    await reply(query, admin_texts.ask_restock_reason(callback_data.order), kb.cancel())


async def restock(message: Message, state: FSMContext, user: UserView, restocks: Restocks) -> None:
    data = await state.get_data()
    await state.clear()  # a refusal below ends the flow: the admin presses the button again
    done = await restocks.restock_as_admin(
        user.telegram_id,
        int(data["order"]),
        line_ids=[int(data["line"])],
        reason=message.text or "",
    )
    await message.answer(admin_texts.restocked(done))


def setup() -> Router:
    """The admins' side first, then the resellers' (the order they always had). A report's
    Replace / Refund / Reject are the approval handlers' (bot/handlers/approvals.py)."""
    admin = admin_router("admin_aftersales")
    admin.callback_query.register(open_reports, kb.AdminCb.filter(F.action == "reports"))
    admin.callback_query.register(show_report, kb.ReportDecisionCb.filter(F.action == "show"))
    admin.callback_query.register(show_code, kb.ReportDecisionCb.filter(F.action == "code"))
    admin.callback_query.register(ask_restock_reason, kb.RestockCb.filter())
    admin.message.register(restock, StateFilter(CodeRestockFlow.reason), TYPED)
    resellers = Router(name="aftersales")
    resellers.callback_query.register(start_report, kb.BadCodeReportCb.filter(F.action == "start"))
    resellers.message.register(typed_position, StateFilter(ReportFlow.position), TYPED)
    resellers.callback_query.register(picked, kb.BadCodeReportCb.filter(F.action == "pick"))
    resellers.message.register(reason, StateFilter(ReportFlow.reason), F.photo | TYPED)
    both = Router(name="aftersales_both")
    both.include_routers(admin, resellers)
    return both

"""After-sales. A reseller reports a bad code from the order detail (pick the code by its
position, then a reason and optionally a screenshot); the SKU's supplier (never shown the
code or the screenshot) and every admin are told; an admin shows the code, replaces it from
stock, refunds that unit (its code is voided), or rejects with a reason; the reseller is
told and sees the report's status under the order. Under a refunded report the admin may
restock the void code, once the supplier confirms it unused (the reason is asked for)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot import admin_texts
from bot.formatting import reading_as
from bot.handlers.admin_panel import TYPED, admin_router, reply
from bot.i18n import LOCALE_OF
from bot.keyboards import admin as kb
from core.aftersales import ReportView
from core.catalogue import UserView
from core.errors import NotFound
from core.platform import Platform

log = logging.getLogger("kameng.bot")
router = Router(name="aftersales")  # resellers
admin = admin_router("admin_aftersales")


class ReportFlow(StatesGroup):
    position = State()
    reason = State()


class CodeRestockFlow(StatesGroup):
    reason = State()


async def order_detail_extras(
    platform: Platform, user: UserView, order_id: int, text: str, markup: InlineKeyboardMarkup
) -> tuple[str, InlineKeyboardMarkup]:
    """The order detail with its reports' status and a "Report a problem" button."""
    reports = await platform.aftersales.reports_for_order(user.telegram_id, order_id)
    label, data = kb.report_button(order_id)
    rows = [*markup.inline_keyboard, [InlineKeyboardButton(text=label, callback_data=data)]]
    return text + admin_texts.report_lines(reports), InlineKeyboardMarkup(inline_keyboard=rows)


async def _send(
    bot: Bot,
    platform: Platform,
    i18n: I18n,
    telegram_id: int,
    render: Callable[[], tuple[str, ReportView | None]],
    *,
    with_markup: bool = False,
    photo: str | None = None,
) -> None:
    """Send ``render()`` (and its decision buttons) in the recipient's language; a recipient
    who cannot be reached is logged, never allowed to stop the others."""
    try:
        recipient = await platform.catalogue.user(telegram_id)
    except NotFound:
        return
    with (
        i18n.use_locale(LOCALE_OF.get(recipient.language, "zh_CN")),
        reading_as(platform.settings, telegram_id),
    ):
        text, report = render()
        markup = kb.report_decision(report) if with_markup and report is not None else None
        try:
            if photo:
                await bot.send_photo(telegram_id, photo, caption=text[:1024], reply_markup=markup)
            else:
                await bot.send_message(telegram_id, text, reply_markup=markup)
        except TelegramAPIError as exc:
            log.warning("could not notify %s: %s", telegram_id, type(exc).__name__)


# the reseller's side -------------------------------------------------------------------


@router.callback_query(kb.BadCodeReportCb.filter(F.action == "start"))
async def start_report(
    query: CallbackQuery,
    callback_data: kb.BadCodeReportCb,
    user: UserView,
    platform: Platform,
    state: FSMContext,
) -> None:
    order_id = callback_data.order
    available = await platform.aftersales.reportable_positions(user.telegram_id, order_id)
    if not available:
        await query.answer(admin_texts.nothing_to_report(), show_alert=True)
        return
    if len(available) <= kb.MAX_POSITION_BUTTONS:
        await reply(query, admin_texts.pick_code(order_id), kb.positions(order_id, available))
        return
    await state.set_state(ReportFlow.position)
    await state.update_data(order=order_id)
    await reply(query, admin_texts.type_position(order_id, max(available)))


@router.message(StateFilter(ReportFlow.position), TYPED)
async def typed_position(
    message: Message, state: FSMContext, user: UserView, platform: Platform
) -> None:
    order_id = int((await state.get_data())["order"])
    text = (message.text or "").strip().lstrip("#")
    available = await platform.aftersales.reportable_positions(user.telegram_id, order_id)
    if not text.isdigit() or len(text) > 6 or int(text) not in available:
        await message.answer(admin_texts.type_position(order_id, max(available, default=0)))
        return
    await _ask_reason(message, state, order_id, int(text))


@router.callback_query(kb.BadCodeReportCb.filter(F.action == "pick"))
async def picked(
    query: CallbackQuery, callback_data: kb.BadCodeReportCb, state: FSMContext
) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await _ask_reason(query.message, state, callback_data.order, callback_data.pos)


async def _ask_reason(message: Message, state: FSMContext, order_id: int, position: int) -> None:
    await state.set_state(ReportFlow.reason)
    await state.update_data(order=order_id, position=position)
    await message.answer(admin_texts.ask_reason(order_id, position))


@router.message(StateFilter(ReportFlow.reason), F.photo | TYPED)
async def reason(
    message: Message,
    state: FSMContext,
    user: UserView,
    platform: Platform,
    bot: Bot,
    i18n: I18n,
) -> None:
    text = (message.caption or message.text or "").strip()
    if not text:
        await message.answer(admin_texts.reason_required())
        return
    data = await state.get_data()
    await state.clear()  # a refusal below ends the flow: the reseller starts again
    photo = message.photo[-1].file_id if message.photo else None
    reported = await platform.aftersales.report(
        user.telegram_id,
        int(data["order"]),
        int(data["position"]),
        reason=text,
        screenshot_file_id=photo,
    )
    report = reported.report
    await message.answer(admin_texts.report_sent(report))
    # The supplier learns what is wrong, never the code (nor the screenshot, which may show it).
    await _send(
        bot,
        platform,
        i18n,
        report.supplier_telegram_id,
        lambda: (admin_texts.report_for_supplier(report), None),
    )
    for admin_id in reported.admin_telegram_ids:
        await _send(
            bot,
            platform,
            i18n,
            admin_id,
            lambda: (admin_texts.report_for_admin(report), report),
            with_markup=True,
            photo=photo,
        )


# the admin's side ----------------------------------------------------------------------


@admin.callback_query(kb.AdminCb.filter(F.action == "reports"))
async def open_reports(query: CallbackQuery, user: UserView, platform: Platform) -> None:
    items = await platform.aftersales.open_reports(user.telegram_id)
    await reply(query, admin_texts.open_reports(len(items)), kb.reports(items))


@admin.callback_query(kb.ReportDecisionCb.filter(F.action == "show"))
async def show_report(
    query: CallbackQuery, callback_data: kb.ReportDecisionCb, user: UserView, platform: Platform
) -> None:
    report = await platform.aftersales.get(user.telegram_id, callback_data.report)
    await reply(query, admin_texts.report_for_admin(report), kb.report_decision(report))


@admin.callback_query(kb.ReportDecisionCb.filter(F.action == "code"))
async def show_code(
    query: CallbackQuery, callback_data: kb.ReportDecisionCb, user: UserView, platform: Platform
) -> None:
    report = await platform.aftersales.get(user.telegram_id, callback_data.report)
    code = await platform.aftersales.reported_code(user.telegram_id, report.id)
    await reply(query, admin_texts.reported_code(report, code))


@admin.callback_query(kb.RestockCb.filter())
async def ask_restock_reason(
    query: CallbackQuery, callback_data: kb.RestockCb, state: FSMContext
) -> None:
    await state.set_state(CodeRestockFlow.reason)
    await state.update_data(order=callback_data.order, line=callback_data.line)
    await reply(query, admin_texts.ask_restock_reason(callback_data.order), kb.cancel())


@admin.message(StateFilter(CodeRestockFlow.reason), TYPED)
async def restock(message: Message, state: FSMContext, user: UserView, platform: Platform) -> None:
    data = await state.get_data()
    await state.clear()  # a refusal below ends the flow: the admin presses the button again
    done = await platform.restocks.restock_as_admin(
        user.telegram_id,
        int(data["order"]),
        line_ids=[int(data["line"])],
        reason=message.text or "",
    )
    await message.answer(admin_texts.restocked(done))

"""/reports (today, 7 or 30 days, with a chart) and /export FROM TO (orders as CSV), for
admins; the platform refuses anyone else, whether they type the command or forge a button."""

from __future__ import annotations

import asyncio
from datetime import date
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, CallbackQuery, Message

from bot import credit_texts, scheduler_texts
from bot.keyboards import scheduler as kb
from bot.keyboards.callbacks import SalesReportCb
from core.catalogue import UserView
from core.errors import InvalidInput
from core.promotions import Promotions
from core.reports import Period, Reports, render_sales_chart
from core.revenue import Revenue
from core.settings import Settings

PERIODS = {period.value: period for period in Period}


async def reports(message: Message, user: UserView, promotions: Promotions) -> None:
    await promotions.require_admin(user.telegram_id)
    await message.answer(scheduler_texts.reports_choose(), reply_markup=kb.report_periods())


async def report(
    query: CallbackQuery,
    callback_data: SalesReportCb,
    user: UserView,
    reports: Reports,
    revenue: Revenue,
) -> None:
    summary = await reports.summary(user.telegram_id, PERIODS[callback_data.period])
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await query.message.answer(scheduler_texts.sales_report(summary))
    zone = ZoneInfo(summary.timezone)  # the same local days as the sales report
    first, last = summary.starts_at.astimezone(zone).date(), summary.ends_at.astimezone(zone).date()
    by_source = await revenue.report(first, last, admin_telegram_id=user.telegram_id)
    await query.message.answer(credit_texts.revenue(by_source))
    # matplotlib is CPU work: keep it off the event loop
    png = await asyncio.to_thread(render_sales_chart, summary)
    await query.message.answer_photo(
        BufferedInputFile(png, filename=f"sales-{summary.period.value}.png"),
        caption=scheduler_texts.chart_caption(summary),
    )


def _dates(args: str | None) -> tuple[date, date] | None:
    parts = (args or "").split()
    if len(parts) != 2:
        return None
    try:
        return date.fromisoformat(parts[0]), date.fromisoformat(parts[1])
    except ValueError:
        return None


async def export(
    message: Message,
    command: CommandObject,
    user: UserView,
    promotions: Promotions,
    reports: Reports,
    settings: Settings,
) -> None:
    await promotions.require_admin(user.telegram_id)
    days = _dates(command.args)
    if days is None:
        await message.answer(scheduler_texts.export_usage(settings.timezone))
        return
    first, last = days
    try:
        exported = await reports.orders_csv(user.telegram_id, first, last)
    except InvalidInput:
        await message.answer(scheduler_texts.export_usage(settings.timezone))
        return
    await message.answer_document(
        BufferedInputFile(exported.content, filename=exported.filename),
        caption=scheduler_texts.export_caption(exported.rows, first, last),
    )


def setup() -> Router:
    router = Router(name="reports")
    router.message.register(reports, Command("reports"))
    router.callback_query.register(report, SalesReportCb.filter(F.period.in_(PERIODS)))
    router.message.register(export, Command("export"))
    return router

"""Admin: the upstreams (货源对接) — each one's last sync and error, sync now, change log."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from bot import upstream_texts
from bot.filters import admin_router
from bot.keyboards import upstreams as kb
from bot.replies import reply
from core.errors import KamengError
from core.upstreams.service import Upstreams

LOG_LINES = 15


async def upstream_list(query: CallbackQuery, upstreams: Upstreams) -> None:
    views = await upstreams.all()
    await reply(query, upstream_texts.upstreams(views), kb.upstreams(views))


async def show(query: CallbackQuery, callback_data: kb.UpstreamCb, upstreams: Upstreams) -> None:
    try:
        detail = await upstreams.show(callback_data.name, changes=5)
    except KamengError as error:  # gone since the button was sent
        await query.answer(upstream_texts.upstream_error(error.code, ""), show_alert=True)
        return
    await reply(query, upstream_texts.detail(detail), kb.upstream(callback_data.name))


async def sync_now(
    query: CallbackQuery, callback_data: kb.UpstreamCb, upstreams: Upstreams
) -> None:
    try:
        report = await upstreams.sync(callback_data.name, actor=f"user:{query.from_user.id}")
        detail = await upstreams.show(callback_data.name, changes=5)
    except KamengError as error:
        await query.answer(upstream_texts.upstream_error(error.code, ""), show_alert=True)
        return
    await query.answer(
        upstream_texts.synced(
            report.ok, report.created, report.repriced, report.suspended, report.resumed
        )
    )
    if isinstance(query.message, Message):
        await query.message.answer(
            upstream_texts.detail(detail), reply_markup=kb.upstream(callback_data.name)
        )


async def change_log(
    query: CallbackQuery, callback_data: kb.UpstreamCb, upstreams: Upstreams
) -> None:
    try:
        items = await upstreams.changes(callback_data.name, limit=LOG_LINES)
    except KamengError as error:
        await query.answer(upstream_texts.upstream_error(error.code, ""), show_alert=True)
        return
    await reply(query, upstream_texts.changes(items), kb.upstream(callback_data.name))


def setup() -> Router:
    router = admin_router("admin_upstreams")
    router.callback_query.register(upstream_list, kb.UpstreamCb.filter(F.action == "list"))
    router.callback_query.register(show, kb.UpstreamCb.filter(F.action == "show"))
    router.callback_query.register(sync_now, kb.UpstreamCb.filter(F.action == "sync"))
    router.callback_query.register(change_log, kb.UpstreamCb.filter(F.action == "log"))
    return router

"""The admin's upstream screen: the list, one upstream, sync now, its change log."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from core.upstreams.service import UpstreamView


class UpstreamCb(CallbackData, prefix="ups"):
    action: str  # "list" | "show" | "sync" | "log"
    name: str = ""


def _home(builder: InlineKeyboardBuilder) -> None:
    from bot.keyboards.admin import AdminCb  # the panel's own button (admin.py imports us)

    builder.button(text=_("◀ Admin panel"), callback_data=AdminCb(action="home"))


def upstreams(views: list[UpstreamView]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for view in views:
        mark = "⚠️ " if view.last_error else ""
        builder.button(
            text=f"{mark}{view.name}", callback_data=UpstreamCb(action="show", name=view.name)
        )
    _home(builder)
    builder.adjust(2)
    return builder.as_markup()


def upstream(name: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔄 Sync now"), callback_data=UpstreamCb(action="sync", name=name))
    builder.button(text=_("📜 Change log"), callback_data=UpstreamCb(action="log", name=name))
    builder.button(text=_("◀ Upstreams"), callback_data=UpstreamCb(action="list"))
    builder.adjust(2)
    return builder.as_markup()

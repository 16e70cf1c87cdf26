"""Buttons of orders delivered later: saved accounts for a direct top-up, and the supplier's
task buttons. Each carries what it acts on (SKU and quantity, the order), so it works the
same pressed twice or on an old message; the core refuses what has ended."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import fulfilment_texts
from core.decisions.fulfilment import AccountField
from core.fulfilment import SavedAccount, Task


class DirectCb(CallbackData, prefix="dir"):
    action: str  # "use" (a saved account) | "skip" (an optional field, named by ``field``)
    sku: str = ""
    qty: int = 0
    account: int = 0
    field: str = ""


class TaskCb(CallbackData, prefix="task"):
    action: str  # "start" | "done" | "part" | "fail" | "skip" | "list"
    order: int = 0


def field_keys(
    sku: str, quantity: int, field: AccountField, saved: list[SavedAccount]
) -> InlineKeyboardMarkup | None:
    """Under a field's question: Skip for an optional field, then the saved accounts (asked
    with the first field only)."""
    builder = InlineKeyboardBuilder()
    if not field.required:
        builder.button(
            text=_("Skip"),
            callback_data=DirectCb(action="skip", sku=sku, qty=quantity, field=field.name),
        )
    for account in saved:
        builder.button(
            text=fulfilment_texts.account_line(account.values)[:60],
            callback_data=DirectCb(action="use", sku=sku, qty=quantity, account=account.id),
        )
    builder.adjust(1)
    return builder.as_markup() if not field.required or saved else None


def task_actions(order_id: int, quantity: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("▶️ Start"), callback_data=TaskCb(action="start", order=order_id))
    builder.button(text=_("✅ Done"), callback_data=TaskCb(action="done", order=order_id))
    if quantity > 1:
        builder.button(text=_("⚠️ Partly"), callback_data=TaskCb(action="part", order=order_id))
    builder.button(text=_("❌ Failed"), callback_data=TaskCb(action="fail", order=order_id))
    builder.adjust(2)
    return builder.as_markup()


def for_task(task: Task) -> InlineKeyboardMarkup | None:
    return task_actions(task.order_id, task.quantity) if task.open else None


def skip_proof(order_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Skip"), callback_data=TaskCb(action="skip", order=order_id))
    return builder.as_markup()

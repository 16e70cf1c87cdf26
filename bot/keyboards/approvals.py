"""The buttons of every approval card: one callback data for all queues (its ``kind`` is the
queue's name, core/platform.py), Approve (or the kind's ways to approve) and Reject."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

APPROVE = "approve"
REJECT = "reject"


class ApprovalCb(CallbackData, prefix="apv"):
    kind: str  # the queue: "topups", "withdrawals", ...
    request: int
    action: str  # APPROVE | REJECT | a kind's way to approve (a bad code: "replace", "refund")


class ApprovalQueueCb(CallbackData, prefix="apq"):
    """The admin panel's button listing one queue's waiting requests."""

    kind: str


def add_decision_buttons(
    builder: InlineKeyboardBuilder,
    kind: str,
    request_id: int,
    approve: Sequence[tuple[str, str]] = (),
    reject: str | None = None,
) -> None:
    """``approve``: (label, action) pairs; by default one "✅ Approve"."""
    for label, action in approve or ((_("✅ Approve"), APPROVE),):
        builder.button(
            text=label, callback_data=ApprovalCb(kind=kind, request=request_id, action=action)
        )
    builder.button(
        text=reject or _("❌ Reject"),
        callback_data=ApprovalCb(kind=kind, request=request_id, action=REJECT),
    )


def decision_buttons(
    kind: str, request_id: int, approve: str | None = None
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    add_decision_buttons(builder, kind, request_id, ((approve, APPROVE),) if approve else ())
    return builder.as_markup()

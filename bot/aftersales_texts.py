"""Texts of after-sales as a reseller lives it: reporting a bad code from an order, the
report's status under the order, and the notice its supplier gets (gettext, English msgids;
Chinese in ``bot/locales/zh_CN/*.json``). The admins' side is in ``bot/admin_texts.py``."""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _

from core.aftersales import ReportView
from core.models import ReportStatus


def report_status(status: ReportStatus) -> str:
    labels = {
        ReportStatus.OPEN: _("open"),
        ReportStatus.REPLACED: _("replaced"),
        ReportStatus.REFUNDED: _("refunded"),
        ReportStatus.REJECTED: _("rejected"),
    }
    return str(labels[status])


def report_lines(reports: list[ReportView]) -> str:
    """The reports of an order, as its buyer sees them under the order detail."""
    if not reports:
        return ""
    rows = [
        _("Report #{id} on code {position}: {status}").format(
            id=r.id, position=r.position, status=report_status(r.status)
        )
        + (f" — {escape(r.resolution_note)}" if r.resolution_note else "")
        for r in reports
    ]
    return "\n\n" + "\n".join(rows)


def pick_code(order_id: int) -> str:
    return _(
        "Which code of order #{order} has a problem? Codes are numbered as in the order."
    ).format(order=order_id)


def type_position(order_id: int, count: int) -> str:
    return _("Type the number of the code in order #{order} (1–{count}).").format(
        order=order_id, count=count
    )


def nothing_to_report() -> str:
    return _("Every code of this order is refunded or already reported.")


def ask_reason(order_id: int, position: int) -> str:
    return _(
        "Describe the problem with code {position} of order #{order}. You may send a "
        "screenshot with the description as its caption."
    ).format(order=order_id, position=position)


def reason_required() -> str:
    return _("Please describe the problem in a few words.")


def report_sent(r: ReportView) -> str:
    return _(
        "Report #{id} is with the admins (status: {status}). You will be told when it is decided."
    ).format(id=r.id, status=report_status(r.status))


def report_for_supplier(r: ReportView) -> str:
    return _(
        "⚠️ A reseller reported a problem with a code of your product {name} (order #{order}, "
        "code {position}): {reason}\nAn admin will look into it."
    ).format(
        name=escape(r.sku_name), order=r.order_id, position=r.position, reason=escape(r.reason)
    )

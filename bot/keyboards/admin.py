"""Callback data and keyboards of the admin panel and of after-sales (bad-code reports).

Admin payloads name their target (a Telegram id, a SKU code, a report id); the admin routers
only answer admins, and the core checks the actor again, so a forged one changes nothing.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import admin_texts, texts
from bot.keyboards.approvals import ApprovalQueueCb, add_decision_buttons
from bot.keyboards.payments import PaymentAdminCb
from bot.keyboards.upstreams import UpstreamCb
from core.admin import UserCard
from core.aftersales import REFUND, REPLACE, ReportKind, ReportView
from core.models import ReportStatus, SkuStatus, UserStatus
from core.pricing_admin import CategoryRow, LadderView, SkuPricing

MAX_POSITION_BUTTONS = 24


class AdminCb(CallbackData, prefix="adm"):
    action: str  # "home" | "users" | "cats" | "sku" | "ladder" | "reports" | "topups" | "cancel"
    # or a waiting list: "supplier_applications" | "withdrawals" | "registrations"


class AdminUserCb(CallbackData, prefix="adu"):
    action: str  # "show" | "level" | "credit" | "ban" | "unban" | "adjust"
    user: int  # Telegram id
    level: str = ""


class AdminCatCb(CallbackData, prefix="adc"):
    action: str  # "add" | "rename"
    category: int = 0


class AdminSkuCb(CallbackData, prefix="ads"):
    action: str  # "show" | "price" | "break" | "unbreak" | "suspend" | "resume" | "move"
    sku: str
    level: str = ""
    rule: int = 0


class AdminMoveCb(CallbackData, prefix="admv"):
    """Shelve ``sku`` in the category ``category`` (its id: a rename keeps the button right)."""

    sku: str
    category: int


class AdminLadderCb(CallbackData, prefix="adl"):
    action: str  # "tier" | "untier" | "spread"
    exclusive: bool = False
    tier: int = 0


class BadCodeReportCb(CallbackData, prefix="bad"):
    """The reseller's side: start a report on an order, pick the code by position."""

    action: str  # "start" | "pick"
    order: int
    pos: int = 0


class ReportDecisionCb(CallbackData, prefix="rpd"):
    action: str  # "show" | "code" (deciding is bot/keyboards/approvals.py's ApprovalCb)
    report: int


class RestockCb(CallbackData, prefix="rst"):
    """Put a refunded line's void code back on sale (asks for the reason first)."""

    order: int
    line: int  # the order line id


def _back(builder: InlineKeyboardBuilder) -> None:
    builder.button(text=_("◀ Admin panel"), callback_data=AdminCb(action="home"))


def panel(counts: dict[str, int]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("👤 Users"), callback_data=AdminCb(action="users"))
    builder.button(text=_("🗂 Categories"), callback_data=AdminCb(action="cats"))
    builder.button(text=_("🏷 Product prices"), callback_data=AdminCb(action="sku"))
    builder.button(text=_("📈 Commission & spread"), callback_data=AdminCb(action="ladder"))
    builder.button(
        text=_("💳 Top-ups ({count})").format(count=counts.get("topups", 0)),
        callback_data=ApprovalQueueCb(kind="topups"),
    )
    builder.button(
        text=_("🛠 Bad-code reports ({count})").format(count=counts.get("code_reports", 0)),
        callback_data=AdminCb(action="reports"),
    )
    queues = {
        "supplier_applications": _("🏭 Supplier applications ({count})"),
        "withdrawals": _("💸 Withdrawals ({count})"),
        "registrations": _("🚪 Registrations ({count})"),
        "credit": _("📝 Credit applications ({count})"),
    }
    for name, label in queues.items():  # the waiting lists (bot/handlers/approvals.py)
        if name in counts:
            builder.button(
                text=label.format(count=counts[name]), callback_data=ApprovalQueueCb(kind=name)
            )
    builder.button(text=_("🧾 Payments to check"), callback_data=PaymentAdminCb(action="stuck"))
    builder.button(text=_("🔗 Upstreams"), callback_data=UpstreamCb(action="list"))
    builder.adjust(2)
    return builder.as_markup()


def cancel() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✖ Cancel"), callback_data=AdminCb(action="cancel"))
    return builder.as_markup()


def user_card(card: UserCard, levels: list[str]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    tid = card.user.telegram_id
    for level in levels:
        mark = "• " if level == card.user.level_name else ""
        builder.button(
            text=f"{mark}{texts.level_name(level)}",
            callback_data=AdminUserCb(action="level", user=tid, level=level),
        )
    builder.button(text=_("💳 Credit limit"), callback_data=AdminUserCb(action="credit", user=tid))
    builder.button(text=_("± Adjust balance"), callback_data=AdminUserCb(action="adjust", user=tid))
    if card.user.status is UserStatus.BANNED:
        builder.button(text=_("✅ Unban"), callback_data=AdminUserCb(action="unban", user=tid))
    else:
        builder.button(text=_("🚫 Ban"), callback_data=AdminUserCb(action="ban", user=tid))
    _back(builder)
    builder.adjust(len(levels) or 1, 2, 1, 1)
    return builder.as_markup()


def categories(rows: list[CategoryRow]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for row in rows:
        builder.button(
            text=_("✏️ {name}").format(name=row.name),
            callback_data=AdminCatCb(action="rename", category=row.id),
        )
    builder.button(text=_("➕ Add category"), callback_data=AdminCatCb(action="add"))
    _back(builder)
    builder.adjust(*([2] * ((len(rows) + 1) // 2)), 1, 1)
    return builder.as_markup()


def sku_pricing(p: SkuPricing) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    code = p.sku.code
    for lp in p.level_prices:
        builder.button(
            text=_("{level} price").format(level=texts.level_name(lp.level)),
            callback_data=AdminSkuCb(action="price", sku=code, level=lp.level),
        )
    builder.button(text=_("➕ Quantity break"), callback_data=AdminSkuCb(action="break", sku=code))
    for rule in p.breaks:
        builder.button(
            text="✖ " + admin_texts.break_label(rule.min_quantity, rule.discount_bps),
            callback_data=AdminSkuCb(action="unbreak", sku=code, rule=rule.id),
        )
    if p.sku.status is SkuStatus.ACTIVE:
        builder.button(text=_("⏸ Suspend"), callback_data=AdminSkuCb(action="suspend", sku=code))
    elif p.sku.status is SkuStatus.SUSPENDED:
        builder.button(text=_("▶ Resume"), callback_data=AdminSkuCb(action="resume", sku=code))
    builder.button(text=_("🗂 Move"), callback_data=AdminSkuCb(action="move", sku=code))
    _back(builder)
    builder.adjust(len(p.level_prices) or 1, 1)
    return builder.as_markup()


def move_sku(p: SkuPricing, rows: list[CategoryRow]) -> InlineKeyboardMarkup:
    """One button per category (the SKU's own marked), then back to the SKU's card."""
    builder = InlineKeyboardBuilder()
    for row in rows:
        mark = "✅ " if row.name == p.sku.category else ""
        builder.button(
            text=f"{mark}{row.name}", callback_data=AdminMoveCb(sku=p.sku.code, category=row.id)
        )
    back = AdminSkuCb(action="show", sku=p.sku.code)
    builder.button(text=_("◀ Back to the product"), callback_data=back)
    builder.adjust(*([2] * ((len(rows) + 1) // 2)), 1)
    return builder.as_markup()


def ladder(view: LadderView) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("✏️ Normal tier"), callback_data=AdminLadderCb(action="tier"))
    builder.button(
        text=_("✏️ Exclusive tier"), callback_data=AdminLadderCb(action="tier", exclusive=True)
    )
    removable = [t for t in (*view.normal, *view.exclusive) if t.min_units > 0]
    for tier in removable:
        kind = _("exclusive") if tier.exclusive else _("normal")
        builder.button(
            text=f"✖ {kind} {admin_texts.tier_label(tier)}",
            callback_data=AdminLadderCb(action="untier", tier=tier.id),
        )
    builder.button(text=_("✏️ Spread share"), callback_data=AdminLadderCb(action="spread"))
    _back(builder)
    builder.adjust(2, *([1] * (len(removable) + 2)))
    return builder.as_markup()


def reports(items: list[ReportView]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for report in items:
        builder.button(
            text=admin_texts.report_button(report),
            callback_data=ReportDecisionCb(action="show", report=report.id),
        )
    _back(builder)
    builder.adjust(1)
    return builder.as_markup()


def report_decision(report: ReportView) -> InlineKeyboardMarkup | None:
    if report.status is ReportStatus.REFUNDED:  # the refund voided the code
        return restock(report.order_id, report.line_id)
    if report.status is not ReportStatus.OPEN:
        return None
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("🔑 Show code"), callback_data=ReportDecisionCb(action="code", report=report.id)
    )
    add_decision_buttons(
        builder,
        ReportKind.name,
        report.id,
        approve=((_("🔁 Replace"), REPLACE), (_("💸 Refund"), REFUND)),
        reject=_("✖ Reject"),
    )
    builder.adjust(1, 3)
    return builder.as_markup()


def restock(order_id: int, line_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("♻️ Restock (supplier confirmed unused)"),
        callback_data=RestockCb(order=order_id, line=line_id),
    )
    return builder.as_markup()


def report_button(order_id: int) -> tuple[str, str]:
    """The order detail's "Report a problem" button: label and payload."""
    return _("⚠️ Report a problem"), BadCodeReportCb(action="start", order=order_id).pack()


def positions(order_id: int, available: list[int]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for position in available[:MAX_POSITION_BUTTONS]:
        builder.button(
            text=_("Code {position}").format(position=position),
            callback_data=BadCodeReportCb(action="pick", order=order_id, pos=position),
        )
    builder.adjust(4)
    return builder.as_markup()

"""Texts of credit lines (账期) and revenue by source (gettext, English msgids; Chinese in
``bot/locales/zh_CN/credit.json``)."""

from __future__ import annotations

from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import formatting as fmt
from core.commission import ScheduleView
from core.credit import ApplicationDecision, ApplicationView, CreditStatement
from core.decisions.credit import Suggestion
from core.models import CreditApplicationStatus
from core.revenue import RevenueReport

APPLY = __("📝 Apply for this line")

SOURCES = {
    "spread": __("Spread"),
    "commission": __("Commission"),
    "interest": __("Interest"),
    "ads": __("Ads"),
    "services": __("Services"),
    "data": __("Data"),
    "payment_fees": __("Payment providers' fees"),
}


def statement(s: CreditStatement) -> str:
    if s.frozen:
        state = _("frozen")
    elif s.overdue:
        state = _("overdue")
    else:
        state = _("open")
    lines = [
        _("💳 <b>Credit line</b> ({state})").format(state=state),
        _("Limit {limit} · {rate} a day · {days} days").format(
            limit=fmt.amount(s.limit), rate=fmt.percent(s.rate_bps) + "%", days=s.term_days
        ),
        _("Drawn: {drawn}").format(drawn=fmt.amount(s.drawn)),
        _("Interest owed: {owed} (charged so far {total})").format(
            owed=fmt.amount(s.interest_owed), total=fmt.amount(s.interest_total)
        ),
        _("Repaid this term: {repaid}").format(repaid=fmt.amount(s.repaid)),
        _("Due date: {date}").format(date=s.due_on.isoformat()),
    ]
    if s.overdue and s.owed:
        lines.append(
            _("⚠️ Past due: top up {owed} to repay; until then you cannot buy on credit.").format(
                owed=fmt.amount(s.owed)
            )
        )
    lines.append(_("A top-up repays the interest first, then what you drew."))
    return "\n".join(lines)


def suggestion(s: Suggestion, *, has_line: bool = False) -> str:
    """What the history suggests; ``has_line``: an admin reviewing a line already granted."""
    h = s.history
    if s.limit <= 0 and has_line:
        return _("📊 The last 90 days would suggest no line now.")
    if s.limit <= 0:
        return _(
            "💳 No credit line yet. Your last 90 days do not suggest one yet: "
            "buy and top up regularly, then ask again."
        )
    if has_line:
        head = _("📊 From the last 90 days we would suggest {limit} now:")
    else:
        head = _("💳 No credit line yet. From your last 90 days we suggest {limit}:")
    return "\n".join(
        [
            head.format(limit=fmt.amount(s.limit)),
            _("· spend {spend} (a month {month})").format(
                spend=fmt.amount(h.spend_90d), month=fmt.amount(s.monthly_spend)
            ),
            _("· bought in {weeks} of 13 weeks ({share})").format(
                weeks=h.weeks_active, share=fmt.percent(s.regularity_bps) + "%"
            ),
            _("· refunds {refunds} ({share})").format(
                refunds=fmt.amount(h.refunds_90d), share=fmt.percent(s.refund_bps) + "%"
            ),
            _("· {count} top-ups, {total} ({share} of spend)").format(
                count=h.top_ups,
                total=fmt.amount(h.top_up_total),
                share=fmt.percent(s.top_up_bps) + "%",
            ),
        ]
    )


def applied(view: ApplicationView) -> str:
    if not view.created:
        return _("Your application #{id} is already waiting for an admin.").format(id=view.id)
    return _(
        "📝 Application #{id} for a credit line of {limit} sent; an admin will decide."
    ).format(id=view.id, limit=fmt.amount(view.limit))


def for_admin(view: ApplicationView) -> str:
    who = f"@{view.username}" if view.username else str(view.telegram_id)
    return _(
        "Credit application #{id}: {who} asks for {limit} at {rate} a day for {days} days "
        "(suggested by their history; /credit {tid} shows it)."
    ).format(
        id=view.id,
        who=escape(who),
        limit=fmt.amount(view.limit),
        rate=fmt.percent(view.rate_bps) + "%",
        days=view.term_days,
        tid=view.telegram_id,
    )


def status(value: CreditApplicationStatus) -> str:
    return {
        CreditApplicationStatus.PENDING: _("pending"),
        CreditApplicationStatus.APPROVED: _("approved"),
        CreditApplicationStatus.REJECTED: _("rejected"),
    }[value]


def decided(result: ApplicationDecision) -> str:
    view = result.request
    if result.already_decided:
        return _("Credit application #{id} was already decided: {status}.").format(
            id=view.id, status=status(view.status)
        )
    return _("Credit application #{id}: {status}.").format(id=view.id, status=status(view.status))


def ask_reason() -> str:
    return _("Why is this credit application rejected? Type the reason for the reseller.")


def granted(result: ApplicationDecision) -> str:
    line = result.line
    assert line is not None
    return _(
        "✅ Your credit line of {limit} was granted: {rate} a day on what you draw, "
        "due on {date}. /credit shows it."
    ).format(limit=fmt.amount(line.limit), rate=fmt.percent(line.rate_bps) + "%", date=line.due_on)


def refused(result: ApplicationDecision) -> str:
    reason = result.request.reason
    text = _("Your credit application #{id} was not approved.").format(id=result.request.id)
    return text + (f"\n{escape(reason)}" if reason else "")


def overdue_reminder(payload: dict[str, Any]) -> str:
    return _(
        "⏰ Your credit line was due on {date}: you owe {owed}. Top up to repay it; "
        "until then you cannot buy on credit."
    ).format(date=payload["due_on"], owed=fmt.amount(int(payload["owed"])))


def overdue_for_admin(payload: dict[str, Any]) -> str:
    return _("⏰ {name} ({tid}) is past the credit line's due date {date} and owes {owed}.").format(
        name=escape(str(payload["name"])),
        tid=payload["telegram_id"],
        date=payload["due_on"],
        owed=fmt.amount(int(payload["owed"])),
    ) + ("\n" + _("The line is frozen.") if payload.get("frozen") else "")


def revenue(report: RevenueReport) -> str:
    lines = [_("💹 Revenue {first} … {last}").format(first=report.first_day, last=report.last_day)]
    for line in report.lines:
        label = SOURCES.get(line.source)
        lines.append(f"{label if label else line.source}: {fmt.amount(line.amount)}")
    lines.append(
        _("Total: <b>{total}</b> (ledger {ledger})").format(
            total=fmt.amount(report.total), ledger=fmt.amount(report.ledger_total)
        )
    )
    return "\n".join(lines)


def not_a_reseller_id() -> str:
    return _("Usage: /credit TELEGRAM_ID [freeze|unfreeze]")


def schedules(views: list[ScheduleView]) -> str:
    lines = [_("📈 <b>Commission schedules</b>")]
    for view in views:
        label = {"default": _("Default"), "exclusive": _("Exclusive")}.get(view.name, view.label)
        tiers = ", ".join(
            _("from {units}: {rate}").format(units=units, rate=fmt.percent(rate) + "%")
            for units, rate in view.tiers
        )
        lines.append(f"{escape(label)}: {tiers or '—'}")
    lines.append(commission_usage())
    return "\n".join(lines)


def commission_usage() -> str:
    return _(
        "Set a tier: /commission SCHEDULE FROM_UNITS RATE_BPS (SCHEDULE: default, exclusive "
        "or a category's name); remove one: /commission SCHEDULE FROM_UNITS remove. "
        "A change applies to later sales only."
    )


def terms_usage(max_rate_bps: int, max_term_days: int) -> str:
    return _(
        "Usage: /credit TELEGRAM_ID terms LIMIT RATE_BPS TERM_DAYS, e.g. "
        "<code>/credit 1001 terms 500.00 5 30</code> (a limit in yuan, at most {rate} basis "
        "points a day, 1 to {days} days)."
    ).format(rate=max_rate_bps, days=max_term_days)


def terms_hint(telegram_id: int) -> str:
    return _("Change the terms: <code>/credit {id} terms LIMIT RATE_BPS TERM_DAYS</code>").format(
        id=telegram_id
    )


def terms_set(telegram_id: int) -> str:
    return _("✅ Credit line terms of {id} set; the term starts today.").format(id=telegram_id)

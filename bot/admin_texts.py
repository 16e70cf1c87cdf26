"""Texts of the admin panel (users, prices, the ladder, queues), of approval cards and of the
admins' side of after-sales (deciding bad-code reports), in the reader's language.

Kept apart from ``bot/texts.py`` so the storefront's texts and these can change
independently; the same rules hold (English msgids, zh-CN in ``locales/zh_CN/admin.json``).
"""

from __future__ import annotations

from html import escape

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import aftersales_texts, texts
from bot import formatting as fmt
from core.admin import UserCard
from core.aftersales import ReportView
from core.approvals import Outcome, Verdict
from core.delivery.codes import CardCode
from core.models import ReportStatus, Role, UserStatus
from core.pricing_admin import CategoryRow, LadderView, SkuPricing, TierRow
from core.restocks import RestockResult
from core.supplier_payouts import WithdrawalView

# Approval queue (a kind's ``name``, core/platform.py) → label; no label: its name shows.
COUNTER_LABELS = {
    "product_reviews": __("Products awaiting review"),
    "topups": __("Top-up requests pending"),
    "code_reports": __("Open bad-code reports"),
    "supplier_applications": __("Supplier applications waiting"),
    "withdrawals": __("Withdrawal requests waiting"),
    "registrations": __("Registration requests waiting"),
    "credit": __("Credit applications waiting"),
}


def panel(counts: dict[str, int]) -> str:
    rows = [
        _("{label}: <b>{count}</b>").format(label=COUNTER_LABELS.get(name, name), count=count)
        for name, count in counts.items()
    ]
    return _("<b>Admin panel</b>") + "\n" + "\n".join(rows)


def withdrawal_waiting(view: WithdrawalView) -> str:
    return _(
        "💸 Withdrawal request #{id}: supplier {name} ({telegram_id}) asks for {amount}."
    ).format(
        id=view.id,
        name=escape(view.supplier_name),
        telegram_id=view.telegram_id,
        amount=fmt.amount(view.amount),
    )


def cancelled() -> str:
    return _("Cancelled.")


# decisions on approval cards -----------------------------------------------------------


def admin_label(verdict: Verdict) -> str:
    if verdict.admin_username:
        return f"@{escape(verdict.admin_username)}"
    return escape(verdict.admin_name) or str(verdict.admin_telegram_id)


def decided_by(verdict: Verdict) -> str:
    """The line a decided approval card gains: who decided what, when (in the reader's zone),
    and why, if said."""
    lines = {
        Outcome.APPROVED: __("✅ Approved by {who} at {at}"),
        Outcome.REJECTED: __("❌ Rejected by {who} at {at}"),
        Outcome.REPLACED: __("✅ Code replaced by {who} at {at}"),
        Outcome.REFUNDED: __("✅ Refunded by {who} at {at}"),
        Outcome.PAID: __("✅ Marked paid by {who} at {at}"),
    }
    line = str(lines[verdict.outcome]).format(who=admin_label(verdict), at=fmt.moment(verdict.at))
    if not verdict.reason:
        return line
    return _("{decision}: {reason}").format(decision=line, reason=escape(verdict.reason))


# users ---------------------------------------------------------------------------------


def ask_user() -> str:
    return _("Send the user's Telegram id or @username.")


def user_card(card: UserCard) -> str:
    u = card.user
    roles = {Role.RESELLER: _("reseller"), Role.SUPPLIER: _("supplier"), Role.ADMIN: _("admin")}
    status = _("banned") if u.status is UserStatus.BANNED else _("active")
    name = f" @{escape(u.username)}" if u.username else ""
    if u.display_name:
        name += f" ({escape(u.display_name)})"
    return _(
        "<b>User {id}</b>{name}\nRoles: {roles}\nLevel: {level}\nStatus: {status}\n"
        "Balance: {balance} · credit limit {limit}\nOrders: {orders}"
    ).format(
        id=u.telegram_id,
        name=name,
        roles=texts.joined(str(roles[r]) for r in Role if r in u.roles),
        level=texts.level_name(u.level_name),
        status=status,
        balance=fmt.amount(card.balance),
        limit=fmt.amount(u.credit_limit),
        orders=card.orders,
    )


def ask_credit_limit(telegram_id: int) -> str:
    return _("Type the new credit limit for {id}, e.g. 500 or 0.").format(id=telegram_id)


def ask_adjustment(telegram_id: int) -> str:
    return _(
        "Type the signed amount and a note for {id}, e.g. <code>-10.50 duplicate top-up</code>."
    ).format(id=telegram_id)


def note_required() -> str:
    return _("A note is required: type the amount, a space, then why.")


def adjusted(amount: int, balance: int) -> str:
    sign = "+" if amount > 0 else ""
    return _("Balance adjusted by {amount}. New balance: {balance}.").format(
        amount=f"{sign}{fmt.amount(amount)}", balance=fmt.amount(balance)
    )


# catalogue and prices ------------------------------------------------------------------


def categories(rows: list[CategoryRow]) -> str:
    if not rows:
        return _("No categories yet.")
    lines = [
        _("• {name} ({count} products)").format(name=escape(r.name), count=r.skus) for r in rows
    ]
    return _("<b>Categories</b>") + "\n" + "\n".join(lines)


def ask_category_name() -> str:
    return _("Type the category's name.")


def ask_sku() -> str:
    return _("Send the product code, e.g. STEAM-100.")


def sku_status(status: str) -> str:
    labels = {
        "draft": _("draft"),
        "pending_review": _("awaiting review"),
        "active": _("on sale"),
        "suspended": _("suspended"),
        "rejected": _("rejected"),
    }
    return str(labels.get(status, status))


def sku_pricing(p: SkuPricing) -> str:
    stock = _("unlimited") if p.stock is None else str(p.stock)
    prices = texts.joined(
        f"{texts.level_name(lp.level)} {fmt.amount(lp.price) if lp.price is not None else '—'}"
        for lp in p.level_prices
    )
    lines = [
        f"<b>{escape(p.sku.name)}</b> (<code>{p.sku.code}</code>)",
        _("Status: {status} · stock {stock}").format(
            status=sku_status(p.sku.status.value), stock=stock
        ),
        _("Supply price {supply} · default price {default}").format(
            supply=fmt.amount(p.sku.supply_price), default=fmt.amount(p.sku.default_price)
        ),
        _("Category: {category}").format(category=escape(p.sku.category)),
        _("Level prices: {prices}").format(prices=prices),
    ]
    if p.breaks:
        lines.append(
            _("Quantity breaks: {breaks}").format(
                breaks=texts.joined(break_label(b.min_quantity, b.discount_bps) for b in p.breaks)
            )
        )
    else:
        lines.append(_("No quantity breaks."))
    return "\n".join(lines)


def ask_move(p: SkuPricing) -> str:
    return _("Move <b>{name}</b> (<code>{code}</code>) to which category? Now: {category}").format(
        name=escape(p.sku.name), code=p.sku.code, category=escape(p.sku.category)
    )


def break_label(min_quantity: int, discount_bps: int) -> str:
    return _("from {count}: −{percent}%").format(
        count=min_quantity, percent=fmt.percent(discount_bps)
    )


def ask_level_price(sku: str, level: str) -> str:
    return _("Type the {level} price of {sku}, or - to clear it.").format(
        level=texts.level_name(level), sku=sku
    )


def ask_break(sku: str) -> str:
    return _(
        "Type the quantity and the discount in % for {sku}, e.g. <code>10 5</code> for −5% "
        "from 10 units."
    ).format(sku=sku)


def tier_label(tier: TierRow) -> str:
    return _("from {units}: {rate}%").format(units=tier.min_units, rate=fmt.percent(tier.rate_bps))


def ladder(view: LadderView) -> str:
    return "\n".join(
        [
            _("<b>Commission ladder</b> (units sold in 30 days → rate)"),
            _("Normal: {tiers}").format(tiers=texts.joined(tier_label(t) for t in view.normal)),
            _("Exclusive: {tiers}").format(
                tiers=texts.joined(tier_label(t) for t in view.exclusive)
            ),
            _("Supplier's share of the spread: {percent}%").format(
                percent=fmt.percent(view.spread_supplier_bps)
            ),
        ]
    )


def ask_tier(exclusive: bool) -> str:
    kind = _("exclusive") if exclusive else _("normal")
    return _(
        "Type the units and the rate in % for a {kind} tier, e.g. <code>500 2.5</code> "
        "(the same units replace a tier)."
    ).format(kind=kind)


def ask_spread() -> str:
    return _("Type the supplier's share of the spread in %, e.g. 60.")


def bad_input() -> str:
    return _("I could not read that. Please try again.")


# after-sales ---------------------------------------------------------------------------


def report_for_admin(r: ReportView) -> str:
    who = f"@{r.reseller_username}" if r.reseller_username else str(r.reseller_telegram_id)
    return _(
        "⚠️ Bad-code report #{id} — {status}\nOrder #{order} · {name} · code {position}\n"
        "From: {who} ({tid})\nReason: {reason}"
    ).format(
        id=r.id,
        status=aftersales_texts.report_status(r.status),
        order=r.order_id,
        name=escape(r.sku_name),
        position=r.position,
        who=escape(who),
        tid=r.reseller_telegram_id,
        reason=escape(r.reason),
    )


def open_reports(count: int) -> str:
    if not count:
        return _("No open bad-code reports.")
    return _("Open bad-code reports: {count}").format(count=count)


def report_button(r: ReportView) -> str:
    return f"#{r.id} · #{r.order_id} · {r.sku_code} · {r.position}"


def reported_code(r: ReportView, code: str) -> str:
    return _("Code {position} of order #{order}: {code}").format(
        position=r.position, order=r.order_id, code=texts.card_code(CardCode.from_stored(code))
    )


def ask_reject_reason(report_id: int) -> str:
    return _("Type the reason for rejecting report #{id}; the reseller will see it.").format(
        id=report_id
    )


def ask_restock_reason(order_id: int) -> str:
    return _(
        "The refunded code of order #{order} is void. Restock it only if the supplier "
        "confirmed it unused: type that confirmation (it is recorded in the audit trail)."
    ).format(order=order_id)


def restocked(result: RestockResult) -> str:
    return _("♻️ Code {positions} of order #{order} is back on sale ({sku}).").format(
        positions=", ".join(str(p) for p in result.positions),
        order=result.order_id,
        sku=escape(result.sku_code),
    )


def decided(r: ReportView, already: bool) -> str:
    if already:
        return _("Report #{id} was already decided: {status}.").format(
            id=r.id, status=aftersales_texts.report_status(r.status)
        )
    return _("Report #{id}: {status}.").format(
        id=r.id, status=aftersales_texts.report_status(r.status)
    )


def replaced_for_reseller(r: ReportView, code: str) -> str:
    return _(
        "✅ Report #{id}: code {position} of order #{order} was replaced. Your new code:\n{code}"
    ).format(
        id=r.id,
        position=r.position,
        order=r.order_id,
        code=texts.card_code(CardCode.from_stored(code)),
    )


def refunded_for_reseller(r: ReportView, balance: int) -> str:
    return _(
        "✅ Report #{id}: code {position} of order #{order} was refunded: {amount}. "
        "Balance: {balance}"
    ).format(
        id=r.id,
        position=r.position,
        order=r.order_id,
        amount=fmt.amount(r.refund_amount),
        balance=fmt.amount(balance),
    )


def rejected_for_reseller(r: ReportView) -> str:
    return _("❌ Report #{id} on order #{order} was rejected: {reason}").format(
        id=r.id, order=r.order_id, reason=escape(r.resolution_note)
    )


def decided_for_supplier(r: ReportView) -> str:
    if r.status is ReportStatus.REFUNDED:
        return _(
            "Report #{id} on order #{order} ({name}): the code was refunded to the reseller and "
            "its earning taken off your payable."
        ).format(id=r.id, order=r.order_id, name=escape(r.sku_name))
    if r.status is ReportStatus.REPLACED:
        return _(
            "Report #{id} on order #{order} ({name}): the code was replaced from stock."
        ).format(id=r.id, order=r.order_id, name=escape(r.sku_name))
    return _("Report #{id} on order #{order} ({name}) was rejected.").format(
        id=r.id, order=r.order_id, name=escape(r.sku_name)
    )

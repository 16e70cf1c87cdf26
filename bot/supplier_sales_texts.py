"""Texts of the supplier's sales side: sale notices and digests, low-stock alerts, my
products, earnings with each sale's split, and withdrawals (gettext; English msgids).

No text here ever shows a code or who bought: a supplier sees SKU, quantity and money only.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.decisions.sale_burst import BURST
from core.models import SalesNotify, WithdrawalStatus
from core.supplier_payouts import EarningsView, SaleSplitView, TierView, WithdrawalView
from core.supplier_sales import ProductLine, SaleNotice, ThresholdSet

TEXT_BUDGET = 3800  # of Telegram's 4096 characters: room for the "… and N more" line


def fit(head: list[str], blocks: list[str], budget: int = TEXT_BUDGET) -> tuple[list[str], int]:
    """``head`` plus as many whole ``blocks`` as fit (a cut could break an HTML tag);
    returns the lines and how many blocks were left out."""
    used = sum(len(line) + 1 for line in head)
    out = list(head)
    for n, block in enumerate(blocks):
        if used + len(block) + 1 > budget:
            return out, len(blocks) - n
        out.append(block)
        used += len(block) + 1
    return out, 0


def percent(bps: int) -> str:
    return f"{fmt.percent(bps)}%"


def stock_text(stock: int | None) -> str:
    return _("unlimited") if stock is None else str(stock)


# sales notifications -------------------------------------------------------------


def mode_label(mode: SalesNotify) -> str:
    labels = {
        SalesNotify.INSTANT: _("Every sale, instantly"),
        SalesNotify.HOURLY: _("Hourly digest"),
        SalesNotify.DAILY: _("Daily digest"),
    }
    return labels[mode]


def notify_settings(mode: SalesNotify) -> str:
    return _(
        "<b>Sales notifications</b>\nNow: {mode}\n\n"
        "Instant: one message per order. Digest: one summary per hour or per day "
        "with orders, units and earnings per SKU."
    ).format(mode=mode_label(mode))


def notify_mode_set(mode: SalesNotify) -> str:
    return _("Sales notifications: {mode}.").format(mode=mode_label(mode))


def sale_notice(notice: SaleNotice) -> str:
    return _(
        "💰 <b>Sold</b>: {quantity} × {name} (<code>{sku}</code>)\n"
        "Your earning: <b>{earning}</b>\nStock left: {stock}"
    ).format(
        quantity=notice.quantity,
        name=escape(notice.sku_name),
        sku=escape(notice.sku_code),
        earning=fmt.amount(notice.earning),
        stock=stock_text(notice.stock),
    )


def sale_digest(payload: dict[str, Any]) -> str:
    start = datetime.fromisoformat(payload["start"])
    end = datetime.fromisoformat(payload["end"])
    # the window is shown in the reader's zone: a UTC day is 08:00–08:00 in Shanghai
    if payload["period"] == SalesNotify.DAILY.value:
        title = _("📊 <b>Daily sales</b> {start} – {end}")
    elif payload["period"] == BURST:  # instant notices arriving faster than a chat takes
        title = _("💰 <b>Sales since your last notice</b> {start} – {end}")
    else:
        title = _("📊 <b>Hourly sales</b> {start} – {end}")
    title = title.format(start=fmt.moment(start), end=fmt.moment(end))
    lines = [
        title,
        _("Orders: {orders} · units: {units} · earnings: <b>{earnings}</b>").format(
            orders=payload["orders"],
            units=payload["units"],
            earnings=fmt.amount(payload["earnings"]),
        ),
        "",
    ]
    blocks = [digest_line(line) for line in payload["lines"]]
    lines, left_out = fit(lines, blocks)
    if left_out:
        lines.append(_("… and {count} more SKUs").format(count=left_out))
    return "\n".join(lines)


def digest_line(line: dict[str, Any]) -> str:
    """One SKU of a digest; a folded burst also says the stock left, as a notice does."""
    text = _("<code>{sku}</code> {name}: {orders} orders, {units} units, {earnings}").format(
        sku=escape(line["sku"]),
        name=escape(line["name"]),
        orders=line["orders"],
        units=line["units"],
        earnings=fmt.amount(line["earnings"]),
    )
    if "stock" not in line:  # hourly and daily digests: the stock at the end is not known
        return text
    return text + _(", stock left: {stock}").format(stock=stock_text(line["stock"]))


def low_stock(payload: dict[str, Any]) -> str:
    return _(
        "⚠️ <b>Low stock</b>: {name} (<code>{sku}</code>) has {stock} left, below your alert "
        "level of {threshold}. Upload more codes to keep it on sale."
    ).format(
        name=escape(payload["name"]),
        sku=escape(payload["sku"]),
        stock=payload["stock"],
        threshold=payload["threshold"],
    )


# my products ------------------------------------------------------------------------


def products(lines: list[ProductLine], page: int, pages: int) -> str:
    if not lines:
        return _("You have no products yet.")
    rows = [_("<b>My products</b> — page {page}/{pages}").format(page=page, pages=pages)]
    for line in lines:
        alert = (
            _("alert below {threshold}").format(threshold=line.threshold)
            if line.threshold
            else _("no alert")
        )
        rows.append(
            _(
                "\n<b>{name}</b> (<code>{sku}</code>) · {status}\n"
                "Stock: {stock} · {alert}\n"
                "Sold: today {today} · 7 days {week} · 30 days {month}"
            ).format(
                name=escape(line.name),
                sku=escape(line.code),
                status=escape(line.status),
                stock=stock_text(line.stock),
                alert=alert,
                today=line.sold_today,
                week=line.sold_7d,
                month=line.sold_30d,
            )
        )
    rows.append("\n" + _("Tap a product to set its low-stock alert."))
    return "\n".join(rows)


def threshold_button(line: ProductLine) -> str:
    return f"🔔 {line.code}"


def ask_threshold(sku: str) -> str:
    return _(
        "Alert me when <code>{sku}</code> falls below how many codes? Type a whole number "
        "(0 turns the alert off)."
    ).format(sku=escape(sku))


def bad_threshold() -> str:
    return _("Please type a whole number, e.g. 10 (0 turns the alert off).")


def threshold_set(result: ThresholdSet) -> str:
    if not result.threshold:
        return _("Low-stock alert for <code>{sku}</code> is off.").format(
            sku=escape(result.sku_code)
        )
    text = _("You will be told once when <code>{sku}</code> falls below {threshold}.").format(
        sku=escape(result.sku_code), threshold=result.threshold
    )
    if result.stock is not None and result.stock < result.threshold:
        text += "\n" + _(
            "Stock is {stock} now, already below: the alert fires after it is restocked "
            "above {threshold} and falls again."
        ).format(stock=result.stock, threshold=result.threshold)
    return text


# earnings -------------------------------------------------------------------------------


def tier_band(tier: TierView) -> str:
    if tier.max_units is None:
        return _("{low}+ units").format(low=tier.min_units)
    return _("{low}–{high} units").format(low=tier.min_units, high=tier.max_units)


def sale_split(sale: SaleSplitView) -> str:
    head = _("#{order} · {date} · {units} × {name}").format(
        order=sale.order_id,
        date=fmt.moment(sale.created_at),
        units=sale.units,
        name=escape(sale.sku_name),
    )
    if sale.refunded:
        head += " " + _("({count} refunded)").format(count=sale.refunded)
    body = _(
        "Sale price {price} − supply price {supply} = spread {spread}; "
        "your share {share} = {supplier_spread}\n"
        "Commission {rate} on {gross}: −{commission} → you get <b>{net}</b> × {units} = "
        "<b>{total}</b>\n"
        "Why {rate}: {sold} units sold in the 30 days before, ladder tier {band}"
    ).format(
        price=fmt.amount(sale.unit_price),
        supply=fmt.amount(sale.supply_price),
        spread=fmt.amount(sale.spread),
        share=percent(sale.spread_share_bps),
        supplier_spread=fmt.amount(sale.supplier_spread),
        rate=percent(sale.commission_bps),
        gross=fmt.amount(sale.supply_price + sale.supplier_spread),
        commission=fmt.amount(sale.commission),
        net=fmt.amount(sale.net_unit),
        units=sale.units,
        total=fmt.amount(sale.net_total),
        sold=sale.units_30d,
        band=tier_band(sale.tier),
    )
    if sale.schedule.startswith("category:"):
        body += " " + _("(schedule of category {name})").format(
            name=escape(sale.schedule.split(":", 1)[1])
        )
    elif sale.exclusive:
        body += " " + _("(exclusive ladder)")
    return f"{head}\n{body}"


def earnings(view: EarningsView) -> str:
    parts = [
        _("💼 <b>Payable balance: {payable}</b>").format(payable=fmt.amount(view.payable)),
    ]
    if view.pending_withdrawals:
        parts.append(
            _(
                "Withdrawals waiting for an admin: {amount} · available to request: {available}"
            ).format(
                amount=fmt.amount(view.pending_withdrawals), available=fmt.amount(view.available)
            )
        )
    parts.append(
        _("Units sold in the last 30 days: {units} → commission {rate} (tier {band})").format(
            units=view.units_30d, rate=percent(view.tier.rate_bps), band=tier_band(view.tier)
        )
    )
    if view.next_tier is not None:
        parts.append(
            _("From {units} units the rate drops to {rate}.").format(
                units=view.next_tier.min_units, rate=percent(view.next_tier.rate_bps)
            )
        )
    parts.append("")
    if not view.sales:
        parts.append(_("No sales yet."))
    else:
        parts.append(_("<b>Recent sales</b>"))
        parts, _left_out = fit(parts, [sale_split(sale) + "\n" for sale in view.sales])
    return "\n".join(parts).rstrip()


def ask_withdrawal(available: int) -> str:
    return _("How much do you want to withdraw? Up to {amount}. Type e.g. 100 or 100.00.").format(
        amount=fmt.amount(available)
    )


def nothing_to_withdraw() -> str:
    return _("There is nothing to withdraw right now.")


def withdrawal_too_much(available: int) -> str:
    return _("That is more than you can withdraw now ({amount}). Type a smaller amount.").format(
        amount=fmt.amount(available)
    )


def withdrawal_sent(view: WithdrawalView) -> str:
    return _(
        "Withdrawal request #{id} for {amount} is with the admins. You will be told when it "
        "is paid."
    ).format(id=view.id, amount=fmt.amount(view.amount))


def withdrawal_for_admin(payload: dict[str, Any]) -> str:
    return _(
        "💸 Withdrawal request #{id}: supplier {name} ({telegram_id}) asks for {amount} "
        "(payable {payable})."
    ).format(
        id=payload["request_id"],
        name=escape(str(payload["supplier"])),
        telegram_id=payload["telegram_id"],
        amount=fmt.amount(payload["amount"]),
        payable=fmt.amount(payload["payable"]),
    )


def payable_below_request(payable: int) -> str:
    return _("Not paid: the supplier's payable is only {amount} now.").format(
        amount=fmt.amount(payable)
    )


def withdrawal_status(status: WithdrawalStatus) -> str:
    labels = {
        WithdrawalStatus.PENDING: _("pending"),
        WithdrawalStatus.PAID: _("paid"),
        WithdrawalStatus.REJECTED: _("rejected"),
    }
    return labels[status]


def withdrawal_decided(view: WithdrawalView, already: bool) -> str:
    if already:
        return _("Withdrawal #{id} was already decided: {status}.").format(
            id=view.id, status=withdrawal_status(view.status)
        )
    return _("Withdrawal #{id}: {status}.").format(
        id=view.id, status=withdrawal_status(view.status)
    )


def ask_reject_reason(view: WithdrawalView) -> str:
    return _(
        "Why is withdrawal #{id} ({amount}) rejected? Type the reason for the supplier."
    ).format(id=view.id, amount=fmt.amount(view.amount))


def bad_reason() -> str:
    return _("Please type a reason.")


def withdrawal_result(payload: dict[str, Any]) -> str:
    if payload["status"] == WithdrawalStatus.PAID.value:
        return _(
            "✅ Your withdrawal #{id} of {amount} was paid. Payable balance: {payable}"
        ).format(
            id=payload["request_id"],
            amount=fmt.amount(payload["amount"]),
            payable=fmt.amount(payload["payable"]),
        )
    return _("❌ Your withdrawal #{id} of {amount} was rejected: {reason}").format(
        id=payload["request_id"],
        amount=fmt.amount(payload["amount"]),
        reason=escape(payload["reason"]),
    )

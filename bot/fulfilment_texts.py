"""Texts of orders delivered later (direct top-up, 直充): the reseller typing the account
and told of each change; the supplier's tasks (gettext; English msgids, Chinese in
``bot/locales/zh_CN/fulfilment.json``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.decisions.fulfilment import OPEN, AccountField
from core.fulfilment import Task
from core.models import OrderStatus
from core.orders import Receipt

MENU_TASKS = "📋 Top-up tasks"


def label(field: AccountField) -> str:
    return escape(field.label(fmt.current_locale().replace("_", "-")))


def ask_field(sku_name: str, field: AccountField, has_saved: bool) -> str:
    text = _("<b>{name}</b> is topped up directly: type the {label}.").format(
        name=escape(sku_name), label=label(field)
    )
    hint = field.hint(fmt.current_locale().replace("_", "-"))
    if hint:
        text += "\n" + expected(hint)
    if not field.required:
        text += "\n" + _("It may be left out: press Skip.")
    if has_saved:
        text += "\n" + _("Or pick an account you topped up before:")
    return text


def expected(hint: str) -> str:
    """What a value looks like, in words (the field's hint), under a question or a refusal."""
    return _("Expected: {hint}").format(hint=escape(hint))


def account_line(values: Mapping[str, str]) -> str:
    return " · ".join(values.values())


def account_block(fields: tuple[AccountField, ...], values: Mapping[str, str]) -> str:
    by_name = {field.name: field for field in fields}
    lines = []
    for name, value in values.items():
        shown = label(by_name[name]) if name in by_name else escape(name)
        lines.append(f"{shown}: <code>{escape(value)}</code>")
    return "\n".join(lines)


def quote_for(values: Mapping[str, str]) -> str:
    return _("Top-up to {account}").format(account=escape(account_line(values)))


def stale_flow() -> str:
    return _("That form has ended; choose the product again to start over.")


def status_word(status: OrderStatus | str) -> str:
    words = {
        OrderStatus.PENDING: _("⏳ waiting for the supplier"),
        OrderStatus.FULFILLING: _("🔄 being topped up"),
        OrderStatus.DELIVERED: _("✅ delivered"),
        OrderStatus.FAILED: _("❌ failed"),
        OrderStatus.PARTIALLY_DELIVERED: _("⚠️ partly delivered"),
    }
    return words.get(OrderStatus(status), str(status))


def rest_coming(r: Receipt) -> str:
    """Under the codes our stock gave at once: the rest of an upstream's order still being
    bought ("" when nothing more is coming)."""
    if r.fulfilment is None or r.status not in OPEN or len(r.codes) >= r.quantity:
        return ""
    return "\n\n" + _(
        "⏳ {count} more on the way: you will be told here, by {deadline} at the latest. "
        "What does not come is paid back to your balance by itself."
    ).format(count=r.quantity - len(r.codes), deadline=fmt.moment(r.fulfilment.deadline_at))


def direct_receipt(r: Receipt) -> str:
    """A direct top-up just paid: what was held, for which account, until when."""
    assert r.fulfilment is not None
    if not r.fulfilment.account:  # bought from an upstream, still processing there
        return _(
            "✅ Order #{order}: {quantity} × {name}\nPaid {total} · balance {balance}\n"
            "{status}: you will be told here, by {deadline} at the latest. "
            "If it fails, the money comes back to your balance by itself."
        ).format(
            order=r.order_id,
            quantity=r.quantity,
            name=escape(r.sku_name),
            total=fmt.amount(r.total),
            balance=fmt.amount(r.balance_after),
            status=status_word(r.status),
            deadline=fmt.moment(r.fulfilment.deadline_at),
        )
    return _(
        "✅ Order #{order}: {quantity} × {name}\nPaid {total} · balance {balance}\n"
        "Top-up to {account}: {status}, by {deadline} at the latest.\n"
        "If it fails, the money comes back to your balance by itself."
    ).format(
        order=r.order_id,
        quantity=r.quantity,
        name=escape(r.sku_name),
        total=fmt.amount(r.total),
        balance=fmt.amount(r.balance_after),
        account=escape(account_line(r.fulfilment.account)),
        status=status_word(r.status),
        deadline=fmt.moment(r.fulfilment.deadline_at),
    )


def detail(r: Receipt) -> str:
    """An order delivered later, in the buyer's order history: the account, then its proof,
    or why it failed and what was refunded, or its deadline while open."""
    f = r.fulfilment
    assert f is not None
    lines = ["", quote_for(f.account)] if f.account else [""]
    if f.proof:
        lines.append(_("Proof: {proof}").format(proof=f"<code>{escape(f.proof)}</code>"))
    if f.reason:
        lines.append(_("Reason: {reason}").format(reason=reason_text(f.reason)))
    if f.refunded_units:
        lines.append(
            _("{amount} was refunded to your balance.").format(
                amount=fmt.amount(f.refunded_units * r.unit_price)
            )
        )
    if r.status in (OrderStatus.PENDING, OrderStatus.FULFILLING):
        lines.append(_("Deadline: {deadline}").format(deadline=fmt.moment(f.deadline_at)))
    return "\n".join(lines)


def order_status(payload: Mapping[str, Any]) -> str:
    """The buyer told of a change of his order."""
    status = OrderStatus(payload["status"])
    text = _("Order #{order} ({sku}): {status}").format(
        order=payload["order_id"], sku=escape(str(payload["sku"])), status=status_word(status)
    )
    if status is OrderStatus.PARTIALLY_DELIVERED:
        text += "\n" + _("{delivered} of {quantity} delivered.").format(
            delivered=payload["delivered"], quantity=payload["quantity"]
        )
    if payload.get("proof"):
        text += "\n" + _("Proof: {proof}").format(proof=f"<code>{escape(payload['proof'])}</code>")
    if payload.get("note") and status is not OrderStatus.DELIVERED:
        text += "\n" + _("Reason: {reason}").format(reason=reason_text(str(payload["note"])))
    if payload.get("refund"):
        text += "\n" + _("{amount} was refunded to your balance.").format(
            amount=fmt.amount(int(payload["refund"]))
        )
    return text


def reason_text(note: str) -> str:
    return _("not done before the deadline") if note == "deadline" else escape(note)


# the supplier's side ------------------------------------------------------------------------


def new_task(payload: Mapping[str, Any]) -> str:
    account = "\n".join(
        f"<code>{escape(str(value))}</code>" for value in dict(payload["account"]).values()
    )
    return _(
        "🆕 Top-up task, order #{order}: {quantity} × {name}\nAccount:\n{account}\n"
        "Do it by {deadline}; after that it fails by itself and the buyer is refunded."
    ).format(
        order=payload["order_id"],
        quantity=payload["quantity"],
        name=escape(str(payload["name"])),
        account=account,
        deadline=fmt.moment(datetime.fromisoformat(str(payload["deadline"]))),
    )


def task(t: Task) -> str:
    head = _("Order #{order}: {quantity} × {name}\n{account}\nStatus: {status}").format(
        order=t.order_id,
        quantity=t.quantity,
        name=escape(t.sku_name),
        account=account_block(t.fields, t.account),
        status=status_word(t.status),
    )
    if t.open:
        return head + "\n" + _("Deadline: {deadline}").format(deadline=fmt.moment(t.deadline_at))
    if t.proof:
        head += "\n" + _("Proof: {proof}").format(proof=f"<code>{escape(t.proof)}</code>")
    if t.reason:
        head += "\n" + _("Reason: {reason}").format(reason=reason_text(t.reason))
    return head


def no_tasks() -> str:
    return _("No open top-up tasks.")


def tasks_head(count: int) -> str:
    return _("Open top-up tasks: {count}").format(count=count)


def ask_proof(order_id: int) -> str:
    return _("Order #{order}: send a photo or a serial number as proof, or press Skip.").format(
        order=order_id
    )


def ask_units(order_id: int, quantity: int) -> str:
    return _("Order #{order}: how many of the {quantity} units did you deliver?").format(
        order=order_id, quantity=quantity
    )


def ask_reason(order_id: int) -> str:
    return _("Order #{order}: why could it not be done? Type the reason for the buyer.").format(
        order=order_id
    )


def bad_units(quantity: int) -> str:
    return _("Type a number from 1 to {quantity}.").format(quantity=quantity)


def started() -> str:
    return _("Taken: the buyer sees it is being topped up.")


def done(t: Task) -> str:
    return _("Done: order #{order} is {status}.").format(
        order=t.order_id, status=status_word(t.status)
    )

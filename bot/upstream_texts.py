"""Texts of the admin's upstream screen and the upstream alerts, in the reader's language."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from aiogram.utils.i18n import gettext as _

from bot import formatting as fmt
from core.procurement import LATE_DELIVERY
from core.upstreams.service import ChangeView, UpstreamDetail, UpstreamView


def _when(at: datetime | None) -> str:
    if at is None:
        return _("never")
    return fmt.when(at, fmt.current_reader().zone, fmt.current_locale())


def _state(view: UpstreamView) -> str:
    if view.last_error:
        return _("⚠️ failing: {error}").format(error=escape(view.last_error))
    return _("✅ ok")


def upstreams(views: list[UpstreamView]) -> str:
    if not views:
        return _("<b>Upstreams</b>\nNone yet. Add one with <code>kameng upstream add</code>.")
    lines = [
        _(
            "• <b>{name}</b> ({protocol}): {on_sale}/{skus} on sale · last sync {at} · {state}"
        ).format(
            name=escape(v.name),
            protocol=v.protocol,
            on_sale=v.on_sale,
            skus=v.skus,
            at=_when(v.last_sync_at),
            state=_state(v),
        )
        for v in views
    ]
    return _("<b>Upstreams</b>") + "\n" + "\n".join(lines)


def _change(change: ChangeView) -> str:
    labels = {
        "created": _("new"),
        "repriced": _("re-priced"),
        "suspended": _("suspended"),
        "resumed": _("resumed"),
        "failed": _("sync failed"),
        "recovered": _("sync recovered"),
    }
    parts = [_when(change.at), labels.get(change.kind, change.kind)]
    if change.sku_code:
        parts.append(f"<code>{escape(change.sku_code)}</code>")
    if change.kind == "repriced" and change.old_value is not None and change.new_value is not None:
        parts.append(f"{fmt.amount(change.old_value)} → {fmt.amount(change.new_value)}")
    elif change.kind == "created" and change.new_value is not None:
        parts.append(fmt.amount(change.new_value))
    elif change.detail and change.kind in ("suspended", "failed"):
        parts.append(escape(change.detail))
    return " · ".join(parts)


def detail(d: UpstreamDetail) -> str:
    v = d.upstream
    balance = _("not reported") if v.last_balance is None else fmt.amount(v.last_balance)
    head = _(
        "<b>Upstream {name}</b> ({protocol})\nBalance there: {balance}\n"
        "On sale: {on_sale} of {skus}\nLast sync: {at} · {state}"
    ).format(
        name=escape(v.name),
        protocol=v.protocol,
        balance=balance,
        on_sale=v.on_sale,
        skus=v.skus,
        at=_when(v.last_sync_at),
        state=_state(v),
    )
    return head + "\n" + shelving(d) + "\n\n" + changes(d.changes)


def shelving(d: UpstreamDetail) -> str:
    """Where its products are shelved: the default category, then each of its own
    categories mapped elsewhere (``kameng upstream map``)."""
    default = escape(d.default_category) if d.default_category else _("none")
    lines = [_("New products go to: {category}").format(category=default)]
    if d.shelves:
        lines.append(_("Its categories shelved elsewhere:"))
        lines += [
            f"• {escape(shelf.upstream_category)} → {escape(shelf.category)}" for shelf in d.shelves
        ]
    return "\n".join(lines)


def changes(items: list[ChangeView]) -> str:
    if not items:
        return _("No changes yet.")
    return _("<b>Change log</b> (newest first)") + "\n" + "\n".join(_change(c) for c in items)


def synced(ok: bool, created: int, repriced: int, suspended: int, resumed: int) -> str:
    if not ok:
        return _("Sync failed: nothing was changed.")
    return _(
        "Synced: {created} new, {repriced} re-priced, {suspended} suspended, {resumed} resumed."
    ).format(created=created, repriced=repriced, suspended=suspended, resumed=resumed)


def alert(payload: dict[str, Any]) -> str:
    name = escape(str(payload.get("upstream", "")))
    if payload.get("state") == LATE_DELIVERY:
        return late_delivery(payload)
    if payload.get("state") == "recovered":
        return _("✅ Upstream {name} syncs again.").format(name=name)
    return _(
        "⚠️ Upstream {name} cannot be synced: {reason}\nIts products keep their last prices "
        "and stock until a sync works; you will be told once when it does."
    ).format(name=name, reason=escape(str(payload.get("reason", ""))))


def late_delivery(payload: dict[str, Any]) -> str:
    """An upstream delivered after our deadline had failed (and refunded) the order: it is
    owed what it charged; codes went into our stock, a top-up is the admins' to settle."""
    values = {
        "name": escape(str(payload.get("upstream", ""))),
        "order": payload.get("order_id"),
        "sku": escape(str(payload.get("sku", ""))),
        "units": payload.get("units"),
        "charged": fmt.amount(int(payload.get("charged") or 0)),
        "stocked": payload.get("stocked"),
    }
    if payload.get("direct"):
        return _(
            "⚠️ Upstream {name} topped up order #{order} (<code>{sku}</code>, {units} unit(s)) "
            "after our deadline had failed it and refunded the reseller. It is owed "
            "{charged}, recorded. Settle it with the reseller (the account was credited) or "
            "ask the upstream to reverse it."
        ).format(**values)
    return _(
        "ℹ️ Upstream {name} delivered order #{order} (<code>{sku}</code>, {units} unit(s)) "
        "after our deadline had failed it and refunded the reseller. It is owed {charged}, "
        "recorded; {stocked} code(s) went into the stock of <code>{sku}</code>."
    ).format(**values)


def upstream_error(code: str, reason: str) -> str:
    if code == "not_found":
        return _("No such upstream.")
    return _("The upstream answered with an error: {reason}").format(reason=escape(reason))

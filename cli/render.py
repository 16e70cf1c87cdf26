"""Operator-facing (English) wording of the platform's refusals: one line each.

Every ``KamengError`` code has its sentence here (a test walks every subclass). Counts are
printed as counts, money as money with the deployment's currency, never ``code(field=…)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.errors import KamengError
from core.money import format_amount

Params = Mapping[str, Any]


class _Words:
    """How one error's parameters read: money with the currency, counts with separators."""

    def __init__(self, params: Params, currency: str) -> None:
        self.p = params
        self.currency = currency

    def money(self, name: str) -> str:
        value = self.p.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{format_amount(value)} {self.currency}"
        return str(value)

    def count(self, name: str) -> str:
        value = self.p.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    def text(self, name: str, default: str = "") -> str:
        value = self.p.get(name, default)
        return str(value).replace("_", " ")


def _not_found(w: _Words) -> str:
    return f"no {w.text('kind', 'such thing')} {w.p.get('ref', '')}"


def _invalid_quantity(w: _Words) -> str:
    return f"quantity must be a whole number from 1 to {w.count('max')}"


def _invalid_amount(w: _Words) -> str:
    if w.p.get("reason") == "note_required":
        return "this amount needs a note saying why"
    bid_limits = {  # a featured placement bid (core/decisions/auction.py check_bid)
        "reserve": "a bid must be at least the slot's reserve",
        "payable": "a bid must be at most the supplier's payable",
        "cap": "a bid must be at most KAMENG_ADS_MAX_BID",
    }
    if w.p.get("reason") in bid_limits:
        return f"{bid_limits[str(w.p['reason'])]}, {w.money('limit')}"
    if "max" in w.p:
        return f"amount must be above 0.00 {w.currency} and at most {w.money('max')}"
    return "amount must be above 0.00"


def _out_of_stock(w: _Words) -> str:
    asked = f", {w.count('requested')} asked" if "requested" in w.p else ""
    return f"not enough stock of {w.p.get('sku', 'this SKU')}: {w.count('available')} left{asked}"


def _invalid_state(w: _Words) -> str:
    reason = w.text("reason")
    details = ", ".join(
        f"{k.replace('_', ' ')} {v}" for k, v in w.p.items() if k != "reason" and v != ""
    )
    head = reason or "that cannot be done in its current state"
    return f"{head} ({details})" if details else head


def _invalid_input(w: _Words) -> str:
    field = str(w.p.get("field", "value"))
    if field == "units" and "refundable" in w.p:
        if not w.p["refundable"]:
            return "nothing left to refund on this order"
        return f"units must be 1 to {w.count('refundable')}: {w.count('refundable')} left to refund"
    if field == "units":
        return f"units must be 1 or more, not {w.p.get('value')}"
    if field == "default_price":
        return f"price {w.money('value')} is below the supply price"
    if field.startswith("price:"):
        level = field.partition(":")[2]
        return f"{level} price {w.money('value')} is below the supply price"
    if field == "price" and "min" in w.p:
        return f"price {w.money('value')} is below the supply price {w.money('min')}"
    if field == "revision":
        return f"cannot migrate to {w.p.get('value')}: {w.p.get('reason', '')}"
    name = field.replace("_", " ")
    if w.p.get("reason") == "taken":
        return f"{name} {w.p.get('value')} is already taken"
    if "max" in w.p and "length" in w.p:
        return f"{name} is too long: {w.count('length')} characters, at most {w.count('max')}"
    if "max" in w.p and "value" in w.p:
        return f"{name} must be at most {w.count('max')}, not {w.p['value']}"
    if "value" in w.p and w.p["value"] not in ("", None):
        return f"invalid {name}: {w.p['value']}"
    return f"invalid {name}"


def _price_not_allowed(w: _Words) -> str:
    if w.p.get("reason") == "zero":
        return (
            f"price 0.00 {w.currency} would give codes away (face value "
            f"{w.money('face_value')}); pass --force to allow it"
        )
    return (
        f"price {w.money('price')} is above the face value {w.money('face_value')}; "
        "pass --force to allow it"
    )


_NOT_RESTOCKABLE = {
    "not_refunded": "line {line} of order {order} is not refunded",
    "not_void": "the code of line {line} of order {order} is not void",
    "cyclic": "line {line} of order {order} has a shared (cyclic) code: it never leaves stock",
    "already_restocked": "line {line} of order {order} was already restocked",
    "nothing_to_restock": "order {order} has {restockable} refunded code(s) to restock,"
    " {wanted} asked",
}


def _usdt_rate_refused(w: _Words) -> str:
    reason = w.p.get("reason")
    if reason == "range":
        return (
            f"1 USDT = {w.money('rate')} is outside {format_amount(int(w.p['low']))}–"
            f"{w.money('high')}, the sane range for {w.text('currency')}: a typo? Nothing changed"
        )
    if reason == "confirm":
        return (
            f"1 USDT = {w.money('rate')} moves the rate in force ({w.money('current')}) by "
            f"{_percent(w.p.get('change_bps'))}: check it and run again with --yes"
        )
    return (
        f"the rate in force is {w.money('current')} now, not {w.money('expected')}: "
        "look at it and set it again"
    )


def _percent(bps: object) -> str:
    if not isinstance(bps, int):
        return str(bps)
    whole, rest = divmod(bps, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


def _not_restockable(w: _Words) -> str:
    template = _NOT_RESTOCKABLE.get(str(w.p.get("why")), "order {order} cannot be restocked")
    if "line" not in w.p and "{line}" in template:  # a concurrent restock: no single line
        template = "order {order}: " + w.text("why")
    try:
        return "cannot restock: " + template.format(**w.p)
    except (KeyError, IndexError):
        return "cannot restock: " + ", ".join(f"{k} {v}" for k, v in w.p.items())


_STARS_REFUSED = {
    "no_rate": "no Stars rate is set: kameng stars rate FEN_PER_STAR",
    "bad_rate": "a Stars rate is a whole number of fen per star, above 0",
    "too_many": "that top-up would cost more than {max} stars, the most one invoice may ask",
    "unknown": "that payment is not a paid Telegram Stars payment",
    "closed": "only a credited Stars payment can be refunded",
    "already": "that Stars payment was refunded already",
}


MESSAGES: dict[str, Callable[[_Words], str]] = {
    "error": lambda w: "that could not be done",
    "not_found": _not_found,
    "invalid_quantity": _invalid_quantity,
    "invalid_amount": _invalid_amount,
    "sku_not_for_sale": lambda w: f"{w.p.get('sku')} is not for sale ({w.p.get('status')})",
    "out_of_stock": _out_of_stock,
    "insufficient_balance": lambda w: f"not enough balance: short by {w.money('shortfall')}",
    "credit_blocked": lambda w: (
        f"the credit line is {w.text('reason')} (due {w.text('due_on')}): no further drawing"
    ),
    "insufficient_payable": lambda w: f"not enough payable: short by {w.money('shortfall')}",
    "forbidden": lambda w: f"not allowed: {w.text('action', 'that')}",
    "user_banned": lambda w: "this user is banned",
    "idempotency_conflict": lambda w: (
        f"the key {w.p.get('key')} was already used for a different request; "
        "use a new key for a new request"
    ),
    "invalid_state": _invalid_state,
    "invalid_input": _invalid_input,
    "not_registered": lambda w: f"this user's registration is {w.text('status')}",
    "voucher_refused": lambda w: (
        "this voucher was already redeemed" if w.p.get("reason") == "used" else "no such voucher"
    ),
    "invalid_invite": lambda w: (
        "this invite code was already used" if w.p.get("reason") == "used" else "no such invite"
    ),
    "price_not_allowed": _price_not_allowed,
    "not_restockable": _not_restockable,
    "quote_used": lambda w: f"this quote was already bought (order {w.p.get('order_id')})",
    "callback_url_refused": lambda w: f"callback URL refused: {w.text('reason')}",
    "invalid_account": lambda w: (
        f"account field {w.p.get('field')} is {w.p.get('reason', 'invalid')}"
        + (f" (it must match {w.p['pattern']})" if w.p.get("pattern") else "")
    ),
    "order_finished": lambda w: f"order {w.p.get('order')} is already {w.p.get('status')}",
    "no_such_revision": lambda w: f"no such revision: {w.p.get('revision')}",
    "stars_refused": lambda w: _STARS_REFUSED.get(
        str(w.p.get("reason")), "Telegram Stars: that could not be done"
    ).format(**w.p),
    "unknown_payment_method": lambda w: (
        f"payment provider {w.p.get('method')} is not enabled (see the README's Payments)"
    ),
    "bad_notification": lambda w: f"notification refused: {w.text('reason')}",
    "payment_provider_refused": lambda w: (
        f"payment provider {w.p.get('provider')} refused to open the payment:"
        f" {w.text('reason')}; nothing changed"
    ),
    "payment_provider_unavailable": lambda w: (
        f"payment provider {w.p.get('provider')} did not answer; nothing changed, try again"
    ),
    "upstream_error": lambda w: (
        f"the upstream {w.p.get('upstream', '')} refused: {w.text('reason')}"
    ),
    "upstream_unreachable": lambda w: f"the upstream could not be reached: {w.text('reason')}",
    "upstream_callback_refused": lambda w: f"callback refused: {w.text('reason')}",
    "unknown_protocol": lambda w: (
        f"no upstream protocol {w.p.get('protocol')!r}; known: {w.p.get('known', '')}"
    ),
    "storage_unavailable": lambda w: (
        f"the database cannot be written ({w.text('reason')}): nothing was changed; "
        "fix the disk or its permissions and run it again"
    ),
    "chain_unavailable": lambda w: (
        f"the TRON API did not answer ({w.text('reason')}): nothing was changed; "
        "check KAMENG_USDT_API_URL / KAMENG_USDT_API_KEY and run it again"
    ),
    "usdt_not_configured": lambda w: {
        "rate": "no USDT exchange rate yet: set one with kameng usdt rate set 7.25",
        "deposit_address": "set KAMENG_USDT_DEPOSIT_ADDRESS to take USDT",
        "api_url": "set KAMENG_USDT_API_URL (a TronGrid-style API) to watch the chain",
    }.get(str(w.p.get("missing")), f"USDT is not configured ({w.text('missing')})"),
    "usdt_rate_refused": lambda w: _usdt_rate_refused(w),
    "usdt_slots_full": lambda w: (
        f"every USDT amount near {w.money('amount')} is expected by an open payment; "
        "try another amount or later"
    ),
}


def describe_error(error: KamengError, currency: str) -> str:
    describe = MESSAGES.get(error.code, MESSAGES["error"])
    return describe(_Words(error.params, currency))

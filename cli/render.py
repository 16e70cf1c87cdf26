"""Operator-facing (English) wording of the platform's refusals."""

from __future__ import annotations

from core.errors import KamengError
from core.money import format_amount

_MONEY_PARAMS = {"shortfall", "spendable", "needed", "amount", "max"}


def describe_error(error: KamengError) -> str:
    p = {
        k: format_amount(v) if k in _MONEY_PARAMS and isinstance(v, int) else v
        for k, v in error.params.items()
    }
    messages = {
        "not_found": "no {kind} {ref!s}",
        "insufficient_balance": "not enough balance: short by {shortfall}",
        "insufficient_payable": "not enough payable: short by {shortfall}",
        "out_of_stock": "not enough stock for {sku}: {available} left, {requested} asked",
        "invalid_quantity": "quantity must be 1 to {max}",
        "invalid_amount": "amount must be above 0.00 and at most {max}",
        "sku_not_for_sale": "{sku} is not for sale ({status})",
        "user_banned": "this user is banned",
    }
    if error.code == "not_restockable":
        return _restock_refusal(p)
    template = messages.get(error.code)
    try:
        return template.format(**p) if template else str(error)
    except (KeyError, IndexError):
        return str(error)


_NOT_RESTOCKABLE = {
    "not_refunded": "line {line} of order {order} is not refunded",
    "not_void": "the code of line {line} of order {order} is not void",
    "cyclic": "line {line} of order {order} has a shared (cyclic) code: it never leaves stock",
    "already_restocked": "line {line} of order {order} was already restocked",
    "nothing_to_restock": "order {order} has {restockable} refunded code(s) to restock,"
    " {wanted} asked",
}


def _restock_refusal(p: dict[str, object]) -> str:
    template = _NOT_RESTOCKABLE.get(str(p.get("why")), "order {order} cannot be restocked")
    if "line" not in p and "{line}" in template:  # a concurrent restock: no single line
        template = "order {order}: " + str(p.get("why", "")).replace("_", " ")
    try:
        return "cannot restock: " + template.format(**p)
    except (KeyError, IndexError):
        return f"cannot restock: {p}"

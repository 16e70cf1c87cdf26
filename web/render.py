"""The JSON shapes of the API. Amounts are integers in minor units beside ``currency``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.balances import BalanceView
from core.catalogue import UserView
from core.fulfilment import DirectSpec, FulfilmentInfo
from core.orders import OrderSummary, Receipt
from core.pricing.quotes import QuoteView
from core.storefront import SkuCard, SkuLine


def timestamp(moment: datetime) -> str:
    """ISO 8601, always with its offset (``Z``): a naive time is UTC, as the database keeps it."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def me(user: UserView, balance: BalanceView, currency: str) -> dict[str, Any]:
    return {
        "telegram_id": user.telegram_id,
        "username": user.username,
        "level": user.level_name,
        "balance": balance.balance,
        "credit_limit": balance.credit_limit,
        "spendable": balance.spendable,
        "currency": currency,
    }


def sku_line(line: SkuLine) -> dict[str, Any]:
    return {
        "code": line.code,
        "name": line.name,
        "price": line.my_price,
        "stock": line.stock,  # null: cyclic stock, never runs out
        "in_stock": line.in_stock,
    }


def sku_card(card: SkuCard, currency: str, direct: DirectSpec | None = None) -> dict[str, Any]:
    promotion = None
    if card.promotion_name is not None and card.promotion_ends_at is not None:
        promotion = {"name": card.promotion_name, "ends_at": timestamp(card.promotion_ends_at)}
    return {
        **sku_line(card.line),
        "category": card.category,
        "face_value": card.face_value,
        "quantity_breaks": [
            {"min_quantity": b.min_quantity, "discount_bps": b.discount_bps} for b in card.breaks
        ],
        "promotion": promotion,
        "currency": currency,
        # a direct top-up (直充) names the account in these fields; a SKU of codes has none
        "kind": "codes" if direct is None else "direct",
        "account_fields": [] if direct is None else [field.as_json() for field in direct.fields],
    }


def quote(q: QuoteView, currency: str) -> dict[str, Any]:
    price = q.price
    rule, promotion = price.quantity_break, price.promotion
    return {
        "id": q.id,
        "sku": q.sku_code,
        "name": q.sku_name,
        "quantity": q.quantity,
        "unit_price": q.unit_price,
        "total": q.total,
        "breakdown": {
            "base_price": price.base_price,
            "level_price": price.from_level_price,
            "quantity_break": None
            if rule is None
            else {"min_quantity": rule.min_quantity, "discount_bps": rule.discount_bps},
            "after_quantity_break": price.after_break,
            "promotion": None if promotion is None else {"name": promotion.name},
            "capped_at_supply_price": price.capped_at_supply,
            "unit_price": price.unit_price,
        },
        "balance": q.balance,
        "credit_limit": q.credit_limit,
        "balance_after": q.balance_after,
        "shortfall": q.shortfall,  # > 0: not payable; top up by this much
        "stock": q.stock,
        "enough_stock": not q.over_stock,  # false: at most `stock` can be bought now
        "can_confirm": q.can_confirm,
        "expires_at": timestamp(q.expires_at),
        "currency": currency,
    }


def order(r: Receipt, currency: str, *, just_bought: bool = False) -> dict[str, Any]:
    body = {
        "id": r.order_id,
        "sku": r.sku_code,
        "name": r.sku_name,
        "quantity": r.quantity,
        "unit_price": r.unit_price,
        "total": r.total,
        "status": r.status.value,
        "created_at": timestamp(r.created_at),
        # always objects: {"number": …} and, when the card has them, password, link, expires
        "codes": [card.as_dict() for card in r.cards],
        "currency": currency,
    }
    if r.fulfilment is not None:  # delivered later: a direct top-up
        body["fulfilment"] = fulfilment(r.fulfilment)
    if just_bought:  # a purchase's answer (first or replayed) says what the balance is now
        body |= {"balance_after": r.balance_after, "replayed": r.replayed}
    return body


def fulfilment(f: FulfilmentInfo) -> dict[str, Any]:
    return {
        "account": f.account,
        "deadline_at": timestamp(f.deadline_at),
        "delivered": f.delivered_units,
        "refunded": f.refunded_units,
        "proof": f.proof,
        "reason": f.reason,
        "events": [
            {"status": e.status.value, "note": e.note, "at": timestamp(e.at)} for e in f.events
        ],
    }


def order_summary(o: OrderSummary) -> dict[str, Any]:
    return {
        "id": o.id,
        "sku": o.sku_code,
        "name": o.sku_name,
        "quantity": o.quantity,
        "unit_price": o.unit_price,
        "total": o.total,
        "status": o.status.value,
        "created_at": timestamp(o.created_at),
    }

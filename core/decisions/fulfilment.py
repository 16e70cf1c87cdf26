"""Orders delivered later, decided: the account a direct top-up is for, the states an
order may move through, and what a fulfilment that ends pays whom. Pure.

    check_value(field, raw)                       -> str | Refusal | None
    check_account(fields, values)                 -> CheckedAccount | Refusal
    next_state(current, wanted)                   -> OrderStatus | Refusal
    decide_settlement(quantity, unit, delivered, from_stock) -> Settlement | Refusal
    stock_unit(unit)                              -> ChargedLine
    decide_upstream_cost(owed, delivered, charged) -> UpstreamCost | None
    decide_late_answer(final, units, codes, charged, unit_cost, given_up)
                                                  -> KeepAsking | StopAsking | LateDelivery

A direct sale debits the reseller into the platform's ``fulfilment_hold`` account; nothing
reaches the supplier's side until units are delivered. When the fulfilment ends the hold is
released in one transaction: each delivered unit split as it was charged (supplier,
platform spread, commission), each undelivered unit back to the reseller, exactly as a
refund reverses a unit (``core.decisions.refund.reverse``).

An upstream is owed exactly what it charged us. The settlement pays its side the supply
price synced when we sold; if its price moved between our quote and our order there, the
difference moves between its payable and the platform's spread: the platform absorbs a
rise and keeps a drop (the reseller pays what he was quoted either way).

An upstream's order we ended ourselves (our deadline failed it, the reseller was refunded)
may still be delivered there: the upstream then charged us, and is owed that. What it
delivers late was never shown to a buyer, so its codes become our stock. A later sale of
that SKU hands those codes out first (``stock_unit``): their cost was paid to the upstream
already, out of the platform's spread, so the supplier's part of their price goes back to
the spread and the upstream is not credited twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.decisions.refund import ChargedLine, reverse
from core.decisions.refusal import Refusal
from core.errors import InvalidAccount, InvalidInput, InvalidQuantity, OrderFinished
from core.ledger import Posting, platform
from core.models import AccountKind, OrderStatus

FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_VALUE = 64  # characters of one account value
MAX_FIELDS = 5
LABEL_MAX = 32
MAX_DEADLINE_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class AccountField:
    """One field a direct SKU asks for: its name, the pattern a value must match whole,
    its label in English and Chinese, and whether it may be left out (``required``; a
    field stored before it existed is required). ``hint_en``/``hint_zh``: what a value looks
    like in words ("5 to 12 digits"), shown with the question and the refusal; "" when not
    known (a field stored before hints were kept has none)."""

    name: str
    pattern: str
    label_en: str
    label_zh: str
    required: bool = True
    hint_en: str = ""
    hint_zh: str = ""

    def label(self, language: str) -> str:
        return self.label_zh if language.startswith("zh") else self.label_en

    def hint(self, language: str) -> str:
        return self.hint_zh if language.startswith("zh") else self.hint_en

    def as_json(self) -> dict[str, str | bool]:
        out: dict[str, str | bool] = {
            "name": self.name,
            "pattern": self.pattern,
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "required": self.required,
        }
        # only when known: a field without a hint serialises as it did before hints
        if self.hint_en or self.hint_zh:
            out["hint_en"], out["hint_zh"] = self.hint_en, self.hint_zh
        return out


def parse_field(spec: str) -> AccountField:
    """``name:label_en:label_zh:pattern`` (the pattern last, so it may hold colons), as the
    CLI's ``--field`` and the supplier's product flow take it; ``name?``: an optional field
    (no name holds a ``?``)."""
    parts = spec.split(":", 3)
    if len(parts) != 4:
        raise InvalidInput(
            field="account_field", value=spec, reason="name:label_en:label_zh:pattern"
        )
    name, label_en, label_zh, pattern = (part.strip() for part in parts)
    required = not name.endswith("?")
    return make_field(name.removesuffix("?"), pattern, label_en, label_zh, required)


def make_field(
    name: str,
    pattern: str,
    label_en: str,
    label_zh: str,
    required: bool = True,
    hint_en: str = "",
    hint_zh: str = "",
) -> AccountField:
    if not FIELD_NAME.fullmatch(name):
        raise InvalidInput(field="account_field", value=name)
    if not label_en or not label_zh or max(len(label_en), len(label_zh)) > LABEL_MAX:
        raise InvalidInput(field="account_field_label", value=name, max=LABEL_MAX)
    try:
        re.compile(pattern)
    except re.error:
        raise InvalidInput(field="account_field_pattern", value=pattern) from None
    return AccountField(name, pattern, label_en, label_zh, required, hint_en, hint_zh)


def check_fields(fields: Sequence[AccountField]) -> None:
    """A direct SKU asks for 1 to ``MAX_FIELDS`` fields, each name once."""
    names = [field.name for field in fields]
    if not 1 <= len(names) <= MAX_FIELDS or len(set(names)) != len(names):
        raise InvalidInput(field="account_fields", value=",".join(names), max=MAX_FIELDS)


def fields_from_json(text: str) -> tuple[AccountField, ...]:
    return tuple(AccountField(**item) for item in json.loads(text))


def fields_to_json(fields: Sequence[AccountField]) -> str:
    return json.dumps([field.as_json() for field in fields], ensure_ascii=False)


def fields_key(fields: Sequence[AccountField]) -> str:
    """What saved accounts are filed under: the field names, sorted."""
    return ",".join(sorted(field.name for field in fields))


@dataclass(frozen=True)
class CheckedAccount:
    """The values, trimmed, in the SKU's field order."""

    values: dict[str, str]

    def as_json(self) -> str:
        return json.dumps(self.values, ensure_ascii=False, sort_keys=True)


def _refused(field: AccountField, reason: str, **params: str) -> Refusal:
    """Named with its labels, so a front can say which field (``bot/texts.py``)."""
    return Refusal(
        InvalidAccount(
            field=field.name,
            reason=reason,
            **params,
            label_en=field.label_en,
            label_zh=field.label_zh,
            hint_en=field.hint_en,
            hint_zh=field.hint_zh,
        )
    )


def check_value(field: AccountField, raw: object) -> str | Refusal | None:
    """One field's value, trimmed: a string matching the field's pattern whole, at most
    ``MAX_VALUE`` characters. None: an optional field left out (absent or blank). The bot
    checks each value as it is typed; ``check_account`` checks them all again at the sale."""
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        return None if not field.required else _refused(field, "missing")
    if len(value) > MAX_VALUE or not re.fullmatch(field.pattern, value):
        return _refused(field, "pattern", pattern=field.pattern)
    return value


def check_account(
    fields: Sequence[AccountField], values: Mapping[str, object]
) -> CheckedAccount | Refusal:
    """Every required field present and each given one right (``check_value``); an
    optional field left out is not in the account; no field the SKU does not ask for."""
    known = {field.name for field in fields}
    for name in values:
        if name not in known:
            return Refusal(InvalidAccount(field=str(name), reason="unknown"))
    checked: dict[str, str] = {}
    for field in fields:
        match check_value(field, values.get(field.name)):
            case Refusal() as refused:
                return refused
            case str(value):
                checked[field.name] = value
    return CheckedAccount(checked)


# states ---------------------------------------------------------------------------------

OPEN = (OrderStatus.PENDING, OrderStatus.FULFILLING)
ENDED = (OrderStatus.DELIVERED, OrderStatus.FAILED, OrderStatus.PARTIALLY_DELIVERED)
_NEXT = {
    OrderStatus.PENDING: {OrderStatus.FULFILLING, *ENDED},
    OrderStatus.FULFILLING: set(ENDED),
}


def next_state(current: OrderStatus, wanted: OrderStatus) -> OrderStatus | Refusal:
    """``pending → fulfilling → delivered | failed | partially_delivered``; an order that
    ended never changes again (``OrderFinished``)."""
    if current not in _NEXT:
        return Refusal(OrderFinished(status=str(current)))
    if wanted not in _NEXT[current]:
        return Refusal(InvalidInput(field="status", value=str(wanted), current=str(current)))
    return wanted


# settlement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """Release an order's hold: delivered units to the supplier's side as charged (a unit
    from our late stock: to the spread, ``stock_unit``), the rest back to the buyer."""

    status: OrderStatus
    delivered: int  # all units delivered, ``from_stock`` of them from our late stock
    held: int  # what the order holds: quantity × unit price
    to_supplier: int
    to_spread: int
    to_commission: int
    to_buyer: int
    from_stock: int = 0

    @property
    def bought(self) -> int:
        """Units the supplier (an upstream) delivered: the ones it is paid for here."""
        return self.delivered - self.from_stock

    def postings(self, user_id: int, supplier_id: int) -> list[Posting]:
        postings = [
            platform(AccountKind.FULFILMENT_HOLD, -self.held),
            Posting(AccountKind.SUPPLIER_PAYABLE, supplier_id, self.to_supplier),
            platform(AccountKind.PLATFORM_SPREAD, self.to_spread),
            platform(AccountKind.PLATFORM_COMMISSION, self.to_commission),
            Posting(AccountKind.RESELLER_BALANCE, user_id, self.to_buyer),
        ]
        return [posting for posting in postings if posting.amount]


def stock_unit(unit: ChargedLine) -> ChargedLine:
    """A unit sold from our late stock (codes an upstream delivered after our deadline):
    its cost was paid to the upstream's payable from the platform's spread when it came
    (``LateDelivery``), so the supplier's part of this sale goes to the spread instead —
    the upstream is never credited twice for one code. The price and the commission are
    as charged; a refund reverses exactly this split."""
    return ChargedLine(
        price=unit.price,
        supplier_amount=0,
        platform_spread=unit.supplier_amount + unit.platform_spread,
        platform_commission=unit.platform_commission,
    )


def decide_settlement(
    quantity: int, unit: ChargedLine, delivered: int, from_stock: int = 0
) -> Settlement | Refusal:
    """``delivered`` of ``quantity`` units arrived, ``from_stock`` of them handed out from
    our late stock at the sale: all → delivered, none → failed (the buyer gets everything
    back), some → partially delivered (the rest back)."""
    if not 0 <= delivered <= quantity:
        return Refusal(InvalidQuantity(quantity=delivered, max=quantity))
    if not 0 <= from_stock <= delivered:
        return Refusal(InvalidQuantity(quantity=from_stock, max=delivered))
    paid_out = [stock_unit(unit)] * from_stock + [unit] * (delivered - from_stock)
    back = reverse([unit] * (quantity - delivered))  # what a refund of those units gives back
    if delivered == quantity:
        status = OrderStatus.DELIVERED
    elif delivered == 0:
        status = OrderStatus.FAILED
    else:
        status = OrderStatus.PARTIALLY_DELIVERED
    return Settlement(
        status=status,
        delivered=delivered,
        held=unit.price * quantity,
        to_supplier=sum(line.supplier_amount for line in paid_out),
        to_spread=sum(line.platform_spread for line in paid_out),
        to_commission=sum(line.platform_commission for line in paid_out),
        to_buyer=back.to_buyer,
        from_stock=from_stock,
    )


# an upstream's charge ------------------------------------------------------------------


@dataclass(frozen=True)
class UpstreamCost:
    """Move the upstream's payable from what the settlement paid it (``owed``) to what it
    charged (``charged``); the platform's spread gives or takes the difference."""

    owed: int
    charged: int

    @property
    def difference(self) -> int:
        return self.charged - self.owed  # > 0: it charged more than we had recorded

    def postings(self, supplier_id: int) -> list[Posting]:
        return [
            Posting(AccountKind.SUPPLIER_PAYABLE, supplier_id, self.difference),
            platform(AccountKind.PLATFORM_SPREAD, -self.difference),
        ]


def decide_upstream_cost(owed: int, delivered: int, charged: int | None) -> UpstreamCost | None:
    """``owed``: what the settlement paid the upstream's side for the ``delivered`` units;
    ``charged``: what the upstream says the order cost us (its total less what it gave back
    for the undelivered units). None — nothing to move — when it does not say, when nothing
    was delivered (nothing is owed, whatever it says), when the amounts agree, or when it
    says something impossible (a negative charge)."""
    if charged is None or charged < 0 or delivered <= 0 or charged == owed:
        return None
    return UpstreamCost(owed, charged)


# an upstream's answer after we ended the order ---------------------------------------


@dataclass(frozen=True)
class KeepAsking:
    """The upstream has not given its final answer: ask it again later."""


@dataclass(frozen=True)
class StopAsking:
    """Nothing is owed: the upstream failed (or refunded) the order, delivered nothing, or
    we have asked for long enough (``reason``)."""

    reason: str


@dataclass(frozen=True)
class LateDelivery:
    """The upstream delivered ``units`` after we ended the order and is owed ``charged``
    (one transaction: its payable against the platform's spread, which now owns what came);
    ``stock``: the codes go into our stock; else a direct top-up was done for an order
    already refunded, which the admins settle with the reseller or the upstream."""

    units: int
    charged: int
    stock: bool

    def postings(self, supplier_id: int) -> list[Posting]:
        return [
            Posting(AccountKind.SUPPLIER_PAYABLE, supplier_id, self.charged),
            platform(AccountKind.PLATFORM_SPREAD, -self.charged),
        ]


LateAnswer = KeepAsking | StopAsking | LateDelivery


def decide_late_answer(
    final: bool,
    units: int,
    codes: int,
    charged: int | None,
    unit_cost: int,
    given_up: bool,
) -> LateAnswer:
    """What an upstream's answer about an order we already ended means. ``final``: the
    upstream's order has ended (delivered, partly delivered, failed); ``units`` it says it
    delivered, ``codes`` it handed over; ``charged`` what it says the order cost (None: not
    said — then the synced ``unit_cost`` per unit delivered, as a settlement would pay);
    ``given_up``: we stop asking an upstream that never ends its order."""
    if not final:
        return StopAsking("given up") if given_up else KeepAsking()
    delivered = codes or units
    if delivered <= 0:
        return StopAsking("nothing delivered")
    owed = unit_cost * delivered if charged is None or charged < 0 else charged
    return LateDelivery(units=delivered, charged=owed, stock=codes > 0)

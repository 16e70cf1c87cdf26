"""A refund, decided: how many units, the exact reversal of their split, what becomes of
their codes and of the order. Pure; used by ``Shop.refund`` (units of an order) and the
after-sales refund of one reported code (``core.aftersales``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.decisions.refusal import Refusal
from core.errors import InvalidInput
from core.ledger import Posting, platform
from core.models import AccountKind, CodeStatus, OrderStatus, StockKind


@dataclass(frozen=True)
class RefundContext:
    """What a refund of an order reads: the order's parties and stock kind, and its
    delivered lines, newest first, locked (at most the units asked for)."""

    order_id: int
    user_id: int
    supplier_id: int
    stock_kind: str
    delivered_line_ids: tuple[int, ...]


@dataclass(frozen=True)
class TakeBack:
    """Refund these lines (newest first)."""

    line_ids: tuple[int, ...]

    @property
    def units(self) -> int:
        return len(self.line_ids)


def decide_refund(ctx: RefundContext, units: int | None) -> TakeBack | Refusal:
    """``units`` of the delivered ones (all when ``None``); never more than are delivered,
    and never nothing."""
    refundable = len(ctx.delivered_line_ids)
    wanted = refundable if units is None else units
    if not refundable or refundable < wanted:
        return Refusal(InvalidInput(field="units", value=wanted, refundable=refundable))
    return TakeBack(ctx.delivered_line_ids[:wanted])


@dataclass(frozen=True)
class ChargedLine:
    """One order line's split as it was charged (``order_lines``)."""

    price: int
    supplier_amount: int
    platform_spread: int
    platform_commission: int


@dataclass(frozen=True)
class Reversal:
    """The exact reverse of some lines' splits: the buyer gets back what he paid, and each
    party gives back what it got, to the fen."""

    to_buyer: int
    from_supplier: int
    from_platform_spread: int
    from_platform_commission: int

    def postings(self, user_id: int, supplier_id: int) -> list[Posting]:
        return [
            Posting(AccountKind.RESELLER_BALANCE, user_id, self.to_buyer),
            Posting(AccountKind.SUPPLIER_PAYABLE, supplier_id, -self.from_supplier),
            platform(AccountKind.PLATFORM_SPREAD, -self.from_platform_spread),
            platform(AccountKind.PLATFORM_COMMISSION, -self.from_platform_commission),
        ]


def reverse(lines: Sequence[ChargedLine]) -> Reversal:
    return Reversal(
        to_buyer=sum(line.price for line in lines),
        from_supplier=sum(line.supplier_amount for line in lines),
        from_platform_spread=sum(line.platform_spread for line in lines),
        from_platform_commission=sum(line.platform_commission for line in lines),
    )


def code_status_after_refund(stock_kind: str) -> CodeStatus | None:
    """A unique code is voided, never put back on sale: its buyer has seen it (putting it
    back is an audited admin act, ``core.restocks``). A cyclic code is shared and not
    consumed by a sale: ``None``, left as it is."""
    return CodeStatus.VOIDED if stock_kind == StockKind.UNIQUE else None


def order_status_after_refund(delivered_left: int) -> OrderStatus:
    return OrderStatus.PARTLY_REFUNDED if delivered_left else OrderStatus.REFUNDED

"""A quote and a sale, decided: may this user buy, at what price, who gets what. Pure.

    decide_quote(ctx, quantity, now) -> Offer | Refusal
    decide_sale(ctx, now)            -> Charge | Requote | Refusal

Each rule is written once and used by both: ``may_buy`` (ban, registration, the SKU on
sale), ``price_unit`` (level price → quantity break → promotion → supply-price floor),
``ladder_tier`` (the supplier's commission from his trailing volume), ``split_unit`` (who
gets what of each unit) and ``reseller_floor`` (how far the buyer may spend: refused here
from the balance read, and kept by the ledger's floored debit under concurrency). Stock is
decided by the claim itself (``core.delivery.claim``): one atomic statement, never a count
read beforehand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from core.decisions.balance import insufficient_balance, reseller_floor, shortfall
from core.decisions.credit import usable_limit, would_draw
from core.decisions.refusal import Refusal
from core.errors import (
    InvalidQuantity,
    KamengError,
    NotRegistered,
    QuoteUsed,
    SkuNotForSale,
    UserBanned,
)
from core.models import SkuStatus, StockKind, UserStatus
from core.pricing.rules import PriceBook, UnitPrice, price_unit
from core.pricing.split import LadderTier, UnitSplit, ladder_tier, split_unit
from core.rights import is_admitted

MAX_QUANTITY = 10_000  # units in one quote or sale


def may_buy(user_status: str, is_admin: bool, sku_code: str, sku_status: str) -> KamengError | None:
    """Why this user may not buy this SKU now, or ``None``: a banned user never; a pending or
    turned-away registration not yet (admins are always in); a SKU only while on sale."""
    if user_status == UserStatus.BANNED:
        return UserBanned()
    if not is_admitted(user_status, is_admin):
        return NotRegistered(status=str(user_status))
    if sku_status != SkuStatus.ACTIVE:
        return SkuNotForSale(sku=sku_code, status=str(sku_status))
    return None


# quote ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteContext:
    """What a quote reads (``core.pricing.quotes``, one statement)."""

    user_id: int
    user_status: str
    is_admin: bool
    level_id: int
    credit_limit: int
    balance: int
    sku_id: int
    sku_code: str
    sku_name: str
    sku_status: str
    stock_kind: str
    stock: int  # available codes (meaningless for cyclic stock)
    book: PriceBook

    @property
    def available(self) -> int | None:
        """How many can be bought now (None: cyclic stock, never runs out)."""
        return None if self.stock_kind == StockKind.CYCLIC else self.stock


@dataclass(frozen=True)
class Offer:
    """A price to store as a quote and show."""

    price: UnitPrice
    quantity: int

    @property
    def total(self) -> int:
        return self.price.unit_price * self.quantity


def decide_quote(ctx: QuoteContext, quantity: int, now: datetime) -> Offer | Refusal:
    """Price ``quantity`` units for this buyer, or refuse."""
    if not 1 <= quantity <= MAX_QUANTITY:
        return Refusal(InvalidQuantity(quantity=quantity, max=MAX_QUANTITY))
    refused = may_buy(ctx.user_status, ctx.is_admin, ctx.sku_code, ctx.sku_status)
    if refused is not None:
        return Refusal(refused)
    return Offer(price_unit(ctx.book, quantity, now), quantity)


# sale -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaleContext:
    """What a purchase reads (``core.orders``, one statement): the buyer, the quote he
    presents, its SKU and supplier, and what prices and splits the sale."""

    user_id: int
    user_status: str
    is_admin: bool
    level_id: int
    credit_limit: int
    credit_blocked: KamengError | None  # the line is past due or frozen: no drawing on it
    balance: int  # as read; the floored debit settles a concurrent purchase of his
    quote_id: str
    quantity: int
    unit_price: int  # as quoted
    total: int  # as quoted
    quote_live: bool  # not expired at the time of the purchase
    quote_spent_by: int | None  # the order that already bought this quote
    sku_id: int
    sku_code: str
    sku_name: str
    sku_status: str
    stock_kind: str
    supplier_id: int
    supplier_user_id: int
    book: PriceBook
    ladder: tuple[LadderTier, ...]  # the sale's schedule (``choose_schedule``)
    commission_schedule: str  # its name: "default", "exclusive", "category:<id>"
    trailing_units: int  # the supplier's units sold over ``LADDER_WINDOW`` before now
    spread_supplier_bps: int  # the supplier's share of the spread
    direct_fields: str | None = None  # a direct top-up SKU's account fields (JSON)
    direct_minutes: int | None = None  # … and how long its supplier has to fulfil
    upstream_sku_id: int | None = None  # bought from an upstream when sold

    @property
    def delivered_later(self) -> bool:
        """A direct top-up, or an upstream's product: the order waits for its fulfilment."""
        return self.direct_fields is not None or self.upstream_sku_id is not None


@dataclass(frozen=True)
class Requote:
    """Not charged: the quote expired or its price changed; offer a fresh one."""

    reason: Literal["expired", "changed"]


@dataclass(frozen=True)
class Charge:
    """Charge the buyer and hand over ``quantity`` codes, each split as ``split``."""

    quantity: int
    unit_price: int
    total: int
    commission_bps: int  # the ladder rate the supplier's volume reached
    commission_tier: int  # that tier's threshold (units in 30 days)
    split: UnitSplit  # per unit
    buyer_floor: int  # the buyer's balance may not end below this

    @property
    def supplier_earning(self) -> int:
        return self.split.supplier * self.quantity

    @property
    def platform_spread(self) -> int:
        return self.split.platform_spread * self.quantity

    @property
    def platform_commission(self) -> int:
        return self.split.platform_commission * self.quantity


def decide_sale(ctx: SaleContext, now: datetime) -> Charge | Requote | Refusal:
    """What Confirm does with a quote: refuse it, requote it, or charge it."""
    if ctx.quote_spent_by is not None:
        return Refusal(QuoteUsed(order_id=ctx.quote_spent_by))
    refused = may_buy(ctx.user_status, ctx.is_admin, ctx.sku_code, ctx.sku_status)
    if refused is not None:
        return Refusal(refused)
    if not ctx.quote_live:
        return Requote("expired")
    if price_unit(ctx.book, ctx.quantity, now).unit_price != ctx.unit_price:
        return Requote("changed")
    limit = usable_limit(ctx.credit_limit, blocked=ctx.credit_blocked is not None)
    if ctx.credit_blocked is not None and ctx.credit_limit and would_draw(ctx.balance, ctx.total):
        return Refusal(ctx.credit_blocked)
    floor = reseller_floor(limit)
    if shortfall(ctx.balance, limit, ctx.total):
        return Refusal(insufficient_balance(ctx.balance, floor, ctx.total))
    tier = ladder_tier(ctx.ladder, ctx.trailing_units)
    rate_bps, supplier_bps = tier.rate_bps, ctx.spread_supplier_bps
    if ctx.upstream_sku_id is not None:
        # an upstream charges us its price, no more: owed exactly the supply price (its
        # cost), no commission taken from it, the whole spread ours
        rate_bps, supplier_bps = 0, 0
    return Charge(
        quantity=ctx.quantity,
        unit_price=ctx.unit_price,
        total=ctx.total,
        commission_bps=rate_bps,
        commission_tier=tier.min_units,
        split=split_unit(ctx.unit_price, ctx.book.supply_price, supplier_bps, rate_bps),
        buyer_floor=floor,
    )

"""Quotes: a priced offer with an id and an expiry, which a purchase must present.

Buying against an expired quote, or one whose price has since changed, yields a fresh
quote instead of a charge, so nobody pays a price they were not shown.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, SQLColumnExpression, bindparam, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock, as_utc
from core.db import Database, Driver, Prepared
from core.decisions.balance import shortfall
from core.decisions.refusal import Refusal
from core.decisions.sale import MAX_QUANTITY as MAX_QUANTITY
from core.decisions.sale import Offer, QuoteContext, decide_quote
from core.delivery.claim import upstream_stock
from core.errors import NotFound
from core.models import (
    Account,
    AccountKind,
    Code,
    CodeStatus,
    Quote,
    Sku,
    StockKind,
    UpstreamSku,
    User,
)
from core.pricing.book import book_from_signals, price_signals
from core.pricing.rules import UnitPrice


@dataclass(frozen=True)
class QuoteView:
    id: str
    sku_code: str
    sku_name: str
    quantity: int
    unit_price: int
    total: int
    price: UnitPrice
    expires_at: datetime
    balance: int
    credit_limit: int
    stock: int | None  # None: cyclic, never runs out

    @property
    def balance_after(self) -> int:
        """Below zero only on credit (see ``credit_used``); never shown past a shortfall."""
        return self.balance - self.total

    @property
    def shortfall(self) -> int:
        """How much more money the order needs (0: the balance and credit line cover it)."""
        return shortfall(self.balance, self.credit_limit, self.total)

    @property
    def credit_used(self) -> int:
        """How much of the credit line the order would leave in use."""
        return max(0, -self.balance_after) if not self.shortfall else 0

    @property
    def available(self) -> int | None:
        """How many can be bought now (None: cyclic stock, no limit)."""
        return self.stock

    @property
    def over_stock(self) -> bool:
        """More was asked for than is left: offer ``available`` instead, no Confirm."""
        return self.stock is not None and self.quantity > self.stock

    @property
    def can_confirm(self) -> bool:
        return not self.over_stock and not self.shortfall


def breakdown_json(price: UnitPrice) -> str:
    rule, promotion = price.quantity_break, price.promotion
    return json.dumps(
        {
            "base": price.base_price,
            "from_level_price": price.from_level_price,
            "break": None if rule is None else [rule.min_quantity, rule.discount_bps],
            "after_break": price.after_break,
            "promotion": None if promotion is None else [promotion.id, promotion.name],
            "capped_at_supply": price.capped_at_supply,
            "unit": price.unit_price,
        }
    )


async def available_stock(session: AsyncSession, sku: Sku) -> int | None:
    if sku.stock_kind is StockKind.CYCLIC:
        return None
    count = await session.scalar(
        select(func.count()).where(Code.sku_id == sku.id, Code.status == CodeStatus.AVAILABLE)
    )
    return int(count or 0)


def _quote_columns() -> dict[str, SQLColumnExpression[Any]]:
    """The columns of the quote's one statement, by the name each is read under: the buyer
    and the SKU, what prices it (see ``price_signals``), the buyer's balance and the SKU's
    stock."""
    signals = price_signals(bindparam("now"))
    return {
        "user_id": User.id,
        "user_status": User.status,
        "is_admin": User.is_admin,
        "level_id": User.level_id,
        "credit_limit": User.credit_limit,
        "balance": select(Account.balance)
        .where(Account.kind == AccountKind.RESELLER_BALANCE, Account.owner_id == User.id)
        .scalar_subquery(),
        "sku_id": Sku.id,
        "sku_code": Sku.code,
        "sku_name": Sku.name,
        "sku_status": Sku.status,
        "stock_kind": Sku.stock_kind,
        "supply_price": Sku.supply_price,
        "default_price": Sku.default_price,
        "level_price": signals.level_price,
        "may_have_rules": signals.may_have_rules,
        # codes in stock, and an upstream's SKU's stock as its last sync saw it (NULL:
        # unlimited); ``_stock`` adds them by the one rule, ``upstream_stock``
        "codes": select(func.count())
        .where(Code.sku_id == Sku.id, Code.status == CodeStatus.AVAILABLE)
        .scalar_subquery(),
        "is_upstream": exists().where(UpstreamSku.sku_id == Sku.id),
        "upstream_stock": select(UpstreamSku.stock)
        .where(UpstreamSku.sku_id == Sku.id)
        .scalar_subquery(),
    }


def _stock(row: dict[str, Any]) -> int:
    """What the quote may sell: the codes in stock, or for an upstream's SKU
    ``upstream_stock`` (its stock and our late codes, as the storefront shows it), an
    unlimited one capped at the most one order may ask."""
    codes = int(row["codes"] or 0)
    if not row["is_upstream"]:
        return codes
    left = upstream_stock(row["upstream_stock"], codes)
    return MAX_QUANTITY if left is None else left


def _quote_statement() -> Select[Any]:
    return (
        select(*_QUOTE_COLUMNS.values())
        .select_from(User)
        .outerjoin(Sku, Sku.code == bindparam("sku_code"))
        .where(User.telegram_id == bindparam("telegram_id"))
    )


_QUOTE_COLUMNS = _quote_columns()
_QUOTE = Prepared(_quote_statement())
_STORE_QUOTE = Prepared(
    insert(Quote).values(
        id=bindparam("id"),
        user_id=bindparam("user_id"),
        sku_id=bindparam("sku_id"),
        quantity=bindparam("quantity"),
        unit_price=bindparam("unit_price"),
        total=bindparam("total"),
        breakdown=bindparam("breakdown"),
        created_at=bindparam("now"),
        expires_at=bindparam("expires_at"),
    )
)


async def load_quote_context(
    session: AsyncSession, driver: Driver, telegram_id: int, sku_code: str, now: datetime
) -> QuoteContext:
    """One statement; the SKU's full price book too only when a quantity break or a live
    promotion might apply (``price_signals``)."""
    rows = await driver.rows(
        _QUOTE, {"telegram_id": telegram_id, "sku_code": sku_code.upper(), "now": now}
    )
    if not rows:
        raise NotFound(kind="user", ref=str(telegram_id))
    row = dict(zip(_QUOTE_COLUMNS, rows[0], strict=True))
    if row["sku_id"] is None:
        raise NotFound(kind="sku", ref=sku_code)
    if row["balance"] is None:
        raise NotFound(kind="account", ref=f"{AccountKind.RESELLER_BALANCE}:{row['user_id']}")
    book = await book_from_signals(session, row, now)
    return QuoteContext(
        user_id=row["user_id"],
        user_status=row["user_status"],
        is_admin=bool(row["is_admin"]),
        level_id=row["level_id"],
        credit_limit=row["credit_limit"],
        balance=int(row["balance"]),
        sku_id=row["sku_id"],
        sku_code=row["sku_code"],
        sku_name=row["sku_name"],
        sku_status=row["sku_status"],
        stock_kind=row["stock_kind"],
        stock=_stock(row),
        book=book,
    )


async def issue_quote(
    session: AsyncSession,
    telegram_id: int,
    sku_code: str,
    quantity: int,
    now: datetime,
    ttl: timedelta,
) -> QuoteView:
    """Load → decide → write, in the caller's transaction: the buyer's quote for
    ``quantity`` of ``sku_code``, stored with an id and an expiry."""
    driver = await Driver.of(session)
    ctx = await load_quote_context(session, driver, telegram_id, sku_code, now)
    decision = decide_quote(ctx, quantity, now)
    if isinstance(decision, Refusal):
        raise decision.error
    return await _store_quote(driver, ctx, decision, now + ttl, now)


async def _store_quote(
    driver: Driver, ctx: QuoteContext, offer: Offer, expires_at: datetime, now: datetime
) -> QuoteView:
    quote_id = secrets.token_urlsafe(9)
    await driver.rows(
        _STORE_QUOTE,
        {
            "id": quote_id,
            "user_id": ctx.user_id,
            "sku_id": ctx.sku_id,
            "quantity": offer.quantity,
            "unit_price": offer.price.unit_price,
            "total": offer.total,
            "breakdown": breakdown_json(offer.price),
            "now": now,
            "expires_at": expires_at,
        },
    )
    return QuoteView(
        id=quote_id,
        sku_code=ctx.sku_code,
        sku_name=ctx.sku_name,
        quantity=offer.quantity,
        unit_price=offer.price.unit_price,
        total=offer.total,
        price=offer.price,
        expires_at=as_utc(expires_at),
        balance=ctx.balance,
        credit_limit=ctx.credit_limit,
        stock=ctx.available,
    )


class Quotes:
    def __init__(self, db: Database, clock: Clock, ttl: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl

    async def quote(self, telegram_id: int, sku_code: str, quantity: int) -> QuoteView:
        now = self._clock.now()
        async with self._db.transaction() as session:
            return await issue_quote(session, telegram_id, sku_code, quantity, now, self._ttl)

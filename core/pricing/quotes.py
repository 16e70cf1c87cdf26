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

from sqlalchemy import Select, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import Clock, as_utc
from core.db import Database, Driver, Prepared
from core.errors import InvalidQuantity, NotFound, NotRegistered, SkuNotForSale, UserBanned
from core.ledger import balance_of
from core.models import (
    Account,
    AccountKind,
    Code,
    CodeStatus,
    Quote,
    Sku,
    SkuStatus,
    StockKind,
    User,
    UserStatus,
)
from core.pricing.book import load_price_book, price_signals
from core.pricing.rules import PriceBook, UnitPrice, price_unit

MAX_QUANTITY = 10_000


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
        return max(0, self.total - (self.balance + self.credit_limit))

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


def check_quantity(quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidQuantity(quantity=quantity, max=MAX_QUANTITY)


def check_can_buy(user: User, sku: Sku) -> None:
    if user.status is UserStatus.BANNED:
        raise UserBanned()
    if user.status is not UserStatus.ACTIVE and not user.is_admin:
        raise NotRegistered(status=user.status.value)
    if sku.status is not SkuStatus.ACTIVE:
        raise SkuNotForSale(sku=sku.code, status=sku.status.value)


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


async def price_for(
    session: AsyncSession, user: User, sku: Sku, quantity: int, at: datetime
) -> UnitPrice:
    book = await load_price_book(session, sku, user.level_id, at)
    return price_unit(book, quantity, at)


async def priced(
    session: AsyncSession,
    *,
    user_id: int,
    sku_id: int,
    level_id: int,
    supply_price: int,
    default_price: int,
    level_price: int | None,
    may_have_rules: bool,
    quantity: int,
    at: datetime,
) -> UnitPrice:
    """The unit price from what ``price_signals`` read; the full book only when needed."""
    if not may_have_rules:
        book = PriceBook(supply_price, default_price, level_id, level_price)
        return price_unit(book, quantity, at)
    user = await session.get(User, user_id)
    sku = await session.get(Sku, sku_id)
    assert user is not None and sku is not None
    return await price_for(session, user, sku, quantity, at)


async def issue_quote(
    session: AsyncSession, user: User, sku: Sku, quantity: int, now: datetime, ttl: timedelta
) -> QuoteView:
    check_quantity(quantity)
    check_can_buy(user, sku)
    price = await price_for(session, user, sku, quantity, now)
    quote = Quote(
        id=secrets.token_urlsafe(9),
        user_id=user.id,
        sku_id=sku.id,
        quantity=quantity,
        unit_price=price.unit_price,
        total=price.unit_price * quantity,
        breakdown=breakdown_json(price),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(quote)
    await session.flush()
    return QuoteView(
        id=quote.id,
        sku_code=sku.code,
        sku_name=sku.name,
        quantity=quantity,
        unit_price=quote.unit_price,
        total=quote.total,
        price=price,
        expires_at=as_utc(quote.expires_at),
        balance=await balance_of(session, AccountKind.RESELLER_BALANCE, user.id),
        credit_limit=user.credit_limit,
        stock=await available_stock(session, sku),
    )


def _quote_context() -> Select[Any]:
    """The buyer and the SKU, what prices it (see ``price_signals``), the buyer's balance
    and the SKU's stock, in one statement."""
    signals = price_signals(bindparam("now"))
    balance = (
        select(Account.balance)
        .where(Account.kind == AccountKind.RESELLER_BALANCE, Account.owner_id == User.id)
        .scalar_subquery()
    )
    stock = (
        select(func.count())
        .where(Code.sku_id == Sku.id, Code.status == CodeStatus.AVAILABLE)
        .scalar_subquery()
    )
    return (
        select(
            User.id,
            User.status,
            User.level_id,
            User.credit_limit,
            balance,
            Sku.id,
            Sku.code,
            Sku.name,
            Sku.status,
            Sku.stock_kind,
            Sku.supply_price,
            Sku.default_price,
            signals.level_price,
            signals.may_have_rules,
            stock,
        )
        .select_from(User)
        .outerjoin(Sku, Sku.code == bindparam("sku_code"))
        .where(User.telegram_id == bindparam("telegram_id"))
    )


_QUOTE_CONTEXT = Prepared(_quote_context())
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


class Quotes:
    def __init__(self, db: Database, clock: Clock, ttl: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl

    async def quote(self, telegram_id: int, sku_code: str, quantity: int) -> QuoteView:
        check_quantity(quantity)
        now = self._clock.now()
        async with self._db.transaction() as session:
            driver = await Driver.of(session)
            rows = await driver.rows(
                _QUOTE_CONTEXT,
                {"telegram_id": telegram_id, "sku_code": sku_code.upper(), "now": now},
            )
            if not rows:
                raise NotFound(kind="user", ref=str(telegram_id))
            (
                user_id,
                user_status,
                level_id,
                credit_limit,
                balance,
                sku_id,
                code,
                name,
                sku_status,
                stock_kind,
                supply_price,
                default_price,
                level_price,
                may_have_rules,
                stock,
            ) = rows[0]
            if sku_id is None:
                raise NotFound(kind="sku", ref=sku_code)
            if balance is None:
                raise NotFound(kind="account", ref=f"{AccountKind.RESELLER_BALANCE}:{user_id}")
            if user_status == UserStatus.BANNED:
                raise UserBanned()
            if user_status != UserStatus.ACTIVE and not await session.scalar(
                select(User.is_admin).where(User.id == user_id)
            ):  # waiting for approval or turned away; admins are always in
                raise NotRegistered(status=str(user_status))
            if sku_status != SkuStatus.ACTIVE:
                raise SkuNotForSale(sku=code, status=str(sku_status))
            price = await priced(
                session,
                user_id=user_id,
                sku_id=sku_id,
                level_id=level_id,
                supply_price=supply_price,
                default_price=default_price,
                level_price=level_price,
                may_have_rules=bool(may_have_rules),
                quantity=quantity,
                at=now,
            )
            quote_id = secrets.token_urlsafe(9)
            expires_at = now + self._ttl
            await driver.rows(
                _STORE_QUOTE,
                {
                    "id": quote_id,
                    "user_id": user_id,
                    "sku_id": sku_id,
                    "quantity": quantity,
                    "unit_price": price.unit_price,
                    "total": price.unit_price * quantity,
                    "breakdown": breakdown_json(price),
                    "now": now,
                    "expires_at": expires_at,
                },
            )
            return QuoteView(
                id=quote_id,
                sku_code=code,
                sku_name=name,
                quantity=quantity,
                unit_price=price.unit_price,
                total=price.unit_price * quantity,
                price=price,
                expires_at=as_utc(expires_at),
                balance=int(balance),
                credit_limit=credit_limit,
                stock=None if stock_kind == StockKind.CYCLIC else int(stock),
            )

"""Quotes: a priced offer with an id and an expiry, which a purchase must present.

Buying against an expired quote, or one whose price has since changed, yields a fresh
quote instead of a charge, so nobody pays a price they were not shown.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import load_sku, load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.errors import InvalidQuantity, NotRegistered, SkuNotForSale, UserBanned
from core.ledger import balance_of
from core.models import (
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
from core.pricing.book import load_price_book
from core.pricing.rules import UnitPrice, price_unit

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
        return self.balance - self.total

    @property
    def shortfall(self) -> int:
        return max(0, self.total - (self.balance + self.credit_limit))


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


class Quotes:
    def __init__(self, db: Database, clock: Clock, ttl: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl

    async def quote(self, telegram_id: int, sku_code: str, quantity: int) -> QuoteView:
        check_quantity(quantity)
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            sku = await load_sku(session, sku_code)
            return await issue_quote(session, user, sku, quantity, self._clock.now(), self._ttl)

"""Buying and refunding: the money-and-stock use cases, each one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.catalogue import load_sku, load_user
from core.clock import Clock, as_utc
from core.crypto import CodeCipher
from core.db import Database
from core.delivery.claim import claim_codes
from core.errors import IdempotencyConflict, InvalidInput, NotFound
from core.ledger import Posting, balance_of, find_transaction, platform, post
from core.models import (
    AccountKind,
    Code,
    CodeStatus,
    LedgerEntry,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    OutboxMessage,
    Quote,
    Sku,
    StockKind,
    Supplier,
    User,
)
from core.pricing.book import load_ladder, spread_supplier_bps
from core.pricing.quotes import QuoteView, check_can_buy, issue_quote, price_for
from core.pricing.split import ladder_tier, split_unit

LADDER_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class Receipt:
    order_id: int
    sku_code: str
    sku_name: str
    quantity: int
    unit_price: int
    total: int
    codes: list[str]
    balance_after: int
    created_at: datetime
    status: OrderStatus = OrderStatus.PAID
    replayed: bool = False  # the same request seen again: nothing new was charged

    def __repr__(self) -> str:  # keep codes out of logs and tracebacks
        return f"Receipt(order_id={self.order_id}, sku={self.sku_code}, qty={self.quantity})"


@dataclass(frozen=True)
class Requoted:
    """The presented quote expired or its price changed; nothing was charged."""

    quote: QuoteView
    reason: str  # "expired" | "changed"


@dataclass(frozen=True)
class OrderSummary:
    id: int
    sku_code: str
    sku_name: str
    quantity: int
    unit_price: int
    total: int
    status: OrderStatus
    created_at: datetime


@dataclass(frozen=True)
class RefundResult:
    order_id: int
    units: int
    amount: int
    replayed: bool = False


class Shop:
    def __init__(
        self, db: Database, cipher: CodeCipher, clock: Clock, quote_ttl: timedelta
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._clock = clock
        self._quote_ttl = quote_ttl

    async def buy(
        self, telegram_id: int, quote_id: str, *, idempotency_key: str | None = None
    ) -> Receipt | Requoted:
        """Charge for a quote and hand over its codes, once per idempotency key.

        The key defaults to the quote id, so pressing Confirm twice buys once."""
        key = idempotency_key or f"quote:{quote_id}"
        try:
            return await self._buy_once(telegram_id, quote_id, key)
        except IntegrityError:
            # A concurrent request with the same key committed first: answer with its order.
            async with self._db.reading() as session:
                existing = await self._order_by_key(session, key)
                if existing is None:
                    raise
                return await self._replay(session, existing, telegram_id)

    async def buy_now(
        self, telegram_id: int, sku_code: str, quantity: int, *, idempotency_key: str
    ) -> Receipt | Requoted:
        """Quote and buy in one go (operator CLI, HTTP API)."""
        async with self._db.reading() as session:
            existing = await self._order_by_key(session, idempotency_key)
            if existing is not None:
                return await self._replay(session, existing, telegram_id)
        quote = await self._issue(telegram_id, sku_code, quantity)
        return await self.buy(telegram_id, quote.id, idempotency_key=idempotency_key)

    async def _issue(self, telegram_id: int, sku_code: str, quantity: int) -> QuoteView:
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            sku = await load_sku(session, sku_code)
            return await issue_quote(
                session, user, sku, quantity, self._clock.now(), self._quote_ttl
            )

    async def _buy_once(self, telegram_id: int, quote_id: str, key: str) -> Receipt | Requoted:
        now = self._clock.now()
        async with self._db.transaction() as session:
            existing = await self._order_by_key(session, key)
            if existing is not None:
                return await self._replay(session, existing, telegram_id)
            user = await load_user(session, telegram_id)
            quote = await session.get(Quote, quote_id)
            if quote is None or quote.user_id != user.id:
                raise NotFound(kind="quote", ref=quote_id)
            sku = await session.get(Sku, quote.sku_id)
            assert sku is not None
            check_can_buy(user, sku)
            if as_utc(quote.expires_at) <= now:
                fresh = await issue_quote(session, user, sku, quote.quantity, now, self._quote_ttl)
                return Requoted(fresh, "expired")
            price = await price_for(session, user, sku, quote.quantity, now)
            if price.unit_price != quote.unit_price:
                fresh = await issue_quote(session, user, sku, quote.quantity, now, self._quote_ttl)
                return Requoted(fresh, "changed")
            return await self._charge_and_deliver(session, user, sku, quote, key, now)

    async def _charge_and_deliver(
        self, session: AsyncSession, user: User, sku: Sku, quote: Quote, key: str, now: datetime
    ) -> Receipt | Requoted:
        supplier = await session.get(Supplier, sku.supplier_id)
        assert supplier is not None
        units_30d = await session.scalar(
            select(func.coalesce(func.sum(Order.quantity), 0)).where(
                Order.supplier_id == supplier.id, Order.created_at >= now - LADDER_WINDOW
            )
        )
        tier = ladder_tier(await load_ladder(session, sku.exclusive), int(units_30d or 0))
        split = split_unit(
            quote.unit_price, sku.supply_price, await spread_supplier_bps(session), tier.rate_bps
        )
        order = Order(
            idempotency_key=key,
            user_id=user.id,
            sku_id=sku.id,
            supplier_id=supplier.id,
            quote_id=quote.id,
            quantity=quote.quantity,
            unit_price=quote.unit_price,
            total=quote.total,
            commission_bps=tier.rate_bps,
            status=OrderStatus.PAID,
            created_at=now,
        )
        session.add(order)
        await session.flush()
        n = quote.quantity
        # Debit first: a reseller who cannot pay never locks any stock.
        await post(
            session,
            key=f"order:{key}",
            kind="purchase",
            order_id=order.id,
            now=now,
            postings=[
                Posting(
                    AccountKind.RESELLER_BALANCE, user.id, -quote.total, floor=-user.credit_limit
                ),
                Posting(AccountKind.SUPPLIER_PAYABLE, supplier.id, split.supplier * n),
                platform(AccountKind.PLATFORM_SPREAD, split.platform_spread * n),
                platform(AccountKind.PLATFORM_COMMISSION, split.platform_commission * n),
            ],
        )
        claimed = await claim_codes(session, sku, n)
        await session.execute(
            insert(OrderLine),
            [
                {
                    "order_id": order.id,
                    "code_id": code.id,
                    "price": quote.unit_price,
                    "supplier_amount": split.supplier,
                    "platform_spread": split.platform_spread,
                    "platform_commission": split.platform_commission,
                    "status": LineStatus.DELIVERED.value,
                }
                for code in claimed
            ],
        )
        session.add(
            OutboxMessage(
                kind="sale",
                user_id=supplier.user_id,
                payload=json.dumps(
                    {
                        "order_id": order.id,
                        "sku": sku.code,
                        "quantity": n,
                        "earning": split.supplier * n,
                        "commission_bps": tier.rate_bps,
                    }
                ),
                created_at=now,
                available_at=now,
                attempts=0,
            )
        )
        await audit.append(
            session,
            action="sale",
            actor=f"user:{user.telegram_id}",
            subject=f"order:{order.id}",
            payload={
                "sku": sku.code,
                "quantity": n,
                "total": quote.total,
                "supplier": split.supplier * n,
                "commission_bps": tier.rate_bps,
            },
            now=now,
        )
        balance = await balance_of(session, AccountKind.RESELLER_BALANCE, user.id)
        return Receipt(
            order_id=order.id,
            sku_code=sku.code,
            sku_name=sku.name,
            quantity=n,
            unit_price=quote.unit_price,
            total=quote.total,
            codes=[self._cipher.decrypt(c.ciphertext) for c in claimed],
            balance_after=balance,
            created_at=now,
        )

    async def _order_by_key(self, session: AsyncSession, key: str) -> Order | None:
        return await session.scalar(select(Order).where(Order.idempotency_key == key))

    async def _replay(self, session: AsyncSession, order: Order, telegram_id: int) -> Receipt:
        user = await load_user(session, telegram_id)
        if order.user_id != user.id:
            raise IdempotencyConflict(key=order.idempotency_key)
        receipt = await self._receipt(session, order)
        return Receipt(**{**receipt.__dict__, "replayed": True})

    async def _receipt(self, session: AsyncSession, order: Order) -> Receipt:
        sku = await session.get(Sku, order.sku_id)
        assert sku is not None
        rows = await session.execute(
            select(Code.ciphertext)
            .join(OrderLine, OrderLine.code_id == Code.id)
            .where(OrderLine.order_id == order.id)
            .order_by(OrderLine.id)
        )
        return Receipt(
            order_id=order.id,
            sku_code=sku.code,
            sku_name=sku.name,
            quantity=order.quantity,
            unit_price=order.unit_price,
            total=order.total,
            codes=[self._cipher.decrypt(r.ciphertext) for r in rows],
            balance_after=await balance_of(session, AccountKind.RESELLER_BALANCE, order.user_id),
            created_at=as_utc(order.created_at),
            status=order.status,
        )

    # history ---------------------------------------------------------------

    async def order(self, telegram_id: int, order_id: int) -> Receipt:
        """An order's receipt with its codes again; only its buyer may see it."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            order = await session.get(Order, order_id)
            if order is None or order.user_id != user.id:
                raise NotFound(kind="order", ref=str(order_id))
            return await self._receipt(session, order)

    async def orders(
        self, telegram_id: int, *, offset: int = 0, limit: int = 10
    ) -> tuple[list[OrderSummary], int]:
        """Newest first, with the total count for paging."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            total = await session.scalar(
                select(func.count()).select_from(Order).where(Order.user_id == user.id)
            )
            rows = await session.execute(
                select(Order, Sku.code, Sku.name)
                .join(Sku, Sku.id == Order.sku_id)
                .where(Order.user_id == user.id)
                .order_by(Order.created_at.desc(), Order.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return [
                OrderSummary(
                    o.id,
                    code,
                    name,
                    o.quantity,
                    o.unit_price,
                    o.total,
                    o.status,
                    as_utc(o.created_at),
                )
                for o, code, name in rows
            ], int(total or 0)

    # refunds ---------------------------------------------------------------

    async def refund(
        self,
        order_id: int,
        *,
        units: int | None = None,
        restock: bool,
        idempotency_key: str,
        actor: str,
        reason: str = "",
    ) -> RefundResult:
        """Refund ``units`` delivered units of an order (all when ``None``), newest first.

        Reverses each unit's split exactly; its code goes back to stock or is voided."""
        now = self._clock.now()
        key = f"refund:{idempotency_key}"
        async with self._db.transaction() as session:
            order = await session.get(Order, order_id)
            if order is None:
                raise NotFound(kind="order", ref=str(order_id))
            done = await find_transaction(session, key)
            if done is not None:
                if done.order_id != order_id:
                    raise IdempotencyConflict(key=idempotency_key)
                refunded = await session.scalar(
                    select(func.sum(LedgerEntry.amount)).where(
                        LedgerEntry.transaction_id == done.id, LedgerEntry.amount > 0
                    )
                )
                amount = int(refunded or 0)
                return RefundResult(order_id, amount // order.unit_price, amount, replayed=True)
            lines = list(
                await session.scalars(
                    select(OrderLine)
                    .where(
                        OrderLine.order_id == order_id,
                        OrderLine.status == LineStatus.DELIVERED,
                    )
                    .order_by(OrderLine.id.desc())
                )
            )
            wanted = len(lines) if units is None else units
            if wanted < 1 or wanted > len(lines):
                raise InvalidInput(field="units", value=wanted, refundable=len(lines))
            chosen = lines[:wanted]
            sku = await session.get(Sku, order.sku_id)
            assert sku is not None
            amount = sum(line.price for line in chosen)
            await post(
                session,
                key=key,
                kind="refund",
                order_id=order.id,
                now=now,
                memo=reason,
                postings=[
                    Posting(AccountKind.RESELLER_BALANCE, order.user_id, amount),
                    Posting(
                        AccountKind.SUPPLIER_PAYABLE,
                        order.supplier_id,
                        -sum(line.supplier_amount for line in chosen),
                    ),
                    platform(
                        AccountKind.PLATFORM_SPREAD, -sum(ln.platform_spread for ln in chosen)
                    ),
                    platform(
                        AccountKind.PLATFORM_COMMISSION,
                        -sum(ln.platform_commission for ln in chosen),
                    ),
                ],
            )
            for line in chosen:
                line.status = LineStatus.REFUNDED
            if sku.stock_kind is StockKind.UNIQUE:
                await session.execute(
                    update(Code)
                    .where(Code.id.in_([line.code_id for line in chosen]))
                    .values(status=CodeStatus.AVAILABLE if restock else CodeStatus.VOIDED)
                    .execution_options(synchronize_session=False)
                )
            order.status = (
                OrderStatus.REFUNDED
                if wanted == len(lines) and all(ln.status is LineStatus.REFUNDED for ln in lines)
                else OrderStatus.PARTLY_REFUNDED
            )
            await audit.append(
                session,
                action="refund",
                actor=actor,
                subject=f"order:{order.id}",
                payload={"units": wanted, "amount": amount, "restock": restock, "reason": reason},
                now=now,
            )
            return RefundResult(order.id, wanted, amount)

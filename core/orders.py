"""Buying and refunding: the money-and-stock use cases, each one transaction."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import BindParameter

from core import audit, order_callbacks
from core.apikeys import ClientKey, remember_client_key
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.crypto import CodeCipher
from core.db import Database, Driver, Prepared
from core.decisions.account_fields import upstream_fields
from core.decisions.fulfilment import OPEN, CheckedAccount, fields_to_json, stock_unit
from core.decisions.refund import (
    ChargedLine,
    RefundContext,
    code_status_after_refund,
    decide_refund,
    order_status_after_refund,
    reverse,
)
from core.decisions.refusal import Refusal
from core.decisions.sale import Charge, Requote, SaleContext, decide_sale
from core.delivery.claim import ClaimedCode, claim_on, claim_up_to
from core.delivery.codes import CardCode
from core.errors import (
    CreditBlocked,
    IdempotencyConflict,
    InvalidInput,
    KamengError,
    NotFound,
)
from core.fulfilment import (
    UPSTREAM_DEADLINE_MINUTES,
    FulfilmentInfo,
    Refunded,
    StateChange,
    announce,
    checked_account,
    fulfilment_info,
    hold_postings,
    settle,
    write_direct_order,
)
from core.ledger import Posting, balance_of, find_transaction, platform, post, post_on
from core.models import (
    Account,
    AccountKind,
    ApiIdempotencyKey,
    Code,
    CodeStatus,
    CreditLine,
    DirectSku,
    Fulfilment,
    FulfilmentCode,
    LedgerEntry,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    OutboxMessage,
    PlatformPolicy,
    Quote,
    QuoteAccount,
    Sku,
    Supplier,
    SupplierDailyUnits,
    UpstreamSku,
    User,
)
from core.pricing.book import (
    book_from_signals,
    category_ladder_column,
    ladder_column,
    parse_ladder,
    price_signals,
)
from core.pricing.quotes import QuoteView, issue_quote
from core.pricing.split import LADDER_WINDOW, choose_schedule

log = logging.getLogger("kameng.orders")

#: what a front keeps with a new order, written in the sale's own transaction (its id given)
Keep = Callable[[AsyncSession, int], Awaitable[None]]


def _sale_columns() -> dict[str, SQLColumnExpression[Any]]:
    """The columns of the purchase's one statement, by the name each is read under: the
    buyer, their quote, its SKU and supplier, and what prices and splits the sale (the
    price signals, see ``price_signals``; the SKU's ladder and the supplier's volume over
    the trailing window; the platform's spread ratio); plus an order already made with
    this key and one that already bought this quote (under any key)."""
    now: BindParameter[datetime] = bindparam("now")
    signals = price_signals(now)
    spent_by = select(Order.id).where(Order.quote_id == Quote.id).correlate(Quote)
    return {
        "user_id": User.id,
        "user_status": User.status,
        "is_admin": User.is_admin,
        "level_id": User.level_id,
        "credit_limit": User.credit_limit,
        "credit_blocked": select(CreditLine.due_on)  # past due or frozen: no drawing
        .where(
            CreditLine.user_id == User.id,
            or_(CreditLine.frozen.is_(True), CreditLine.due_at <= now),
        )
        .scalar_subquery(),
        "credit_frozen": select(CreditLine.frozen)
        .where(CreditLine.user_id == User.id)
        .scalar_subquery(),
        "balance": select(Account.balance)
        .where(Account.kind == AccountKind.RESELLER_BALANCE, Account.owner_id == User.id)
        .scalar_subquery(),
        "existing_order_id": select(Order.id)
        .where(Order.idempotency_key == bindparam("key"))
        .scalar_subquery(),
        "quote_id": Quote.id,
        "quantity": Quote.quantity,
        "unit_price": Quote.unit_price,
        "total": Quote.total,
        "quote_live": Quote.expires_at > now,  # compared in SQL: driver rows are untyped
        "quote_spent_by": spent_by.scalar_subquery(),
        "sku_id": Sku.id,
        "sku_code": Sku.code,
        "sku_name": Sku.name,
        "sku_status": Sku.status,
        "stock_kind": Sku.stock_kind,
        "supply_price": Sku.supply_price,
        "default_price": Sku.default_price,
        "supplier_id": Sku.supplier_id,
        "supplier_user_id": Supplier.user_id,
        "level_price": signals.level_price,
        "may_have_rules": signals.may_have_rules,
        "ladder": ladder_column(Sku.exclusive),  # ``ladder_tier`` picks the tier
        "exclusive": Sku.exclusive,
        "category_id": Sku.category_id,
        "category_ladder": category_ladder_column(Sku.category_id),  # its own schedule
        "trailing_units": _trailing_units(bindparam("since")),
        "spread_supplier_bps": select(PlatformPolicy.spread_supplier_bps)
        .limit(1)
        .scalar_subquery(),
        # a direct top-up SKU's account fields and deadline (NULL: a SKU of codes)
        "direct_fields": select(DirectSku.fields)
        .where(DirectSku.sku_id == Sku.id)
        .correlate(Sku)
        .scalar_subquery(),
        "direct_minutes": select(DirectSku.deadline_minutes)
        .where(DirectSku.sku_id == Sku.id)
        .correlate(Sku)
        .scalar_subquery(),
        # bought from an upstream when sold (core/procurement.py)
        "upstream_sku_id": select(UpstreamSku.id)
        .where(UpstreamSku.sku_id == Sku.id)
        .correlate(Sku)
        .scalar_subquery(),
    }


def _sale_statement() -> Select[Any]:
    return (
        select(*_SALE_COLUMNS.values())
        .select_from(User)
        .outerjoin(Quote, and_(Quote.id == bindparam("quote_id"), Quote.user_id == User.id))
        .outerjoin(Sku, Sku.id == Quote.sku_id)
        .outerjoin(Supplier, Supplier.id == Sku.supplier_id)
        .where(User.telegram_id == bindparam("telegram_id"))
    )


def _trailing_units(since: BindParameter[datetime]) -> ColumnElement[int]:
    """Units the SKU's supplier sold since ``since``: whole days from the daily counts, and
    the part of the first day after ``since`` from that day's orders (so exactly the same
    number as summing the orders of the window, with at most one day of them read)."""
    whole_days = (
        select(func.coalesce(func.sum(SupplierDailyUnits.units), 0))
        .where(
            SupplierDailyUnits.supplier_id == Sku.supplier_id,
            SupplierDailyUnits.day > bindparam("since_day"),
        )
        .correlate(Sku)  # the sale's SKU, two queries out
        .scalar_subquery()
    )
    first_day = (
        select(func.coalesce(func.sum(Order.quantity), 0))
        .where(
            Order.supplier_id == Sku.supplier_id,
            Order.created_at >= since,
            Order.created_at < bindparam("after_since_day"),
        )
        .correlate(Sku)
        .scalar_subquery()
    )
    return whole_days + first_day


def _window(now: datetime) -> dict[str, Any]:
    since = now - LADDER_WINDOW
    since_day = as_utc(since).date()
    next_midnight = datetime.combine(since_day + timedelta(days=1), time(), tzinfo=UTC)
    return {"since": since, "since_day": since_day, "after_since_day": next_midnight}


_SALE_COLUMNS = _sale_columns()
_SALE = Prepared(_sale_statement())


async def _load_sale_row(
    driver: Driver, telegram_id: int, quote_id: str, key: str, now: datetime
) -> dict[str, Any]:
    """The sale's one statement, its columns by name."""
    rows = await driver.rows(
        _SALE,
        {"telegram_id": telegram_id, "quote_id": quote_id, "key": key, "now": now, **_window(now)},
    )
    if not rows:
        raise NotFound(kind="user", ref=str(telegram_id))
    return dict(zip(_SALE_COLUMNS, rows[0], strict=True))


async def _sale_context(
    session: AsyncSession, row: dict[str, Any], quote_id: str, now: datetime
) -> SaleContext:
    if row["quote_id"] is None:
        raise NotFound(kind="quote", ref=quote_id)
    if row["balance"] is None:
        raise NotFound(kind="account", ref=f"{AccountKind.RESELLER_BALANCE}:{row['user_id']}")
    book = await book_from_signals(session, row, now)
    ladder = parse_ladder(row["ladder"])  # the SKU's flag's: exclusive, or the default
    schedule, ladder = choose_schedule(
        bool(row["exclusive"]),
        row["category_id"],
        ladder,
        ladder,
        parse_ladder(row["category_ladder"]),
    )
    return SaleContext(
        user_id=row["user_id"],
        user_status=row["user_status"],
        is_admin=bool(row["is_admin"]),
        level_id=row["level_id"],
        credit_limit=row["credit_limit"],
        credit_blocked=_credit_blocked(row),
        balance=int(row["balance"]),
        quote_id=row["quote_id"],
        quantity=row["quantity"],
        unit_price=row["unit_price"],
        total=row["total"],
        quote_live=bool(row["quote_live"]),
        quote_spent_by=row["quote_spent_by"],
        sku_id=row["sku_id"],
        sku_code=row["sku_code"],
        sku_name=row["sku_name"],
        sku_status=row["sku_status"],
        stock_kind=row["stock_kind"],
        supplier_id=row["supplier_id"],
        supplier_user_id=row["supplier_user_id"],
        book=book,
        ladder=ladder,
        commission_schedule=schedule,
        trailing_units=int(row["trailing_units"]),
        spread_supplier_bps=row["spread_supplier_bps"],
        direct_fields=row["direct_fields"],
        direct_minutes=row["direct_minutes"],
        upstream_sku_id=row["upstream_sku_id"],
    )


async def _audit_sale(
    driver: Driver,
    ctx: SaleContext,
    charge: Charge,
    telegram_id: int,
    order_id: int,
    money_to: dict[str, int],
    now: datetime,
) -> None:
    """The audit row every sale leaves. ``money_to`` says where the buyer's money went: to
    the supplier's earning (codes) or held until delivery (a direct top-up)."""
    await audit.append_on(
        driver,
        action="sale",
        actor=f"user:{telegram_id}",
        subject=f"order:{order_id}",
        payload={
            "sku": ctx.sku_code,
            "quantity": charge.quantity,
            "total": charge.total,
            **money_to,
            "commission_bps": charge.commission_bps,
        },
        now=now,
    )


def _credit_blocked(row: dict[str, Any]) -> CreditBlocked | None:
    """Why the buyer's line may not be drawn now (frozen, or past its due day), or None."""
    due = row["credit_blocked"]
    if due is None:
        return None
    due_on = due if isinstance(due, date) else date.fromisoformat(str(due))
    reason = "frozen" if row["credit_frozen"] else "overdue"
    return CreditBlocked(reason=reason, due_on=due_on.isoformat())


_UNITS: dict[str, Any] = {"supplier_id": bindparam("supplier_id"), "day": bindparam("day")}
_UNITS["units"] = bindparam("units")
_COUNT_UNITS = Prepared(  # add to today's count, or start it
    insert(SupplierDailyUnits).values(_UNITS),
    variants={
        name: dialect_insert(SupplierDailyUnits)
        .values(_UNITS)
        .on_conflict_do_update(
            index_elements=[SupplierDailyUnits.supplier_id, SupplierDailyUnits.day],
            set_={"units": SupplierDailyUnits.units + bindparam("units")},
        )
        for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
    },
)
_ORDER = Prepared(
    insert(Order)
    .values(
        idempotency_key=bindparam("key"),
        user_id=bindparam("user_id"),
        sku_id=bindparam("sku_id"),
        supplier_id=bindparam("supplier_id"),
        quote_id=bindparam("quote_id"),
        quantity=bindparam("quantity"),
        unit_price=bindparam("unit_price"),
        total=bindparam("total"),
        commission_bps=bindparam("commission_bps"),
        commission_schedule=bindparam("commission_schedule"),
        commission_tier=bindparam("commission_tier"),
        status=OrderStatus.PAID,
        created_at=bindparam("now"),
    )
    .returning(Order.id)
)
_LINE = Prepared(
    insert(OrderLine).values(
        order_id=bindparam("order_id"),
        code_id=bindparam("code_id"),
        price=bindparam("price"),
        supplier_amount=bindparam("supplier_amount"),
        platform_spread=bindparam("platform_spread"),
        platform_commission=bindparam("platform_commission"),
        status=LineStatus.DELIVERED,
    )
)
_OUTBOX = Prepared(
    insert(OutboxMessage).values(
        kind="sale",
        user_id=bindparam("user_id"),
        payload=bindparam("payload"),
        created_at=bindparam("now"),
        available_at=bindparam("now"),
        attempts=0,
    )
)


_ORDER_BY_KEY = Prepared(select(Order.id).where(Order.idempotency_key == bindparam("key")))


async def _order_id_by_key(driver: Driver, key: str) -> int | None:
    rows = await driver.rows(_ORDER_BY_KEY, {"key": key})
    return int(rows[0][0]) if rows else None


@dataclass(frozen=True)
class Receipt:
    order_id: int
    sku_code: str
    sku_name: str
    quantity: int
    unit_price: int
    total: int
    codes: list[str]  # as stored: a plain code's text, or a structured code's canonical JSON
    balance_after: int
    created_at: datetime
    status: OrderStatus = OrderStatus.PAID
    replayed: bool = False  # the same request seen again: nothing new was charged
    fulfilment: FulfilmentInfo | None = None  # an order delivered later (direct top-up)
    refunded: frozenset[int] = frozenset()  # indexes in ``codes`` refunded after the sale

    @property
    def kept_codes(self) -> list[str]:
        """The codes the buyer keeps: ``codes`` without those refunded after the sale."""
        return [code for i, code in enumerate(self.codes) if i not in self.refunded]

    @property
    def cards(self) -> list[CardCode]:
        """The codes with their fields (card number, password, …), for showing."""
        return [CardCode.from_stored(code) for code in self.codes]

    def __repr__(self) -> str:  # keep codes out of logs and tracebacks
        return f"Receipt(order_id={self.order_id}, sku={self.sku_code}, qty={self.quantity})"


@dataclass(frozen=True)
class _Asked:
    """What a purchase request asked for, to tell a replay from a reused key: a quote
    (``buy``), or a SKU and a quantity (``buy_now``, whose quote is made afresh each time)."""

    quote_id: str | None = None
    sku_code: str | None = None
    quantity: int | None = None

    async def matches(self, session: AsyncSession, order: Order) -> bool:
        if self.quote_id is not None:
            return order.quote_id == self.quote_id
        if order.quantity != self.quantity:
            return False
        return await session.scalar(select(Sku.code).where(Sku.id == order.sku_id)) == (
            self.sku_code
        )


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


def _order_row(ctx: SaleContext, charge: Charge, key: str, now: datetime) -> dict[str, object]:
    """The parameters of ``_ORDER``: one place, whichever way the order is delivered."""
    return {
        "key": key,
        "user_id": ctx.user_id,
        "sku_id": ctx.sku_id,
        "supplier_id": ctx.supplier_id,
        "quote_id": ctx.quote_id,
        "quantity": charge.quantity,
        "unit_price": charge.unit_price,
        "total": charge.total,
        "commission_bps": charge.commission_bps,
        "commission_schedule": ctx.commission_schedule,
        "commission_tier": charge.commission_tier,
        "now": now,
    }


class Shop:
    def __init__(
        self,
        db: Database,
        cipher: CodeCipher,
        clock: Clock,
        quote_ttl: timedelta,
        *,
        procure: Callable[[int], Awaitable[object]] | None = None,
    ) -> None:
        self._procure = procure  # an upstream's SKU sold: order it there (core/procurement.py)
        self._db = db
        self._cipher = cipher
        self._clock = clock
        self._quote_ttl = quote_ttl

    async def buy(
        self,
        telegram_id: int,
        quote_id: str,
        *,
        idempotency_key: str | None = None,
        client_key: ClientKey | None = None,
        account: Mapping[str, object] | None = None,
    ) -> Receipt | Requoted:
        """Charge for a quote and hand over its codes, once per idempotency key.

        The key defaults to the quote id, so pressing Confirm twice buys once; an API
        client's ``client_key`` gives it and is remembered in the same transaction. A quote
        is spent once: bought under another key it is refused with ``QuoteUsed`` (the unique
        index on ``orders.quote_id`` settles a race). A key already used for another quote
        is refused (``IdempotencyConflict``)."""
        if client_key is not None:
            idempotency_key = client_key.order_key
        key = idempotency_key or f"quote:{quote_id}"
        return await self._buy(telegram_id, key, _Asked(quote_id=quote_id), client_key, account)

    async def buy_now(
        self,
        telegram_id: int,
        sku_code: str,
        quantity: int,
        *,
        idempotency_key: str | None = None,
        client_key: ClientKey | None = None,
        account: Mapping[str, object] | None = None,
        keep: Keep | None = None,
    ) -> Receipt | Requoted:
        """Quote and buy in one transaction (operator CLI, HTTP API). The same key with the
        same SKU and quantity replays the first order; with another SKU or quantity it is
        refused (``IdempotencyConflict``), whichever front asks. An API client's
        ``client_key`` gives the key and is remembered in the same transaction. ``keep``
        writes what the caller keeps with a new order (a Dujiao-Next shop's order number
        and callback URL) in the sale's transaction: the two commit together or not at all;
        a replay does not call it."""
        key = client_key.order_key if client_key is not None else idempotency_key
        if not key:
            raise ValueError("buy_now needs an idempotency key")
        asked = _Asked(sku_code=sku_code.upper(), quantity=quantity)
        return await self._buy(telegram_id, key, asked, client_key, account, keep)

    async def _buy(
        self,
        telegram_id: int,
        key: str,
        asked: _Asked,
        client_key: ClientKey | None,
        account: Mapping[str, object] | None = None,
        keep: Keep | None = None,
    ) -> Receipt | Requoted:
        try:
            try:
                result = await self._buy_once(telegram_id, key, asked, client_key, account, keep)
            except IntegrityError:
                # A concurrent request committed first (an order with this key, or this
                # quote bought under another key): the second try sees its rows, and
                # replays or refuses as if it had come second.
                result = await self._buy_once(telegram_id, key, asked, client_key, account, keep)
        except KamengError as refusal:
            if client_key is not None and not isinstance(refusal, IdempotencyConflict):
                await self._remember_refused(client_key)
            raise
        return await self._procured(telegram_id, result)

    async def _procured(self, telegram_id: int, result: Receipt | Requoted) -> Receipt | Requoted:
        """A new sale of an upstream's SKU: ordered there now, after the sale committed (a
        crash in between is recovered by the poll); the receipt as it stands then (codes
        at once when the upstream had them)."""
        if (
            self._procure is None
            or not isinstance(result, Receipt)
            or result.replayed
            or result.fulfilment is None
            or result.fulfilment.source != "upstream"
            or result.status not in OPEN  # all from our late stock: nothing to buy there
        ):
            return result
        try:
            await self._procure(result.order_id)
        except KamengError as error:  # paid and held: the poll asks the upstream again
            log.warning("order %s: not placed upstream yet (%s)", result.order_id, error.code)
            return result
        after = await self.order(telegram_id, result.order_id)
        return Receipt(**{**after.__dict__, "balance_after": after.balance_after})

    async def _remember_refused(self, client_key: ClientKey) -> None:
        """A refused order rolled its client key back with it: bind the key to the request
        anyway, so that the key reused for another request is refused like any reuse."""
        with contextlib.suppress(IdempotencyConflict):  # another request took it meanwhile
            async with self._db.transaction() as session:
                driver = await Driver.of(session)
                await remember_client_key(driver, client_key, self._clock.now())

    async def _buy_once(
        self,
        telegram_id: int,
        key: str,
        asked: _Asked,
        client_key: ClientKey | None,
        account: Mapping[str, object] | None = None,
        keep: Keep | None = None,
    ) -> Receipt | Requoted:
        """What happens on Confirm: load the sale's context (one statement), decide (pure,
        ``decide_sale``), write the decision, all in one transaction; with the API
        client's key remembered and, for ``buy_now``, the quote issued in it too."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            driver = await Driver.of(session)
            first_use = client_key is not None and (
                await remember_client_key(driver, client_key, now)
            )
            quote_id = asked.quote_id
            if quote_id is None:  # buy_now: a replay answers before any new quote is made
                # (a client key used for the first time has no order yet)
                existing_id = None if first_use else await _order_id_by_key(driver, key)
                if existing_id is not None:
                    existing = await session.get(Order, existing_id)
                    assert existing is not None
                    return await self._replay(session, existing, telegram_id, asked)
                assert asked.sku_code is not None and asked.quantity is not None
                quote = await issue_quote(
                    session, telegram_id, asked.sku_code, asked.quantity, now, self._quote_ttl
                )
                quote_id = quote.id
            row = await _load_sale_row(driver, telegram_id, quote_id, key, now)
            if row["existing_order_id"] is not None:  # this key bought already
                existing = await session.get(Order, row["existing_order_id"])
                assert existing is not None
                return await self._replay(session, existing, telegram_id, asked)
            ctx = await _sale_context(session, row, quote_id, now)
            match decide_sale(ctx, now):
                case Refusal(error):
                    raise error
                case Requote(reason):
                    fresh = await issue_quote(
                        session, telegram_id, ctx.sku_code, ctx.quantity, now, self._quote_ttl
                    )
                    return Requoted(fresh, reason)
                case Charge() as charge if ctx.delivered_later:
                    receipt = await self._write_direct_sale(
                        session, driver, ctx, charge, telegram_id, key, account, now
                    )
                    if keep is not None:
                        await keep(session, receipt.order_id)
                    return receipt
                case Charge() as charge:
                    receipt = await self._write_sale(driver, ctx, charge, telegram_id, key, now)
                    if keep is not None:
                        await keep(session, receipt.order_id)
                    await order_callbacks.enqueue(  # the buyer's shop hears of it, if it asked
                        session,
                        user_id=ctx.user_id,
                        order_id=receipt.order_id,
                        event=order_callbacks.DELIVERED,
                        status=OrderStatus.PAID.value,
                        now=now,
                        external_id=None if client_key is None else client_key.key,
                        details={
                            "sku": receipt.sku_code,
                            "quantity": receipt.quantity,
                            "total": receipt.total,
                        },
                    )
                    return receipt

    async def _write_sale(
        self,
        driver: Driver,
        ctx: SaleContext,
        charge: Charge,
        telegram_id: int,
        key: str,
        now: datetime,
    ) -> Receipt:
        """The order, its codes, then the ledger transaction. ``decide_sale`` refused a
        buyer whose balance (read in the same statement) cannot pay, so no stock is claimed
        for him; the floored debit still refuses one whose concurrent purchase got there
        first (the transaction then rolls back, codes and all). Claiming before posting
        keeps the accounts every sale shares (supplier, platform) locked on PostgreSQL only
        for the end of the transaction."""
        [(order_id,)] = await driver.rows(_ORDER, _order_row(ctx, charge, key, now))
        claimed = await claim_on(driver, ctx.sku_id, ctx.sku_code, ctx.stock_kind, charge.quantity)
        split = charge.split
        await driver.many(
            _LINE,
            [
                {
                    "order_id": order_id,
                    "code_id": code.id,
                    "price": charge.unit_price,
                    "supplier_amount": split.supplier,
                    "platform_spread": split.platform_spread,
                    "platform_commission": split.platform_commission,
                }
                for code in claimed
            ],
        )
        await driver.rows(
            _OUTBOX,
            {
                "user_id": ctx.supplier_user_id,
                "payload": json.dumps(
                    {
                        "order_id": order_id,
                        "sku": ctx.sku_code,
                        "quantity": charge.quantity,
                        "earning": charge.supplier_earning,
                        "commission_bps": charge.commission_bps,
                    }
                ),
                "now": now,
            },
        )
        posted = await post_on(
            driver,
            key=f"order:{key}",
            kind="purchase",
            order_id=order_id,
            now=now,
            postings=[
                Posting(
                    AccountKind.RESELLER_BALANCE,
                    ctx.user_id,
                    -charge.total,
                    floor=charge.buyer_floor,
                ),
                Posting(AccountKind.SUPPLIER_PAYABLE, ctx.supplier_id, charge.supplier_earning),
                platform(AccountKind.PLATFORM_SPREAD, charge.platform_spread),
                platform(AccountKind.PLATFORM_COMMISSION, charge.platform_commission),
            ],
        )
        await driver.rows(
            _COUNT_UNITS,
            {"supplier_id": ctx.supplier_id, "day": as_utc(now).date(), "units": charge.quantity},
        )
        await _audit_sale(
            driver, ctx, charge, telegram_id, order_id, {"supplier": charge.supplier_earning}, now
        )
        return Receipt(
            order_id=order_id,
            sku_code=ctx.sku_code,
            sku_name=ctx.sku_name,
            quantity=charge.quantity,
            unit_price=charge.unit_price,
            total=charge.total,
            codes=[self._cipher.decrypt(code.ciphertext) for code in claimed],
            balance_after=posted.balances[0],
            created_at=now,
        )

    async def _write_direct_sale(
        self,
        session: AsyncSession,
        driver: Driver,
        ctx: SaleContext,
        charge: Charge,
        telegram_id: int,
        key: str,
        account: Mapping[str, object] | None,
        now: datetime,
    ) -> Receipt:
        """A direct top-up: the account checked against the SKU's fields, the order
        pending with its fulfilment, the reseller's money held until delivery
        (``core/fulfilment.py``). No code is claimed; the commission ladder's volume is not
        counted (it counts order lines, which a direct order has none of).

        An upstream's SKU first takes the codes that upstream delivered after our deadline
        (our late stock, ``core/procurement.py``), in one claim as local stock is claimed:
        those units are order lines split by ``stock_unit`` (their cost was paid to the
        upstream already), only the rest is ordered there; all of them from stock, the
        order is delivered at once. The whole price waits in the hold either way, released
        by the one settlement."""
        if account is None:  # the bot's Confirm: the account was checked with the quote
            quoted = await session.scalar(
                select(QuoteAccount.account).where(QuoteAccount.quote_id == ctx.quote_id)
            )
            account = json.loads(quoted) if quoted is not None else None
        fields_json = ctx.direct_fields  # what the account is saved under, for next time
        if ctx.direct_fields is not None:
            checked = checked_account(ctx.direct_fields, account)
        else:  # an upstream's product: the fields it describes (checked there again too)
            names = await session.scalar(
                select(UpstreamSku.account_fields).where(
                    UpstreamSku.id == ctx.upstream_sku_id, UpstreamSku.kind == "direct"
                )
            )
            fields = upstream_fields(names) if names else ()
            if fields:
                fields_json = fields_to_json(fields)
                checked = checked_account(fields_json, account)
            else:
                checked = CheckedAccount({str(k): str(v) for k, v in (account or {}).items()})
        [(order_id,)] = await driver.rows(_ORDER, _order_row(ctx, charge, key, now))
        stocked = []
        if ctx.upstream_sku_id is not None:
            stocked = await claim_up_to(driver, ctx.sku_id, charge.quantity)
            await self._stock_lines(driver, ctx, charge, order_id, stocked, now)
        posted = await post_on(
            driver,
            key=f"order:{key}",
            kind="purchase",
            order_id=order_id,
            now=now,
            postings=hold_postings(ctx, charge),
        )
        await session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(status=OrderStatus.PENDING)
            .execution_options(synchronize_session=False)
        )
        await write_direct_order(
            session,
            order_id=order_id,
            ctx=ctx,
            charge=charge,
            account=checked,
            fields_json=fields_json,
            deadline_minutes=ctx.direct_minutes or UPSTREAM_DEADLINE_MINUTES,
            actor=f"user:{telegram_id}",
            now=now,
            stock_units=len(stocked),
        )
        await _audit_sale(
            await Driver.of(session),  # flushes write_direct_order's rows first, in order
            ctx,
            charge,
            telegram_id,
            order_id,
            {"held": charge.total, **({"from_stock": len(stocked)} if stocked else {})},
            now,
        )
        order = await session.get(Order, order_id)
        assert order is not None
        if stocked and len(stocked) == charge.quantity:  # nothing left to buy upstream
            fulfilment = await session.scalar(
                select(Fulfilment).where(Fulfilment.order_id == order_id)
            )
            assert fulfilment is not None
            await settle(
                session,
                order,
                fulfilment,
                0,  # none bought: every unit came from our stock
                actor=f"user:{telegram_id}",
                note="",
                now=now,
                tell=False,  # the buyer reads the receipt with the codes
            )
        return Receipt(
            order_id=order_id,
            sku_code=ctx.sku_code,
            sku_name=ctx.sku_name,
            quantity=charge.quantity,
            unit_price=charge.unit_price,
            total=charge.total,
            codes=[self._cipher.decrypt(code.ciphertext) for code in stocked],
            balance_after=posted.balances[0],
            created_at=now,
            status=order.status,
            fulfilment=await fulfilment_info(session, order),
        )

    async def _stock_lines(
        self,
        driver: Driver,
        ctx: SaleContext,
        charge: Charge,
        order_id: int,
        claimed: list[ClaimedCode],
        now: datetime,
    ) -> None:
        """The order lines of the units taken from our late stock, split by ``stock_unit``
        (``kameng ledger check`` finds every sold code in one line), counted in the
        supplier's daily volume as every sold line is."""
        if not claimed:
            return
        split = charge.split
        line = stock_unit(
            ChargedLine(
                charge.unit_price,
                split.supplier,
                split.platform_spread,
                split.platform_commission,
            )
        )
        await driver.many(
            _LINE,
            [
                {
                    "order_id": order_id,
                    "code_id": code.id,
                    "price": line.price,
                    "supplier_amount": line.supplier_amount,
                    "platform_spread": line.platform_spread,
                    "platform_commission": line.platform_commission,
                }
                for code in claimed
            ],
        )
        await driver.rows(
            _COUNT_UNITS,
            {"supplier_id": ctx.supplier_id, "day": as_utc(now).date(), "units": len(claimed)},
        )

    async def _replay(
        self, session: AsyncSession, order: Order, telegram_id: int, asked: _Asked
    ) -> Receipt:
        """The order made with this key, again; refused when the key was used by another
        buyer or for another request, so a reused key never hands over other codes."""
        user = await load_user(session, telegram_id)
        if order.user_id != user.id or not await asked.matches(session, order):
            raise IdempotencyConflict(key=order.idempotency_key)  # decided before any code is read
        receipt = await self._receipt(session, order)
        return Receipt(**{**receipt.__dict__, "replayed": True})

    async def _receipt(self, session: AsyncSession, order: Order) -> Receipt:
        sku = await session.get(Sku, order.sku_id)
        assert sku is not None
        rows = (
            await session.execute(
                select(Code.ciphertext, OrderLine.status)
                .join(OrderLine, OrderLine.code_id == Code.id)
                .where(OrderLine.order_id == order.id)
                .order_by(OrderLine.id)
            )
        ).all()
        return Receipt(
            order_id=order.id,
            sku_code=sku.code,
            sku_name=sku.name,
            quantity=order.quantity,
            unit_price=order.unit_price,
            total=order.total,
            codes=[self._cipher.decrypt(r.ciphertext) for r in rows]
            + [  # delivered by an upstream (core/procurement.py)
                self._cipher.decrypt(ciphertext)
                for ciphertext in await session.scalars(
                    select(FulfilmentCode.ciphertext)
                    .where(FulfilmentCode.order_id == order.id)
                    .order_by(FulfilmentCode.id)
                )
            ],
            balance_after=await balance_of(session, AccountKind.RESELLER_BALANCE, order.user_id),
            created_at=as_utc(order.created_at),
            status=order.status,
            fulfilment=await fulfilment_info(session, order),
            refunded=frozenset(i for i, r in enumerate(rows) if r.status == LineStatus.REFUNDED),
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
        self,
        telegram_id: int,
        *,
        offset: int = 0,
        limit: int = 10,
        external_id: str | None = None,
    ) -> tuple[list[OrderSummary], int]:
        """Newest first, with the total count for paging; ``external_id``: only the order
        the buyer's own system numbered so (its API client key), if there is one."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            mine = [Order.user_id == user.id]
            if external_id is not None:
                mine.append(
                    Order.idempotency_key.in_(
                        select(ApiIdempotencyKey.order_key).where(
                            ApiIdempotencyKey.user_id == user.id,
                            ApiIdempotencyKey.client_key == external_id,
                        )
                    )
                )
            total = await session.scalar(select(func.count()).select_from(Order).where(*mine))
            rows = await session.execute(
                select(Order, Sku.code, Sku.name)
                .join(Sku, Sku.id == Order.sku_id)
                .where(*mine)
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
        idempotency_key: str,
        actor: str,
        reason: str = "",
    ) -> RefundResult:
        """Refund ``units`` delivered units of an order (all when ``None``), newest first.

        Reverses each unit's split exactly. A unique code is voided, never put back on sale:
        the buyer has seen it (chat, file, API, CLI), so selling it again would hand one code
        to two buyers. Putting it back is a separate, audited admin act once the supplier
        confirms it unused (``core.restocks``). A cyclic code is shared and not consumed by a
        sale, so its status is left as it is. Safe
        under concurrency on both databases: the lines to refund are locked (PostgreSQL
        ``FOR UPDATE``; SQLite's write transaction is already exclusive) and flipped by an
        ``UPDATE … WHERE status = 'delivered' RETURNING``, and the money is computed from the
        rows that UPDATE returned, so a unit is refunded once whoever else (another refund,
        an after-sales refund of one line) gets there first. The same idempotency key gives
        the first result again and never a second reversal.

        The commission ladder (``SupplierDailyUnits``) is not touched: it counts units sold
        when they were sold (gross), the volume that set the rate of each later sale, as the
        30-day sums over orders always did. A refund is an admin's decision after the fact;
        decrementing would make refunds contend with every sale on the supplier's row for
        today and rewrite the past volume. ``kameng ledger check`` proves the table equals
        the order lines (refunded ones included) per supplier and UTC day."""
        key = f"refund:{idempotency_key}"
        try:
            return await self._refund_once(
                order_id,
                units=units,
                key=key,
                idempotency_key=idempotency_key,
                actor=actor,
                reason=reason,
            )
        except IntegrityError:
            # A concurrent refund with the same key committed first: answer with its result.
            async with self._db.reading() as session:
                replayed = await self._refund_replay(session, order_id, key, idempotency_key)
                if replayed is None:
                    raise
                return replayed

    async def _refund_replay(
        self, session: AsyncSession, order_id: int, key: str, idempotency_key: str
    ) -> RefundResult | None:
        done = await find_transaction(session, key)
        if done is None:
            return None
        if done.order_id != order_id:
            raise IdempotencyConflict(key=idempotency_key)
        unit_price = await session.scalar(select(Order.unit_price).where(Order.id == order_id))
        refunded = await session.scalar(
            select(func.sum(LedgerEntry.amount)).where(
                LedgerEntry.transaction_id == done.id, LedgerEntry.amount > 0
            )
        )
        amount = int(refunded or 0)
        # every line of an order has the order's unit price
        return RefundResult(order_id, amount // int(unit_price or 1), amount, replayed=True)

    async def _refund_once(
        self,
        order_id: int,
        *,
        units: int | None,
        key: str,
        idempotency_key: str,
        actor: str,
        reason: str,
    ) -> RefundResult:
        now = self._clock.now()
        async with self._db.transaction() as session:
            order = await _order(session, order_id)
            if units is not None and units < 1:
                raise InvalidInput(field="units", value=units)
            ctx = await _load_refund(session, order, units)
            # after the locks: a refund with this key that committed meanwhile is seen now
            replayed = await self._refund_replay(session, order_id, key, idempotency_key)
            if replayed is not None:
                return replayed
            decision = decide_refund(ctx, units)
            if isinstance(decision, Refusal):
                raise decision.error
            flipped = await _flip_to_refunded(session, decision.line_ids)
            if len(flipped) != decision.units:  # locked above, so only a bug could get here
                raise InvalidInput(field="units", value=decision.units, refundable=len(flipped))
            reversal = reverse([line for _code, line in flipped])
            await post(
                session,
                key=key,
                kind="refund",
                order_id=order_id,
                now=now,
                memo=reason,
                postings=reversal.postings(ctx.user_id, ctx.supplier_id),
            )
            code_status = code_status_after_refund(ctx.stock_kind)
            if code_status is not None:
                await _set_codes(session, [code_id for code_id, _line in flipped], code_status)
            await set_order_status_after_refund(
                session,
                order_id,
                Refunded(decision.units, reversal.to_buyer),
                actor=actor,
                note=reason,
                now=now,
            )
            await audit.append(
                session,
                action="refund",
                actor=actor,
                subject=f"order:{order_id}",
                payload={
                    "units": decision.units,
                    "amount": reversal.to_buyer,
                    "codes_voided": len(flipped) if code_status is not None else 0,
                    "reason": reason,
                },
                now=now,
            )
            return RefundResult(order_id, decision.units, reversal.to_buyer)


async def _order(session: AsyncSession, order_id: int) -> Order:
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound(kind="order", ref=str(order_id))
    return order


async def _load_refund(session: AsyncSession, order: Order, units: int | None) -> RefundContext:
    """The order and its delivered lines, newest first, at most ``units`` of them, locked.

    Lock order: lines, then accounts, then codes, then the order row (as the after-sales
    refund does), so two refunds never wait on each other in a cycle."""
    pick = (
        select(OrderLine.id)
        .where(OrderLine.order_id == order.id, OrderLine.status == LineStatus.DELIVERED)
        .order_by(OrderLine.id.desc())
        .limit(units)
        .with_for_update()
    )
    line_ids = tuple(await session.scalars(pick))
    stock_kind = await session.scalar(select(Sku.stock_kind).where(Sku.id == order.sku_id))
    assert stock_kind is not None
    return RefundContext(order.id, order.user_id, order.supplier_id, stock_kind, line_ids)


async def _flip_to_refunded(
    session: AsyncSession, line_ids: tuple[int, ...]
) -> list[tuple[int, ChargedLine]]:
    """Refund the lines still delivered, each once whoever else gets there (``UPDATE …
    WHERE status = 'delivered' RETURNING``): their codes and splits as charged."""
    rows = await session.execute(
        update(OrderLine)
        .where(OrderLine.id.in_(line_ids), OrderLine.status == LineStatus.DELIVERED)
        .values(status=LineStatus.REFUNDED)
        .returning(
            OrderLine.code_id,
            OrderLine.price,
            OrderLine.supplier_amount,
            OrderLine.platform_spread,
            OrderLine.platform_commission,
        )
        .execution_options(synchronize_session=False)
    )
    return [
        (
            row.code_id,
            ChargedLine(
                row.price, row.supplier_amount, row.platform_spread, row.platform_commission
            ),
        )
        for row in rows
    ]


async def _set_codes(session: AsyncSession, code_ids: list[int], status: CodeStatus) -> None:
    """Sold codes only: one a restock put back on sale meanwhile is left alone."""
    await session.execute(
        update(Code)
        .where(Code.id.in_(code_ids), Code.status == CodeStatus.SOLD)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )


async def set_order_status_after_refund(
    session: AsyncSession,
    order_id: int,
    refunded: Refunded,
    *,
    actor: str,
    note: str,
    now: datetime,
) -> OrderStatus:
    """Every refund after the sale (an admin's, an approved bad-code report) ends here, in
    its transaction: the order's status from its lines, counted after taking the order
    row's lock (a concurrent refund of other lines has then committed or waits, so the last
    one sets ``refunded``), then the state change announced through the fulfilment's hooks
    (the reseller's callback, the Dujiao-Next shop's). An order delivered later keeps its
    fulfilment's state (its lines are units from our late stock; the refund is in its lines
    and the ledger)."""
    await session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    status = await _status_after_refund(session, order_id)
    user_id = await session.scalar(select(Order.user_id).where(Order.id == order_id))
    assert user_id is not None
    await announce(
        session,
        StateChange(order_id, int(user_id), status, actor, note, now, refund=refunded),
    )
    return status


async def _status_after_refund(session: AsyncSession, order_id: int) -> OrderStatus:
    kept = await session.scalar(select(Order.status).where(Order.id == order_id))
    if await session.scalar(select(Fulfilment.id).where(Fulfilment.order_id == order_id)):
        assert kept is not None
        return kept
    left = await session.scalar(
        select(func.count()).where(
            OrderLine.order_id == order_id, OrderLine.status == LineStatus.DELIVERED
        )
    )
    status = order_status_after_refund(int(left or 0))
    await session.execute(
        update(Order)
        .where(Order.id == order_id)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    return status

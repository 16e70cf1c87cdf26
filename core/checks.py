"""``kameng ledger check``: proofs that money and stock are consistent.

Each check is one query that returns the offending rows; an empty result is a proof.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.db import Database
from core.decisions.fulfilment import OPEN as FULFILMENT_OPEN
from core.fulfilment import UPSTREAM_COST, UPSTREAM_LATE
from core.models import (
    PLATFORM_OWNER,
    Account,
    AccountKind,
    AdRound,
    AdRoundStatus,
    AuditRecord,
    Code,
    CodeRestock,
    CodeStatus,
    Fulfilment,
    LedgerEntry,
    LedgerTransaction,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    ServiceSubscription,
    Sku,
    SkuStatus,
    StarsRefund,
    StockKind,
    SupplierDailyUnits,
    TopUpRequest,
    TopUpStatus,
    UpstreamSku,
    UsdtTransfer,
    UsdtTransferStatus,
    User,
    Voucher,
    WithdrawalRequest,
    WithdrawalStatus,
)
from core.revenue import CLEARING, REVENUE_SOURCES

_SHOW = 20  # offenders listed per problem; the count is always complete


@dataclass
class CheckReport:
    problems: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, name: str, offenders: list[str]) -> None:
        if offenders:
            self.problems[name] = offenders

    def render(self) -> str:
        lines = [f"{name}: {count}" for name, count in self.counts.items()]
        if self.ok:
            return "\n".join(
                [*lines, "OK: the ledger balances and every sold code is accounted for"]
            )
        for name, offenders in self.problems.items():
            lines.append(f"FAIL {name}: {len(offenders)} found")
            lines.extend(f"  - {offender}" for offender in offenders[:_SHOW])
        return "\n".join(lines)


async def _rows(session: AsyncSession, statement: object) -> list[str]:
    result = await session.execute(statement)  # type: ignore[call-overload]
    return [", ".join(f"{k}={v}" for k, v in row._mapping.items()) for row in result]


async def check_ledger(db: Database) -> CheckReport:
    report = CheckReport()
    async with db.reading() as session:
        report.counts["transactions"] = int(
            await session.scalar(select(func.count()).select_from(LedgerTransaction)) or 0
        )
        report.counts["sold codes"] = int(
            await session.scalar(select(func.count()).where(Code.status == CodeStatus.SOLD)) or 0
        )
        entry_sum = func.sum(LedgerEntry.amount)
        report.add(
            "transactions whose entries do not sum to zero",
            await _rows(
                session,
                select(LedgerEntry.transaction_id, entry_sum.label("sum"))
                .group_by(LedgerEntry.transaction_id)
                .having(entry_sum != 0),
            ),
        )
        report.add(
            "transactions with fewer than two entries",
            await _rows(
                session,
                select(LedgerTransaction.id, func.count(LedgerEntry.id).label("entries"))
                .outerjoin(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .group_by(LedgerTransaction.id)
                .having(func.count(LedgerEntry.id) < 2),
            ),
        )
        sums = (
            select(LedgerEntry.account_id, func.sum(LedgerEntry.amount).label("total"))
            .group_by(LedgerEntry.account_id)
            .subquery()
        )
        report.add(
            "accounts whose cached balance differs from their entries",
            await _rows(
                session,
                select(
                    Account.id,
                    Account.kind,
                    Account.owner_id,
                    Account.balance,
                    func.coalesce(sums.c.total, 0).label("entries"),
                )
                .outerjoin(sums, sums.c.account_id == Account.id)
                .where(Account.balance != func.coalesce(sums.c.total, 0)),
            ),
        )
        report.add(
            "resellers below their credit limit",
            await _rows(
                session,
                select(User.telegram_id, Account.balance, User.credit_limit)
                .join(Account, Account.owner_id == User.id)
                .where(
                    Account.kind == AccountKind.RESELLER_BALANCE,
                    Account.balance < -User.credit_limit,
                ),
            ),
        )
        delivered = func.sum(case((OrderLine.status == LineStatus.DELIVERED, 1), else_=0))
        unique_codes = (
            select(Code.id, Code.status)
            .join(Sku, Sku.id == Code.sku_id)
            .where(Sku.stock_kind == StockKind.UNIQUE)
            .subquery()
        )
        lines = func.coalesce(delivered, 0)
        sold = unique_codes.c.status == CodeStatus.SOLD
        report.add(
            "unique codes sold but not in exactly one delivered line, or delivered but not sold",
            await _rows(
                session,
                select(
                    unique_codes.c.id.label("code_id"),
                    unique_codes.c.status,
                    lines.label("delivered_lines"),
                )
                .outerjoin(OrderLine, OrderLine.code_id == unique_codes.c.id)
                .group_by(unique_codes.c.id, unique_codes.c.status)
                .having(or_(and_(sold, lines != 1), and_(~sold, lines != 0))),
            ),
        )
        report.add(
            "unique codes sold again without an audited restock after the previous sale",
            await _resold_without_restock(session),
        )
        report.add(
            "orders whose lines do not add up to the order",
            await _rows(
                session,
                select(
                    Order.id,
                    Order.quantity,
                    Order.total,
                    func.count(OrderLine.id).label("lines"),
                    func.coalesce(func.sum(OrderLine.price), 0).label("lines_total"),
                )
                .outerjoin(OrderLine, OrderLine.order_id == Order.id)
                .where(~exists().where(Fulfilment.order_id == Order.id))  # no lines: below
                .group_by(Order.id, Order.quantity, Order.total)
                .having(
                    (func.count(OrderLine.id) != Order.quantity)
                    | (func.coalesce(func.sum(OrderLine.price), 0) != Order.total)
                ),
            ),
        )
        refunded_line = OrderLine.status == LineStatus.REFUNDED
        by_lines = (
            select(
                OrderLine.order_id,
                func.sum(case((refunded_line, OrderLine.price), else_=0)).label("lines"),
                func.sum(case((refunded_line, 0), else_=1)).label("delivered"),
                func.count(OrderLine.id).label("all_lines"),
            )
            .group_by(OrderLine.order_id)
            .subquery()
        )
        credited = (  # a refund credits the reseller: its only positive entry
            select(
                LedgerTransaction.order_id,
                func.sum(LedgerEntry.amount).label("refunded"),
            )
            .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
            .where(LedgerTransaction.kind == "refund", LedgerEntry.amount > 0)
            .group_by(LedgerTransaction.order_id)
            .subquery()
        )
        money = func.coalesce(credited.c.refunded, 0)
        report.add(
            "orders whose refunded lines differ from the money refunded (a unit paid back twice?)",
            await _rows(
                session,
                select(
                    by_lines.c.order_id,
                    by_lines.c.lines.label("refunded_lines_total"),
                    money.label("refunded_in_ledger"),
                )
                .outerjoin(credited, credited.c.order_id == by_lines.c.order_id)
                .where(money != by_lines.c.lines)
                .order_by(by_lines.c.order_id),
            ),
        )
        expected = case(
            (by_lines.c.delivered == by_lines.c.all_lines, OrderStatus.PAID.value),
            (by_lines.c.delivered == 0, OrderStatus.REFUNDED.value),
            else_=OrderStatus.PARTLY_REFUNDED.value,
        )
        report.add(
            "orders whose status disagrees with their lines",
            await _rows(
                session,
                select(
                    Order.id,
                    Order.status,
                    by_lines.c.delivered.label("delivered_lines"),
                    by_lines.c.all_lines.label("lines"),
                )
                .join(by_lines, by_lines.c.order_id == Order.id)
                .where(Order.status != expected)
                .order_by(Order.id),
            ),
        )
        report.add(
            "supplier daily units that differ from the order lines sold that day",
            await _daily_units(session, db.is_sqlite),
        )
        redeemed = Voucher.redeemed_by.is_not(None)
        report.add(
            "vouchers without exactly one ledger transaction (redeemed) or with one (not)",
            await _linked(
                session,
                "voucher",
                Voucher.id,
                _key("voucher:", Voucher.id),
                redeemed,
                Voucher.transaction_id,
            ),
        )
        report.add(
            "withdrawal requests paid without their ledger transaction (or unpaid with one)",
            await _linked(
                session,
                "withdrawal",
                WithdrawalRequest.id,
                _key("withdraw:request-", WithdrawalRequest.id),
                WithdrawalRequest.status == WithdrawalStatus.PAID,
                WithdrawalRequest.ledger_transaction_id,
            ),
        )
        report.add(
            "top-up requests approved without their ledger transaction (or not with one)",
            await _linked(
                session,
                "top-up request",
                TopUpRequest.id,
                _key("top_up:request-", TopUpRequest.id),
                TopUpRequest.status == TopUpStatus.APPROVED,
                None,
            ),
        )
        report.add(
            "payments credited without exactly their one ledger transaction (or not with one)",
            await _linked(
                session,
                "payment",
                Payment.id,  # type: ignore[arg-type]
                literal("payment:", String) + Payment.id,
                Payment.status == PaymentStatus.CREDITED,
                Payment.transaction_id,
            ),
        )
        report.add(
            "Stars refunds without exactly their one reversing ledger transaction",
            await _linked(
                session,
                "stars refund of payment",
                StarsRefund.payment_id,  # type: ignore[arg-type]
                literal("stars-refund:", String) + StarsRefund.payment_id,
                literal(True),
                StarsRefund.transaction_id,
            ),
        )
        report.add(
            "top-up transactions with neither their payment nor their admin approval",
            await _unbacked_top_ups(session),
        )
        for name, offenders in await _fulfilment_checks(session):
            report.add(name, offenders)
        report.add(  # core/pricing/upstream.py: never below cost, never above face value
            "upstream SKUs on sale below their upstream cost or above its face value",
            await _rows(
                session,
                select(Sku.code, Sku.default_price, UpstreamSku.cost, UpstreamSku.face_value)
                .join(UpstreamSku, UpstreamSku.sku_id == Sku.id)
                .where(
                    Sku.status == SkuStatus.ACTIVE,
                    (Sku.default_price < UpstreamSku.cost)
                    | (
                        Sku.default_price > func.coalesce(UpstreamSku.face_value, Sku.default_price)
                    ),
                ),
            ),
        )
        report.add(
            "featured-slot rounds sold without their ledger transaction (or unsold with one)",
            await _linked(
                session,
                "ad round",
                AdRound.id,
                _key("ads:round-", AdRound.id),
                AdRound.status == AdRoundStatus.SOLD,
                None,
            ),
        )
        report.add(
            "paid services whose paid periods differ from their ledger transactions",
            await _service_periods(session),
        )
        report.add(
            "platform accounts that are neither a revenue source nor clearing",
            await _rows(
                session,
                select(Account.id, Account.kind).where(
                    Account.owner_id == PLATFORM_OWNER,
                    Account.kind.not_in([*REVENUE_SOURCES.values(), *CLEARING]),
                ),
            ),
        )
        report.add(
            "USDT transfers recorded as credited whose payment is not credited by them",
            await _usdt_credited_unpaid(session),
        )
        report.add(
            "credit interest repaid beyond what was owed",
            await _rows(
                session,
                select(Account.id, Account.owner_id, Account.balance).where(
                    Account.kind == AccountKind.RESELLER_INTEREST, Account.balance > 0
                ),
            ),
        )
    return report


async def _usdt_credited_unpaid(session: AsyncSession) -> list[str]:
    """A transfer the watcher marked credited names a payment that is credited, under that
    transfer's tx id (so no transfer claims a payment another one paid)."""
    return await _rows(
        session,
        select(UsdtTransfer.tx_id, UsdtTransfer.payment_id, Payment.status)
        .outerjoin(Payment, Payment.id == UsdtTransfer.payment_id)
        .where(
            UsdtTransfer.status == UsdtTransferStatus.CREDITED,
            or_(
                Payment.id.is_(None),
                Payment.status != PaymentStatus.CREDITED,
                Payment.provider_reference != UsdtTransfer.tx_id,
            ),
        ),
    )


async def _fulfilment_checks(session: AsyncSession) -> list[tuple[str, list[str]]]:
    """Orders delivered later (``core/fulfilment.py``): the hold is exactly what the open
    ones paid; each ended one released its hold once (``fulfil:<order>``), paying back
    exactly its undelivered units; an open one has released nothing."""
    hold = await session.scalar(
        select(Account.balance).where(
            Account.kind == AccountKind.FULFILMENT_HOLD, Account.owner_id == PLATFORM_OWNER
        )
    )
    open_total = await session.scalar(
        select(func.coalesce(func.sum(Order.total), 0))
        .join(Fulfilment, Fulfilment.order_id == Order.id)
        .where(Fulfilment.status.in_(FULFILMENT_OPEN))
    )
    hold_offenders = (
        [f"hold {hold} != open orders {open_total}"]
        if int(hold or 0) != int(open_total or 0)
        else []
    )
    settled = (
        select(
            LedgerTransaction.order_id,
            func.count(func.distinct(LedgerTransaction.id)).label("settlements"),
            func.coalesce(
                func.sum(case((Account.kind == AccountKind.RESELLER_BALANCE, LedgerEntry.amount))),
                0,
            ).label("paid_back"),
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(LedgerTransaction.kind == "fulfilment")
        .group_by(LedgerTransaction.order_id)
        .subquery()
    )
    ended = Fulfilment.status.not_in(FULFILMENT_OPEN)
    settlements = func.coalesce(settled.c.settlements, 0)
    owed_back = (Order.quantity - Fulfilment.delivered_units) * Order.unit_price
    wrong = await _rows(
        session,
        select(
            Order.id,
            Fulfilment.status,
            settlements.label("settlements"),
            func.coalesce(settled.c.paid_back, 0).label("paid_back"),
            owed_back.label("undelivered"),
        )
        .join(Fulfilment, Fulfilment.order_id == Order.id)
        .outerjoin(settled, settled.c.order_id == Order.id)
        .where(
            or_(
                and_(ended, settlements != 1),
                and_(~ended, settlements != 0),
                and_(ended, func.coalesce(settled.c.paid_back, 0) != owed_back),
                Order.status != Fulfilment.status,
            )
        )
        .order_by(Order.id),
    )
    return [
        ("the fulfilment hold differs from what the open orders paid", hold_offenders),
        (
            "orders fulfilled later not settled exactly once, or paid back other than "
            "their undelivered units",
            wrong,
        ),
        (
            "upstream orders whose payable moved other than what the upstream charged",
            await _upstream_charges(session),
        ),
    ]


async def _upstream_charges(session: AsyncSession) -> list[str]:
    """An upstream is owed exactly what it charged: for every ended upstream order with
    units delivered and a charge the upstream told (``fulfilments.upstream_cost``), its
    payable moved by exactly that in the order's settlement (``fulfil:<order>``) and its
    adjustment (``upstream-cost:<order>``, ``core.decisions.fulfilment``) — or, delivered
    after our deadline ended the order, in ``upstream-late:<order>``. Orders the
    upstream did not say the cost of keep the synced supply price and are not proved."""
    moved = (
        select(
            LedgerTransaction.order_id,
            func.sum(LedgerEntry.amount).label("payable"),
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(
            LedgerTransaction.kind.in_(["fulfilment", UPSTREAM_COST, UPSTREAM_LATE]),
            Account.kind == AccountKind.SUPPLIER_PAYABLE,
        )
        .group_by(LedgerTransaction.order_id)
        .subquery()
    )
    payable = func.coalesce(moved.c.payable, 0)
    return await _rows(
        session,
        select(Order.id, Fulfilment.upstream_cost.label("charged"), payable.label("payable"))
        .join(Fulfilment, Fulfilment.order_id == Order.id)
        .outerjoin(moved, moved.c.order_id == Order.id)
        .where(
            Fulfilment.source == "upstream",
            Fulfilment.status.not_in(FULFILMENT_OPEN),
            or_(Fulfilment.delivered_units > 0, Fulfilment.late_units > 0),
            Fulfilment.upstream_cost.is_not(None),
            payable != Fulfilment.upstream_cost,
        )
        .order_by(Order.id),
    )


async def _service_periods(session: AsyncSession) -> list[str]:
    """Each bought service has one ``services:sub-<id>:<n>`` transaction per paid period."""
    pattern = _key("services:sub-", ServiceSubscription.id) + literal(":%", String)
    paid = func.count(LedgerTransaction.id)
    rows = await session.execute(
        select(ServiceSubscription.id, ServiceSubscription.period, paid)
        .outerjoin(LedgerTransaction, LedgerTransaction.idempotency_key.like(pattern))
        .group_by(ServiceSubscription.id, ServiceSubscription.period)
        .having(paid != ServiceSubscription.period)
        .order_by(ServiceSubscription.id)
    )
    return [f"service #{i}: {period} periods, {n} ledger transactions" for i, period, n in rows]


async def _daily_units(session: AsyncSession, sqlite: bool) -> list[str]:
    """``supplier_daily_units`` (the ladder's volume) = the order lines per supplier and UTC
    day of their order, refunded lines included: the ladder counts units as sold."""
    day: ColumnElement[object] = (
        func.date(Order.created_at)
        if sqlite
        else cast(func.timezone("UTC", Order.created_at), Date)
    )
    counted = {
        (int(supplier), str(on)): int(units)
        for supplier, on, units in await session.execute(
            select(Order.supplier_id, day, func.count(OrderLine.id))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .group_by(Order.supplier_id, day)
        )
    }
    stored = {
        (int(supplier), str(on)): int(units)
        for supplier, on, units in await session.execute(
            select(SupplierDailyUnits.supplier_id, SupplierDailyUnits.day, SupplierDailyUnits.units)
        )
    }
    return [
        f"supplier {supplier} on {on}: table says {stored.get((supplier, on), 0)} units,"
        f" order lines say {counted.get((supplier, on), 0)}"
        for supplier, on in sorted(counted.keys() | stored.keys())
        if stored.get((supplier, on), 0) != counted.get((supplier, on), 0)
    ]


async def _resold_without_restock(session: AsyncSession) -> list[str]:
    """A unique code in more than one order line: between each two consecutive lines (by
    id, the order of sale) there must be a restock of the earlier line's code, made no later
    than the later sale and with its ``code.restock`` audit record. A refund alone voids the
    code; only that audited admin act puts it back on sale."""
    sales = (
        select(
            OrderLine.id.label("line_id"),
            OrderLine.code_id,
            OrderLine.order_id,
            func.lag(OrderLine.id)
            .over(partition_by=OrderLine.code_id, order_by=OrderLine.id)
            .label("previous_line"),
        )
        .join(Code, Code.id == OrderLine.code_id)
        .join(Sku, Sku.id == Code.sku_id)
        .where(Sku.stock_kind == StockKind.UNIQUE)
        .subquery()
    )
    audited_restock = exists(
        select(CodeRestock.id)
        .join(AuditRecord, AuditRecord.id == CodeRestock.audit_id)
        .where(
            CodeRestock.line_id == sales.c.previous_line,
            CodeRestock.code_id == sales.c.code_id,
            CodeRestock.created_at <= Order.created_at,
            AuditRecord.action == "code.restock",
        )
    )
    return await _rows(
        session,
        select(
            sales.c.code_id,
            sales.c.previous_line,
            sales.c.line_id,
            sales.c.order_id,
        )
        .join(Order, Order.id == sales.c.order_id)
        .where(sales.c.previous_line.is_not(None), ~audited_restock)
        .order_by(sales.c.code_id, sales.c.line_id),
    )


def _key(prefix: str, id_column: InstrumentedAttribute[int]) -> ColumnElement[str]:
    return literal(prefix, String) + cast(id_column, String)


async def _linked(
    session: AsyncSession,
    what: str,
    id_column: InstrumentedAttribute[int],
    key: ColumnElement[str],
    needs_one: ColumnElement[bool],
    link: InstrumentedAttribute[int | None] | None,
) -> list[str]:
    """Rows that must have exactly their one ledger transaction (found by its idempotency
    key, and, where the row records it, the same one it points at) when ``needs_one`` holds,
    and none otherwise."""
    found = LedgerTransaction.id
    bad_link = []
    if link is not None:
        bad_link = [
            and_(needs_one, or_(link.is_(None), link != found)),
            and_(~needs_one, link.is_not(None)),
        ]
    rows = await session.execute(
        select(id_column, needs_one, found, *([link] if link is not None else []))
        .outerjoin(LedgerTransaction, LedgerTransaction.idempotency_key == key)
        .where(
            or_(
                and_(needs_one, found.is_(None)),
                and_(~needs_one, found.is_not(None)),
                *bad_link,
            )
        )
        .order_by(id_column)
    )
    offenders = []
    for row in rows:
        row_id, needed, transaction = row[0], bool(row[1]), row[2]
        points_at = row[3] if link is not None else transaction
        if needed and transaction is None:
            offenders.append(f"{what} #{row_id}: no ledger transaction")
        elif not needed and transaction is not None:
            offenders.append(
                f"{what} #{row_id}: ledger transaction #{transaction} but should have none"
            )
        elif not needed:
            offenders.append(f"{what} #{row_id}: points at ledger transaction #{points_at}")
        else:
            offenders.append(
                f"{what} #{row_id}: points at ledger transaction #{points_at},"
                f" its own is #{transaction}"
            )
    return offenders


async def _unbacked_top_ups(session: AsyncSession) -> list[str]:
    """Money that came in from outside: a ``payment`` transaction has its payment
    (``payment:<id>``), a top-up keyed ``top_up:request-<n>`` its request (whether each is
    credited / approved as it should be is the checks above). Operator credits
    (``top_up:<key>``, ``kameng balance credit``) are audited per user."""
    payment_key = literal("payment:", String) + Payment.id
    request_key = _key("top_up:request-", TopUpRequest.id)
    rows = await session.execute(
        select(LedgerTransaction.id, LedgerTransaction.kind, LedgerTransaction.idempotency_key)
        .outerjoin(Payment, payment_key == LedgerTransaction.idempotency_key)
        .outerjoin(TopUpRequest, request_key == LedgerTransaction.idempotency_key)
        .where(
            or_(
                and_(LedgerTransaction.kind == "payment", Payment.id.is_(None)),
                and_(
                    LedgerTransaction.kind == "top_up",
                    LedgerTransaction.idempotency_key.like("top_up:request-%"),
                    TopUpRequest.id.is_(None),
                ),
            )
        )
        .order_by(LedgerTransaction.id)
    )
    return [
        f"ledger transaction #{t} ({kind}, key {key}): nothing backs it" for t, kind, key in rows
    ]

"""A supplier's money: the payable balance, a statement of recent sales with each sale's
split explained (sale price, supply price, their share of the spread, the ladder commission
and the tier that set it), and withdrawal requests that the first admin to decide marks
paid (posting the ledger withdrawal in the same transaction) or rejects with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.approvals import Applied, Choice, Deciding, Outcome, Reason, Verdict, decide, verdict_of
from core.balances import Posted, check_amount, withdraw_payable
from core.catalogue import admin_user_ids
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.refusal import Refusal
from core.decisions.withdrawal import PayableContext, decide_withdrawal_request, withdrawable
from core.errors import NotFound
from core.ledger import balance_of
from core.models import (
    AccountKind,
    Category,
    CategoryCommissionTier,
    LineStatus,
    Order,
    OrderLine,
    Sku,
    Supplier,
    User,
    WithdrawalRequest,
    WithdrawalStatus,
)
from core.outbox import enqueue
from core.pricing.book import load_ladder, spread_supplier_bps
from core.pricing.split import (
    DEFAULT_SCHEDULE,
    EXCLUSIVE_SCHEDULE,
    LADDER_WINDOW,
    LadderTier,
    ladder_tier,
)
from core.rights import require_admin
from core.supplier_sales import supplier_of

WITHDRAWAL_REQUEST = "withdrawal_request"  # outbox kind: to each admin, with the buttons
WITHDRAWAL_DECIDED = "withdrawal_decided"  # outbox kind: to the supplier
MAX_REASON = 500


@dataclass(frozen=True)
class TierView:
    min_units: int
    max_units: int | None  # None: no upper bound
    rate_bps: int


def tier_view(ladder: list[LadderTier], units_30d: int) -> TierView:
    """The ladder tier ``units_30d`` reaches, with the bounds of its band."""
    tier = ladder_tier(ladder, units_30d)
    above = [t.min_units for t in ladder if t.min_units > tier.min_units]
    return TierView(tier.min_units, min(above) - 1 if above else None, tier.rate_bps)


def _tier_used(order: Order, ladder: list[LadderTier], units_30d: int) -> TierView:
    """The tier the order kept (since 0024), with its band while its schedule still has
    that tier; an older order's from today's ladder."""
    if order.commission_tier is None:
        return tier_view(ladder, units_30d)
    kept = TierView(order.commission_tier, None, order.commission_bps)
    now = tier_view(ladder, order.commission_tier)
    return now if (now.min_units, now.rate_bps) == (kept.min_units, kept.rate_bps) else kept


async def _schedule_of(
    session: AsyncSession, order: Order, sku: Sku
) -> tuple[str, list[LadderTier] | None]:
    """The schedule the order used, by name ("category:<its name>" for a category's), and
    that category's ladder today (None: the default or exclusive one)."""
    schedule = order.commission_schedule or (
        EXCLUSIVE_SCHEDULE if sku.exclusive else DEFAULT_SCHEDULE
    )
    if not schedule.startswith("category:"):
        return schedule, None
    category_id = int(schedule.split(":")[1])
    name = await session.scalar(select(Category.name).where(Category.id == category_id))
    tiers = await session.execute(
        select(CategoryCommissionTier.min_units, CategoryCommissionTier.rate_bps).where(
            CategoryCommissionTier.category_id == category_id
        )
    )
    ladder = [LadderTier(m, r) for m, r in tiers]
    return (f"category:{name}" if name else schedule), ladder


def next_tier(ladder: list[LadderTier], units_30d: int) -> TierView | None:
    current = ladder_tier(ladder, units_30d)
    above = sorted(
        (t for t in ladder if t.min_units > current.min_units), key=lambda t: t.min_units
    )
    return tier_view(ladder, above[0].min_units) if above else None


@dataclass(frozen=True)
class SaleSplitView:
    """One order, per unit: price = supply + spread; the supplier keeps supply + their share
    of the spread, less the ladder commission."""

    order_id: int
    created_at: datetime
    sku_code: str
    sku_name: str
    units: int  # still delivered
    refunded: int
    unit_price: int
    supply_price: int
    spread: int
    spread_share_bps: int  # the supplier's share of the spread (platform policy)
    supplier_spread: int
    commission_bps: int  # the rate applied at the sale
    commission: int
    net_unit: int
    units_30d: int  # the supplier's units in the 30 days before the sale
    tier: TierView
    exclusive: bool
    # the commission schedule the sale used ("default", "exclusive", or a category's name)
    schedule: str = "default"

    @property
    def net_total(self) -> int:
        return self.net_unit * self.units


@dataclass(frozen=True)
class EarningsView:
    payable: int
    pending_withdrawals: int
    units_30d: int
    tier: TierView
    next_tier: TierView | None
    sales: list[SaleSplitView]

    @property
    def available(self) -> int:
        """What may be requested now: the payable less requests still waiting."""
        return withdrawable(self.payable, self.pending_withdrawals)


@dataclass(frozen=True)
class WithdrawalView:
    id: int
    supplier_name: str
    telegram_id: int
    username: str | None
    amount: int
    status: WithdrawalStatus
    reason: str
    created_at: datetime
    verdict: Verdict | None = None  # who decided, when (None while pending)


@dataclass(frozen=True)
class WithdrawalDecision:
    request: WithdrawalView
    posted: Posted | None  # the ledger withdrawal, when marked paid
    already_decided: bool  # another admin (or a double tap) was first: nothing changed
    verdict: Verdict | None = None  # who decided, when (also for a late second admin)


async def _units_since(
    session: AsyncSession, supplier_id: int, since: datetime, before_order: int | None = None
) -> int:
    conditions = [Order.supplier_id == supplier_id, Order.created_at >= since]
    if before_order is not None:
        conditions.append(Order.id < before_order)
    total = await session.scalar(
        select(func.coalesce(func.sum(Order.quantity), 0)).where(*conditions)
    )
    return int(total or 0)


async def _pending(session: AsyncSession, supplier_id: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(WithdrawalRequest.amount), 0)).where(
            WithdrawalRequest.supplier_id == supplier_id,
            WithdrawalRequest.status == WithdrawalStatus.PENDING,
        )
    )
    return int(total or 0)


async def _view(session: AsyncSession, request: WithdrawalRequest) -> WithdrawalView:
    supplier = await session.get(Supplier, request.supplier_id)
    assert supplier is not None
    user = await session.get(User, supplier.user_id)
    assert user is not None
    return WithdrawalView(
        request.id,
        supplier.name,
        user.telegram_id,
        user.username,
        request.amount,
        request.status,
        request.reason,
        as_utc(request.created_at),
        await verdict_of(session, WITHDRAWALS, request),
    )


class SupplierPayouts:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def earnings(self, telegram_id: int, *, limit: int = 8) -> EarningsView:
        now = self._clock.now()
        async with self._db.reading() as session:
            supplier = await supplier_of(session, telegram_id)
            payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
            ladders = {flag: await load_ladder(session, flag) for flag in (False, True)}
            units = await _units_since(session, supplier.id, now - LADDER_WINDOW)
            return EarningsView(
                payable=payable,
                pending_withdrawals=await _pending(session, supplier.id),
                units_30d=units,
                tier=tier_view(ladders[False], units),
                next_tier=next_tier(ladders[False], units),
                sales=await self._sales(session, supplier, ladders, limit),
            )

    async def _sales(
        self,
        session: AsyncSession,
        supplier: Supplier,
        ladders: dict[bool, list[LadderTier]],
        limit: int,
    ) -> list[SaleSplitView]:
        share = await spread_supplier_bps(session)
        delivered = case((OrderLine.status == LineStatus.DELIVERED, 1), else_=0)
        rows = await session.execute(
            select(
                Order,
                Sku,
                func.min(OrderLine.supplier_amount),
                func.min(OrderLine.platform_commission),
                func.sum(delivered),
                func.count(OrderLine.id),
            )
            .join(Sku, Sku.id == Order.sku_id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.supplier_id == supplier.id)
            .group_by(Order.id, Sku.id)
            .order_by(Order.created_at.desc(), Order.id.desc())
            .limit(limit)
        )
        sales = []
        for order, sku, supplier_amount, commission, units, lines in rows:
            created = as_utc(order.created_at)
            before = await _units_since(session, supplier.id, created - LADDER_WINDOW, order.id)
            # Lines of one order share a split: supplier gross = net + commission.
            gross = int(supplier_amount) + int(commission)
            schedule, schedule_ladder = await _schedule_of(session, order, sku)
            sales.append(
                SaleSplitView(
                    order_id=order.id,
                    created_at=created,
                    sku_code=sku.code,
                    sku_name=sku.name,
                    units=int(units),
                    refunded=int(lines) - int(units),
                    unit_price=order.unit_price,
                    supply_price=sku.supply_price,
                    spread=order.unit_price - sku.supply_price,
                    spread_share_bps=share,
                    supplier_spread=gross - sku.supply_price,
                    commission_bps=order.commission_bps,
                    commission=int(commission),
                    net_unit=int(supplier_amount),
                    units_30d=before,
                    tier=_tier_used(order, schedule_ladder or ladders[sku.exclusive], before),
                    exclusive=sku.exclusive,
                    schedule=schedule,
                )
            )
        return sales

    # withdrawals ---------------------------------------------------------------

    async def request_withdrawal(self, telegram_id: int, amount: int) -> WithdrawalView:
        """Ask to be paid ``amount`` (at most the payable less requests still waiting);
        every admin is told, with buttons to mark it paid or reject it."""
        check_amount(amount)
        now = self._clock.now()
        async with self._db.transaction() as session:
            supplier = await supplier_of(session, telegram_id)
            ctx = PayableContext(
                supplier.id,
                payable=await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id),
                pending=await _pending(session, supplier.id),
            )
            decision = decide_withdrawal_request(ctx, amount)
            if isinstance(decision, Refusal):
                raise decision.error
            request = WithdrawalRequest(
                supplier_id=supplier.id,
                amount=decision.amount,
                status=WithdrawalStatus.PENDING,
                reason="",
                created_at=now,
            )
            session.add(request)
            await session.flush()
            await audit.append(
                session,
                action="withdrawal.request",
                actor=f"user:{telegram_id}",
                subject=f"withdrawal:{request.id}",
                payload={"supplier": supplier.id, "amount": amount},
                now=now,
            )
            for admin_id in await admin_user_ids(session):
                await enqueue(
                    session,
                    kind=WITHDRAWAL_REQUEST,
                    user_id=admin_id,
                    payload={
                        "request_id": request.id,
                        "amount": amount,
                        "supplier": supplier.name,
                        "telegram_id": telegram_id,
                        "payable": ctx.payable,
                    },
                    now=now,
                )
            return await _view(session, request)

    async def decide(
        self, request_id: int, *, admin_telegram_id: int, pay: bool, reason: str = ""
    ) -> WithdrawalDecision:
        """First decision wins. Paying posts the ledger withdrawal (idempotency key from the
        request id), both in this one transaction, audited; the supplier is notified."""
        return await decide(
            self._db,
            self._clock,
            WITHDRAWALS,
            request_id,
            admin_telegram_id=admin_telegram_id,
            choice=Choice(pay, reason),
        )

    async def withdrawal(self, request_id: int, *, admin_telegram_id: int) -> WithdrawalView:
        """One request, for an admin about to decide it."""
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id, "withdrawal.view")
            request = await session.get(WithdrawalRequest, request_id)
            if request is None:
                raise NotFound(kind="withdrawal", ref=str(request_id))
            return await _view(session, request)


class WithdrawalKind:
    """A supplier asking to be paid: approving ("Mark paid") posts the ledger withdrawal,
    rejecting needs a reason; either way the supplier is told (through the outbox)."""

    name = "withdrawals"
    model = WithdrawalRequest
    waiting = WithdrawalStatus.PENDING
    not_found = "withdrawal"
    action = "withdrawal.decide"
    reason = Reason.REQUIRED

    def reason_of(self, request: WithdrawalRequest) -> str:
        return request.reason

    async def approve(
        self, session: AsyncSession, request: WithdrawalRequest, deciding: Deciding
    ) -> Applied[Posted | None]:
        supplier = await session.get(Supplier, request.supplier_id)
        assert supplier is not None
        posted = await withdraw_payable(  # InsufficientPayable: nothing written, still waiting
            session,
            supplier,
            request.amount,
            key=f"withdraw:request-{request.id}",
            actor=deciding.actor,
            now=deciding.now,
        )
        request.ledger_transaction_id = posted.transaction_id
        return await self._applied(session, request, deciding, WithdrawalStatus.PAID, posted)

    async def reject(
        self, session: AsyncSession, request: WithdrawalRequest, deciding: Deciding
    ) -> Applied[Posted | None]:
        return await self._applied(session, request, deciding, WithdrawalStatus.REJECTED, None)

    async def _applied(
        self,
        session: AsyncSession,
        request: WithdrawalRequest,
        deciding: Deciding,
        status: WithdrawalStatus,
        posted: Posted | None,
    ) -> Applied[Posted | None]:
        supplier = await session.get(Supplier, request.supplier_id)
        assert supplier is not None
        request.status = status
        request.reason = deciding.reason[:MAX_REASON]
        payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
        await enqueue(
            session,
            kind=WITHDRAWAL_DECIDED,
            user_id=supplier.user_id,
            payload={
                "request_id": request.id,
                "amount": request.amount,
                "status": status.value,
                "reason": request.reason,
                "payable": payable,
            },
            now=deciding.now,
        )
        return Applied(
            Outcome(status.value),
            f"withdrawal.{status.value}",
            f"withdrawal:{request.id}",
            {"supplier": supplier.id, "amount": request.amount, "reason": request.reason},
            posted,
        )

    async def result(
        self,
        session: AsyncSession,
        request: WithdrawalRequest,
        effect: Posted | None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> WithdrawalDecision:
        return WithdrawalDecision(await _view(session, request), effect, already_decided, verdict)


WITHDRAWALS = WithdrawalKind()

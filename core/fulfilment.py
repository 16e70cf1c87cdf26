"""Orders delivered later: a direct top-up (直充) the supplier fulfils in the bot, or (later)
an upstream still processing. Every state change goes through ``change``:

    pending → fulfilling → delivered | failed | partially_delivered

``change`` checks the move (``core.decisions.fulfilment.next_state``), sets the order's and
the fulfilment's status, records an ``OrderEvent``, tells the buyer (an ``order_status``
outbox notice) and calls each of ``HOOKS`` — the one place a later feature (callbacks to a
reseller's system) plugs in — all in the caller's transaction.

Money (see ``core.decisions.fulfilment``): the sale debits the reseller into the platform's
``fulfilment_hold``; the end of the fulfilment releases the hold, delivered units to the
supplier's side as charged and the rest back to the reseller, in one ledger transaction
keyed ``fulfil:<order id>``. ``kameng ledger check`` proves the hold equals what the open
orders paid. An upstream's order is settled at the cost synced before the sale, then its
payable is moved to what the upstream said it charged (``upstream-cost:<order id>``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, leases, order_callbacks, outbox
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.account_fields import upstream_fields
from core.decisions.fulfilment import (
    OPEN,
    AccountField,
    CheckedAccount,
    Settlement,
    check_account,
    decide_settlement,
    decide_upstream_cost,
    fields_from_json,
    fields_key,
    next_state,
)
from core.decisions.refund import ChargedLine
from core.decisions.refusal import Refusal
from core.decisions.sale import Charge, SaleContext
from core.errors import Forbidden, InvalidAccount, NotFound
from core.jobs import NewJob, add_jobs
from core.ledger import Posting, platform, post
from core.models import (
    AccountKind,
    DirectSku,
    Fulfilment,
    Order,
    OrderEvent,
    OrderStatus,
    QuoteAccount,
    RechargeAccount,
    Sku,
    Supplier,
    UpstreamSku,
    User,
)
from core.pricing.quotes import QuoteView, issue_quote
from core.rights import has_admin_rights

DIRECT_TASK = "direct_task"  # outbox: a new task to the supplier
ORDER_STATUS = "order_status"  # outbox: an order's new state to its buyer
DEADLINE_JOB = "fulfilment.deadline"  # a job at each deadline: fail what is overdue
SWEEP_LEASE = timedelta(minutes=2)
DEADLINE_REASON = "deadline"
SAVED_ACCOUNTS = 5  # offered per field set, most recently used first
UPSTREAM_DEADLINE_MINUTES = 30  # an upstream's order fails if not delivered by then
POLL_JOB = "fulfilment.poll"  # a job when an upstream's order is next asked about
FIRST_CHECK = timedelta(seconds=20)  # the order placed right after the sale; else this
UPSTREAM_COST = "upstream_cost"  # ledger: an upstream's payable moved to what it charged
UPSTREAM_LATE = "upstream_late"  # ledger: owed an upstream that delivered after our deadline


@dataclass(frozen=True)
class Refunded:
    """What a refund after the sale gave back (``core.orders.refunded``): units, minor units."""

    units: int
    amount: int


@dataclass(frozen=True)
class StateChange:
    """What ``change`` (or a refund after the sale) did, as a hook sees it."""

    order_id: int
    user_id: int
    status: OrderStatus
    actor: str
    note: str
    at: datetime
    refund: Refunded | None = None  # set when the change is a refund after the sale


Hook = Callable[[AsyncSession, StateChange], Awaitable[None]]
# called inside the transaction of every state change a reseller's system cares about (a
# fulfilment's move, a refund after the sale): the reseller's order callback, the
# Dujiao-Next shop's (``core/dujiao_server.py`` appends it)
HOOKS: list[Hook] = [order_callbacks.on_state_change]


async def announce(session: AsyncSession, changed: StateChange) -> None:
    """Call each of ``HOOKS`` with ``changed``, in the caller's transaction: the one path
    by which an order's state change reaches the reseller's systems."""
    for hook in HOOKS:
        await hook(session, changed)


@dataclass(frozen=True)
class Event:
    status: OrderStatus
    note: str
    at: datetime


@dataclass(frozen=True)
class FulfilmentInfo:
    """What the buyer (and the API) sees of an order delivered later."""

    source: str
    account: dict[str, str]
    deadline_at: datetime
    delivered_units: int
    refunded_units: int
    proof: str
    has_proof_photo: bool
    reason: str
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Task:
    """A direct top-up as its supplier sees it."""

    order_id: int
    sku_code: str
    sku_name: str
    quantity: int
    fields: tuple[AccountField, ...]
    account: dict[str, str]
    status: OrderStatus
    deadline_at: datetime
    created_at: datetime
    delivered_units: int
    proof: str
    reason: str

    @property
    def open(self) -> bool:
        return self.status in OPEN


@dataclass(frozen=True)
class DirectSpec:
    sku_name: str
    fields: tuple[AccountField, ...]
    deadline_minutes: int


# the sale's side (called by core.orders in the sale's transaction) -----------------------


def checked_account(fields_json: str, account: Mapping[str, object] | None) -> CheckedAccount:
    match check_account(fields_from_json(fields_json), account or {}):
        case Refusal(error):
            raise error
        case CheckedAccount() as checked:
            return checked
    raise AssertionError("unreachable")


async def write_direct_order(
    session: AsyncSession,
    *,
    order_id: int,
    ctx: SaleContext,
    charge: Charge,
    account: CheckedAccount,
    fields_json: str | None,
    deadline_minutes: int,
    actor: str,
    now: datetime,
    stock_units: int = 0,
) -> None:
    """After the order row: its fulfilment (pending, with the unit split as charged), the
    first event, the supplier's task notice (or, bought from an upstream, the first check),
    the deadline job, the saved account. ``stock_units``: units of an upstream's sale taken
    from our late stock (all of them: nothing to ask the upstream)."""
    deadline = now + timedelta(minutes=deadline_minutes)
    upstream = ctx.upstream_sku_id is not None
    ask = upstream and stock_units < charge.quantity
    session.add(
        Fulfilment(
            order_id=order_id,
            supplier_id=ctx.supplier_id,
            source="upstream" if upstream else "supplier",
            upstream_sku_id=ctx.upstream_sku_id,
            next_check_at=now + FIRST_CHECK if ask else None,
            checks=0,
            stock_units=stock_units,
            account=account.as_json(),
            status=OrderStatus.PENDING,
            deadline_at=deadline,
            unit_supplier=charge.split.supplier,
            unit_spread=charge.split.platform_spread,
            unit_commission=charge.split.platform_commission,
            delivered_units=0,
            proof="",
            reason="",
        )
    )
    session.add(
        OrderEvent(
            order_id=order_id, status=OrderStatus.PENDING, actor=actor, note="", created_at=now
        )
    )
    jobs = [NewJob(key=f"fulfilment-deadline:{order_id}", kind=DEADLINE_JOB, run_at=deadline)]
    if ask:
        jobs.append(
            NewJob(key=f"upstream-poll:{order_id}:0", kind=POLL_JOB, run_at=now + FIRST_CHECK)
        )
    add_jobs(session, jobs, now)
    if fields_json is not None:
        await _remember_account(
            session, ctx.user_id, fields_key(fields_from_json(fields_json)), account, now
        )
    if upstream:
        return
    await outbox.enqueue(
        session,
        kind=DIRECT_TASK,
        user_id=ctx.supplier_user_id,
        payload={
            "order_id": order_id,
            "sku": ctx.sku_code,
            "name": ctx.sku_name,
            "quantity": charge.quantity,
            "account": account.values,
            "deadline": as_utc(deadline).isoformat(),
        },
        now=now,
    )


def hold_postings(ctx: SaleContext, charge: Charge) -> list[Posting]:
    """A direct sale: the reseller pays into the hold; the supplier's side waits for
    delivery."""
    return [
        Posting(AccountKind.RESELLER_BALANCE, ctx.user_id, -charge.total, floor=charge.buyer_floor),
        platform(AccountKind.FULFILMENT_HOLD, charge.total),
    ]


async def _remember_account(
    session: AsyncSession, user_id: int, key: str, account: CheckedAccount, now: datetime
) -> None:
    values = account.as_json()
    saved = await session.scalar(
        select(RechargeAccount).where(
            RechargeAccount.user_id == user_id,
            RechargeAccount.fields_key == key,
            RechargeAccount.values == values,
        )
    )
    if saved is None:
        session.add(
            RechargeAccount(user_id=user_id, fields_key=key, values=values, last_used_at=now)
        )
    else:
        saved.last_used_at = now


# the one state change -------------------------------------------------------------------


async def change(
    session: AsyncSession,
    order: Order,
    fulfilment: Fulfilment,
    wanted: OrderStatus,
    *,
    actor: str,
    note: str = "",
    now: datetime,
    tell: bool = True,
) -> StateChange:
    """Move an order to ``wanted`` (refused if the move is not allowed), record it, tell
    the buyer (unless ``tell`` is False: he is reading the receipt that says it), call the
    hooks; in the caller's transaction."""
    match next_state(fulfilment.status, wanted):
        case Refusal(error):
            raise error
    order.status = wanted
    fulfilment.status = wanted
    session.add(
        OrderEvent(order_id=order.id, status=wanted, actor=actor[:64], note=note, created_at=now)
    )
    sku_code = await session.scalar(select(Sku.code).where(Sku.id == order.sku_id))
    if tell:
        await outbox.enqueue(
            session,
            kind=ORDER_STATUS,
            user_id=order.user_id,
            payload={
                "order_id": order.id,
                "sku": sku_code,
                "status": wanted.value,
                "quantity": order.quantity,
                "delivered": fulfilment.delivered_units,
                "refund": (order.quantity - fulfilment.delivered_units) * order.unit_price
                if wanted in (OrderStatus.FAILED, OrderStatus.PARTIALLY_DELIVERED)
                else 0,
                "note": note,
                "proof": fulfilment.proof,
            },
            now=now,
        )
    changed = StateChange(order.id, order.user_id, wanted, actor, note, now)
    await announce(session, changed)
    return changed


async def settle(
    session: AsyncSession,
    order: Order,
    fulfilment: Fulfilment,
    delivered: int,
    *,
    actor: str,
    note: str,
    now: datetime,
    tell: bool = True,
    charged: int | None = None,
) -> Settlement:
    """End a fulfilment with ``delivered`` units (the supplier's or the upstream's; units
    taken from our late stock at the sale, ``stock_units``, are delivered besides): release
    the hold (one ledger transaction), then the state change (delivered, failed or
    partially delivered). An upstream's order passes what the upstream ``charged`` for it,
    if it said: its payable is then moved to exactly that (a second transaction,
    ``upstream-cost:<order id>``)."""
    unit = ChargedLine(
        order.unit_price,
        fulfilment.unit_supplier,
        fulfilment.unit_spread,
        fulfilment.unit_commission,
    )
    stocked = fulfilment.stock_units
    match decide_settlement(order.quantity, unit, stocked + delivered, stocked):
        case Refusal(error):
            raise error
        case Settlement() as settlement:
            pass
    if fulfilment.status is OrderStatus.PENDING and settlement.delivered:
        await change(
            session, order, fulfilment, OrderStatus.FULFILLING, actor=actor, now=now, tell=tell
        )
    fulfilment.delivered_units = settlement.delivered
    fulfilment.finished_at = now
    if settlement.status is not OrderStatus.DELIVERED:
        fulfilment.reason = note
    await change(
        session, order, fulfilment, settlement.status, actor=actor, note=note, now=now, tell=tell
    )
    await post(
        session,
        key=f"fulfil:{order.id}",
        kind="fulfilment",
        order_id=order.id,
        now=now,
        memo=note,
        postings=settlement.postings(order.user_id, order.supplier_id),
    )
    adjusted = await _settle_upstream_cost(session, order, fulfilment, settlement, charged, now)
    await audit.append(
        session,
        action=f"fulfil.{settlement.status.value}"[:32],
        actor=actor,
        subject=f"order:{order.id}",
        payload={
            "delivered": settlement.delivered,
            "to_supplier": settlement.to_supplier,
            "refunded": settlement.to_buyer,
            "reason": note,
            **({"upstream_charged": charged, "to_spread": -adjusted} if adjusted else {}),
        },
        now=now,
    )
    return settlement


async def _settle_upstream_cost(
    session: AsyncSession,
    order: Order,
    fulfilment: Fulfilment,
    settlement: Settlement,
    charged: int | None,
    now: datetime,
) -> int:
    """An upstream's order: keep what it said it charged, and move its payable from the
    synced supply price to that, against the platform's spread; the difference moved."""
    if fulfilment.source != "upstream":
        return 0
    fulfilment.upstream_cost = charged if charged is not None and charged >= 0 else None
    cost = decide_upstream_cost(settlement.to_supplier, settlement.bought, charged)
    if cost is None:
        return 0
    await post(
        session,
        key=f"upstream-cost:{order.id}",
        kind=UPSTREAM_COST,
        order_id=order.id,
        now=now,
        memo=f"upstream charged {cost.charged}, supply price {cost.owed}",
        postings=cost.postings(order.supplier_id),
    )
    return cost.difference


# the use cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedAccount:
    id: int
    values: dict[str, str]


class Fulfilments:
    def __init__(self, db: Database, clock: Clock, quote_ttl: timedelta) -> None:
        self._db = db
        self._clock = clock
        self._quote_ttl = quote_ttl

    async def quote(
        self, telegram_id: int, sku_code: str, quantity: int, values: Mapping[str, object]
    ) -> QuoteView:
        """A direct top-up's quote: the account checked first (refused with the field's
        labels), then quoted and kept with the quote, so Confirm buys for it."""
        checked = await self.check(sku_code, values)
        now = self._clock.now()
        async with self._db.transaction() as session:
            quote = await issue_quote(
                session, telegram_id, sku_code, quantity, now, self._quote_ttl
            )
            session.add(QuoteAccount(quote_id=quote.id, account=checked.as_json()))
            return quote

    async def direct_spec(self, sku_code: str) -> DirectSpec | None:
        """The fields a direct SKU asks for (``None``: not a direct SKU): its own, or an
        upstream's direct product's (as synced; checked again there when ordered)."""
        code = sku_code.strip().upper()
        async with self._db.reading() as session:
            row = (
                await session.execute(
                    select(DirectSku.fields, DirectSku.deadline_minutes, Sku.name)
                    .join(Sku, Sku.id == DirectSku.sku_id)
                    .where(Sku.code == code)
                )
            ).first()
            if row is not None:
                return DirectSpec(row.name, fields_from_json(row.fields), row.deadline_minutes)
            upstream = (
                await session.execute(
                    select(UpstreamSku.account_fields, Sku.name)
                    .join(Sku, Sku.id == UpstreamSku.sku_id)
                    .where(Sku.code == code, UpstreamSku.kind == "direct")
                )
            ).first()
            if upstream is None:
                return None
            fields = upstream_fields(upstream.account_fields)
            return DirectSpec(upstream.name, fields, UPSTREAM_DEADLINE_MINUTES) if fields else None

    async def check(self, sku_code: str, values: Mapping[str, object]) -> CheckedAccount:
        """The account checked against the SKU's fields, before any quote."""
        spec = await self.direct_spec(sku_code)
        if spec is None:
            raise NotFound(kind="sku", ref=sku_code)
        match check_account(spec.fields, values):
            case Refusal(error):  # an ``InvalidAccount`` names the field with its labels
                raise error
            case CheckedAccount() as checked:
                return checked
        raise AssertionError("unreachable")

    async def saved_accounts(self, telegram_id: int, sku_code: str) -> list[SavedAccount]:
        """The accounts this reseller topped up before with the same fields, newest first."""
        spec = await self.direct_spec(sku_code)
        if spec is None:
            return []
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            rows = await session.execute(
                select(RechargeAccount.id, RechargeAccount.values)
                .where(
                    RechargeAccount.user_id == user.id,
                    RechargeAccount.fields_key == fields_key(spec.fields),
                )
                .order_by(RechargeAccount.last_used_at.desc(), RechargeAccount.id.desc())
                .limit(SAVED_ACCOUNTS)
            )
            return [SavedAccount(row.id, json.loads(row.values)) for row in rows]

    async def saved_account(self, telegram_id: int, account_id: int) -> dict[str, str]:
        """One of this reseller's saved accounts (another's is not found)."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            values = await session.scalar(
                select(RechargeAccount.values).where(
                    RechargeAccount.id == account_id, RechargeAccount.user_id == user.id
                )
            )
            if values is None:
                raise NotFound(kind="account", ref=str(account_id))
            loaded: dict[str, str] = json.loads(values)
            return loaded

    async def tasks(self, telegram_id: int, *, open_only: bool = True) -> list[Task]:
        """A supplier's direct top-ups, oldest deadline first."""
        async with self._db.reading() as session:
            supplier = await _supplier_of(session, telegram_id)
            where = [Fulfilment.supplier_id == supplier.id]
            if open_only:
                where.append(Fulfilment.status.in_(OPEN))
            ids = await session.scalars(
                select(Fulfilment.order_id).where(*where).order_by(Fulfilment.deadline_at).limit(50)
            )
            return [await _task(session, order_id) for order_id in ids]

    async def task(self, telegram_id: int, order_id: int) -> Task:
        async with self._db.reading() as session:
            await _may_fulfil(session, telegram_id, order_id)
            return await _task(session, order_id)

    async def start(self, telegram_id: int, order_id: int) -> Task:
        """The supplier takes the task: pending → fulfilling (again: nothing changes)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            order, fulfilment = await _locked(session, order_id)
            actor = await _may_fulfil(session, telegram_id, order_id)
            if fulfilment.status is OrderStatus.PENDING:
                await change(
                    session, order, fulfilment, OrderStatus.FULFILLING, actor=actor, now=now
                )
            elif fulfilment.status is not OrderStatus.FULFILLING:
                match next_state(fulfilment.status, OrderStatus.FULFILLING):
                    case Refusal(error):
                        raise error
            return await _task(session, order_id)

    async def complete(
        self,
        telegram_id: int,
        order_id: int,
        *,
        units: int | None = None,
        proof: str = "",
        proof_file_id: str | None = None,
    ) -> Task:
        """Delivered: all units (or ``units`` of them, the rest refunded), with an optional
        proof (a serial number, a photo)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            order, fulfilment = await _locked(session, order_id)
            actor = await _may_fulfil(session, telegram_id, order_id)
            fulfilment.proof = proof.strip()[:500]
            fulfilment.proof_file_id = proof_file_id
            delivered = order.quantity - fulfilment.stock_units if units is None else units
            await settle(session, order, fulfilment, delivered, actor=actor, note="", now=now)
            return await _task(session, order_id)

    async def fail(self, telegram_id: int, order_id: int, reason: str) -> Task:
        """Not delivered: the reseller gets everything back, with the reason."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            order, fulfilment = await _locked(session, order_id)
            actor = await _may_fulfil(session, telegram_id, order_id)
            note = reason.strip()[:500] or "failed"
            await settle(session, order, fulfilment, 0, actor=actor, note=note, now=now)
            return await _task(session, order_id)

    async def expire_due(self, owner: str, *, limit: int = 50) -> list[int]:
        """Fail every open fulfilment past its deadline (claimed under a lease, so several
        processes may sweep at once); the orders failed."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            claimed = await leases.claim(
                session,
                Fulfilment,
                owner=owner,
                now=now,
                lease=SWEEP_LEASE,
                where=[Fulfilment.status.in_(OPEN), Fulfilment.deadline_at <= now],
                order_by=[Fulfilment.deadline_at],
                limit=limit,
            )
            failed: list[int] = []
            for fulfilment_id in sorted(claimed):
                fulfilment = await session.get(Fulfilment, fulfilment_id)
                assert fulfilment is not None
                await session.refresh(fulfilment)
                order = await session.get(Order, fulfilment.order_id)
                assert order is not None
                await settle(
                    session,
                    order,
                    fulfilment,
                    0,
                    actor="system:deadline",
                    note=DEADLINE_REASON,
                    now=now,
                )
                if fulfilment.source == "upstream" and fulfilment.upstream_order_id:
                    # the upstream may still deliver (and charge us): keep asking it for its
                    # final answer (core/procurement.py, a late delivery)
                    fulfilment.next_check_at = now
                    job = NewJob(key=f"upstream-late:{order.id}", kind=POLL_JOB, run_at=now)
                    add_jobs(session, [job], now)
                await leases.release(session, Fulfilment, fulfilment_id, owner=owner)
                failed.append(order.id)
            return failed


async def fulfilment_info(session: AsyncSession, order: Order) -> FulfilmentInfo | None:
    """An order's fulfilment as its buyer sees it (``None``: delivered at once)."""
    fulfilment = await session.scalar(select(Fulfilment).where(Fulfilment.order_id == order.id))
    if fulfilment is None:
        return None
    events = await session.scalars(
        select(OrderEvent).where(OrderEvent.order_id == order.id).order_by(OrderEvent.id)
    )
    ended = fulfilment.status not in OPEN
    return FulfilmentInfo(
        source=fulfilment.source,
        account=json.loads(fulfilment.account),
        deadline_at=as_utc(fulfilment.deadline_at),
        # while open: the units our late stock gave at the sale, handed over already
        delivered_units=fulfilment.delivered_units if ended else fulfilment.stock_units,
        refunded_units=order.quantity - fulfilment.delivered_units if ended else 0,
        proof=fulfilment.proof,
        has_proof_photo=fulfilment.proof_file_id is not None,
        reason=fulfilment.reason,
        events=tuple(Event(e.status, e.note, as_utc(e.created_at)) for e in events),
    )


async def _locked(session: AsyncSession, order_id: int) -> tuple[Order, Fulfilment]:
    """The order and its fulfilment, locked (PostgreSQL ``FOR UPDATE``; SQLite's write
    transaction is exclusive already): the first of two presses wins, the second sees it."""
    fulfilment = await session.scalar(
        select(Fulfilment).where(Fulfilment.order_id == order_id).with_for_update()
    )
    order = await session.scalar(select(Order).where(Order.id == order_id).with_for_update())
    if fulfilment is None or order is None:
        raise NotFound(kind="order", ref=str(order_id))
    return order, fulfilment


async def _supplier_of(session: AsyncSession, telegram_id: int) -> Supplier:
    user = await load_user(session, telegram_id)
    supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
    if supplier is None:
        raise NotFound(kind="supplier", ref=str(telegram_id))
    return supplier


async def _may_fulfil(session: AsyncSession, telegram_id: int, order_id: int) -> str:
    """The actor, if this user is the order's supplier or an admin; else the order is not
    found (another supplier's order is not theirs to see)."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        raise Forbidden(action="fulfil")
    supplier_user = await session.scalar(
        select(Supplier.user_id)
        .join(Fulfilment, Fulfilment.supplier_id == Supplier.id)
        .where(Fulfilment.order_id == order_id)
    )
    if supplier_user is None:
        raise NotFound(kind="order", ref=str(order_id))
    if supplier_user == user.id:
        return f"supplier:{telegram_id}"
    if has_admin_rights(user):
        return f"admin:{telegram_id}"
    raise NotFound(kind="order", ref=str(order_id))


async def _task(session: AsyncSession, order_id: int) -> Task:
    row = (
        await session.execute(
            select(Order, Fulfilment, Sku.code, Sku.name, DirectSku.fields)
            .join(Fulfilment, Fulfilment.order_id == Order.id)
            .join(Sku, Sku.id == Order.sku_id)
            .outerjoin(DirectSku, DirectSku.sku_id == Sku.id)
            .where(Order.id == order_id)
        )
    ).one()
    order, fulfilment, code, name, fields = row
    return Task(
        order_id=order.id,
        sku_code=code,
        sku_name=name,
        quantity=order.quantity,
        fields=fields_from_json(fields) if fields else (),
        account=json.loads(fulfilment.account),
        status=fulfilment.status,
        deadline_at=as_utc(fulfilment.deadline_at),
        created_at=as_utc(order.created_at),
        delivered_units=fulfilment.delivered_units,
        proof=fulfilment.proof,
        reason=fulfilment.reason,
    )


def account_values(values: Any) -> dict[str, object]:
    """An account as a front received it: a JSON object of strings, else refused."""
    if not isinstance(values, dict):
        raise InvalidAccount(field="account", reason="missing")
    return {str(k): v for k, v in values.items()}

"""USDT on TRON (TRC20): the exchange rate, the payable amount a payment holds, and the
watcher that reads the deposit address's incoming transfers and settles the payments they
pay. Each transfer is recorded once (``usdt_transfers.tx_id`` UNIQUE); crediting goes
through the payments core (``PaymentBook.settle``: one ledger transaction per payment,
keyed by the payment's id), so a transfer read by two watchers at once credits once.

The rules are pure, in ``core/decisions/usdt.py``; the chain is ``core/payments/tron.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.balances import check_amount
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.usdt import (
    PAYABLE_STEP,
    ChainRules,
    Credit,
    Mismatched,
    NotOurs,
    OpenPayment,
    RateOutOfRange,
    RateToConfirm,
    Transfer,
    Unconfirmed,
    decide_rate,
    decide_transfer,
    fen_for_units,
    nominal_units,
    payable_units,
)
from core.errors import (
    BadNotification,
    ChainUnavailable,
    InvalidAmount,
    InvalidState,
    NotFound,
    UsdtNotConfigured,
    UsdtRateRefused,
    UsdtSlotsFull,
)
from core.jobs import JobContext, JobStore, NewJob
from core.models import (
    Payment,
    PaymentStatus,
    UsdtAmountHold,
    UsdtRate,
    UsdtTransfer,
    UsdtTransferStatus,
)
from core.payments.provider import NewPayment, Paid, PayStep, Status, Unpaid
from core.payments.registry import Providers
from core.payments.service import Payments, Settled, new_payment_id
from core.payments.tron import ChainTransfer, TronChain, TronGrid
from core.rights import require_admin
from core.settings import Settings

log = logging.getLogger("kameng.payments.usdt")

NAME = "usdt"  # the provider's name: the payments' column, the bot's method
CURRENCY = "USDT"  # provider_amount is in USDT's smallest unit (6 decimals)
WATCH = "payments.usdt_watch"  # job kind: one watcher run

#: transfers are listed again from this long before the newest one recorded, so one
#: that a node indexed late is not missed (recording is idempotent)
OVERLAP = timedelta(minutes=10)
#: a watcher's first run looks back this far past the payments' expiry and grace
FIRST_LOOK_BACK = timedelta(hours=1)
MAX_PENDING = 500  # transfers looked at again per run
CHECK_SPACING = 3.0  # seconds between the watcher runs a Check asks for


@dataclass(frozen=True)
class RateView:
    fen_per_usdt: int
    set_by: str
    note: str
    set_at: datetime


@dataclass(frozen=True)
class TransferView:
    tx_id: str
    from_address: str
    amount: int
    paid_at: datetime
    block: int | None
    status: UsdtTransferStatus
    reason: str
    payment_id: str | None


@dataclass(frozen=True)
class WatchReport:
    """What one run saw: transfers new to us, and what became of those looked at."""

    listed: int = 0
    recorded: int = 0
    credited: int = 0
    mismatched: int = 0
    late: int = 0
    waiting: int = 0


class PaymentBook(Protocol):
    """What the watcher needs of the payments core."""

    async def open_usdt(self, since: datetime) -> Sequence[OpenPayment]:
        """USDT payments still payable (created, or expired after ``since``)."""
        ...

    async def settle_usdt(self, payment_id: str, amount: int, tx_id: str, paid_at: datetime) -> str:
        """Settle ``payment_id`` as paid ``amount`` by ``tx_id``: ``credited``,
        ``mismatched`` or ``already``."""
        ...


def _view(row: UsdtTransfer) -> TransferView:
    return TransferView(
        tx_id=row.tx_id,
        from_address=row.from_address,
        amount=row.amount,
        paid_at=as_utc(row.paid_at),
        block=row.block,
        status=row.status,
        reason=row.reason,
        payment_id=row.payment_id,
    )


def _rate_view(row: UsdtRate) -> RateView:
    return RateView(row.fen_per_usdt, row.set_by, row.note, as_utc(row.set_at))


async def current_rate(session: AsyncSession, *, lock: bool = False) -> UsdtRate | None:
    """The rate in force; ``lock`` holds it (PostgreSQL) until the transaction ends, so
    two admins setting a rate at once take turns."""
    query = select(UsdtRate).order_by(UsdtRate.id.desc()).limit(1)
    return await session.scalar(query.with_for_update() if lock else query)


class Usdt:
    """The USDT use cases. ``chain`` is None where USDT is not configured."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        deposit_address: str,
        contract: str,
        confirmations: int,
        grace: timedelta,
        chain: TronChain | None,
        jobs: JobStore | None = None,
        watch_every: timedelta = timedelta(seconds=30),
        currency: str = "CNY",
    ) -> None:
        self._db = db
        self._clock = clock
        self._jobs = jobs
        self._watch_every = watch_every
        self._currency = currency
        self.rules = ChainRules(deposit_address, contract, confirmations, grace)
        self.chain = chain

        self._book: PaymentBook | None = None
        self._payments: Payments | None = None
        self._last_check = -CHECK_SPACING

    @property
    def enabled(self) -> bool:
        return self.chain is not None and bool(self.rules.deposit_address)

    def join(self, providers: Providers) -> Providers:
        """``providers`` and, when USDT is enabled, its provider after them."""
        if not self.enabled:
            return providers
        return Providers([*providers, UsdtProvider(self)])

    def attach(self, payments: Payments) -> None:
        """The payments core the watcher settles through (wired once, in the platform)."""
        self._book = PaymentsBook(self._db, payments)
        self._payments = payments

    # -- the rate ---------------------------------------------------------------------------

    async def set_rate(
        self,
        fen_per_usdt: int,
        *,
        admin_telegram_id: int | None = None,
        note: str = "",
        confirmed: bool = False,
        replacing: int | None = None,
    ) -> RateView:
        """A new rate (fen per 1 USDT) from now on; an admin's, or the operator's (None).
        Refused outside the currency's sane range, and, unless ``confirmed``, when it moves
        the rate in force by more than ``RATE_CONFIRM_BPS`` (``decide_rate``). ``replacing``
        is the rate the admin saw when he confirmed: another rate in force by now (his own
        second press, another admin) refuses it with ``reason="changed"``."""
        if fen_per_usdt <= 0:
            raise InvalidAmount(amount=fen_per_usdt)
        now = self._clock.now()
        async with self._db.transaction() as session:
            actor = "cli"
            if admin_telegram_id is not None:
                await require_admin(session, admin_telegram_id, "usdt.rate")
                actor = f"admin:{admin_telegram_id}"
            latest = await current_rate(session, lock=True)
            if latest is not None:  # locked: a concurrent setter committed first? read again
                latest = await current_rate(session)
            current = None if latest is None else latest.fen_per_usdt
            if replacing is not None and current != replacing:
                raise UsdtRateRefused(
                    reason="changed", rate=fen_per_usdt, expected=replacing, current=current
                )
            decision = decide_rate(fen_per_usdt, current, self._currency)
            if isinstance(decision, RateOutOfRange):
                raise UsdtRateRefused(
                    reason="range",
                    rate=fen_per_usdt,
                    low=decision.low,
                    high=decision.high,
                    currency=self._currency,
                )
            if isinstance(decision, RateToConfirm) and not confirmed:
                raise UsdtRateRefused(
                    reason="confirm",
                    rate=fen_per_usdt,
                    current=current,
                    change_bps=decision.change_bps,
                )
            row = UsdtRate(fen_per_usdt=fen_per_usdt, set_by=actor, note=note, set_at=now)
            session.add(row)
            await audit.append(
                session,
                action="usdt.rate",
                actor=actor,
                subject="usdt",
                payload={"fen_per_usdt": fen_per_usdt, "note": note, "previous": current},
                now=now,
            )
            await session.flush()
            return _rate_view(row)

    async def rate(self) -> RateView | None:
        async with self._db.reading() as session:
            row = await current_rate(session)
            return None if row is None else _rate_view(row)

    # -- the amount a payment expects -------------------------------------------------------

    async def hold_amount(self, payment_id: str, amount_fen: int, held_until: datetime) -> int:
        """The payable amount (USDT units) for a payment of ``amount_fen`` at today's rate,
        held for ``payment_id`` until ``held_until`` (its expiry and grace). The amount is
        the hold's primary key, so two payments never hold the same one."""
        if not self.rules.deposit_address:
            raise UsdtNotConfigured(missing="deposit_address")
        now = self._clock.now()
        for _ in range(3):  # another payment took the same amount at the same moment
            try:
                async with self._db.transaction() as session:
                    rate = await current_rate(session)
                    if rate is None:
                        raise UsdtNotConfigured(missing="rate")
                    nominal = nominal_units(amount_fen, rate.fen_per_usdt)
                    near = UsdtAmountHold.amount.between(nominal, nominal + PAYABLE_STEP * 100)
                    await session.execute(
                        delete(UsdtAmountHold).where(near, UsdtAmountHold.held_until < now)
                    )
                    taken = set(await session.scalars(select(UsdtAmountHold.amount).where(near)))
                    payable = payable_units(nominal, taken)
                    if payable is None:
                        raise UsdtSlotsFull(amount=amount_fen)
                    session.add(
                        UsdtAmountHold(amount=payable, payment_id=payment_id, held_until=held_until)
                    )
                    await session.flush()
                    return payable
            except IntegrityError:
                continue
        raise UsdtSlotsFull(amount=amount_fen)

    # -- the watcher ------------------------------------------------------------------------

    async def schedule_watch(self) -> None:
        """Schedule the next watcher run at the next multiple of ``watch_every``: the time
        is its job's key, so every process scheduling it makes one job, and the job's
        lease lets one of them run it. Nothing when USDT is not enabled."""
        if self._jobs is None or not self.enabled:
            return
        every = self._watch_every.total_seconds()
        now = self._clock.now()
        at = datetime.fromtimestamp((now.timestamp() // every + 1) * every, tz=UTC)
        await self._jobs.schedule([NewJob(f"{WATCH}:{at.isoformat()}", WATCH, at)])

    async def run_watch(self, _context: JobContext) -> None:
        """The watcher job's handler: one run, then the next one scheduled. A chain that
        does not answer is a WARNING; its transfers are read on a later run."""
        try:
            report = await self.watch()
            if report.recorded or report.credited or report.mismatched or report.late:
                log.info("USDT watcher: %s", report)
        except ChainUnavailable as down:
            log.warning("USDT watcher: the chain's API did not answer (%s)", down)
        finally:
            await self.schedule_watch()

    async def _since_ms(self) -> int:
        async with self._db.reading() as session:
            newest = await session.scalar(select(func.max(UsdtTransfer.paid_at)))
        if newest is None:
            start = self._clock.now() - self.rules.grace - FIRST_LOOK_BACK
        else:
            start = as_utc(newest) - OVERLAP
        return int(start.timestamp() * 1000)

    async def _record(self, listed: list[ChainTransfer]) -> int:
        if not listed:
            return 0
        now = self._clock.now()
        recorded = 0
        async with self._db.transaction() as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            for t in listed:
                new = await session.scalar(
                    insert(UsdtTransfer)
                    .values(
                        tx_id=t.tx_id,
                        from_address=t.from_address,
                        to_address=t.to_address,
                        amount=t.amount,
                        paid_at=datetime.fromtimestamp(t.timestamp_ms / 1000, UTC),
                        block=None,
                        status=UsdtTransferStatus.PENDING,
                        reason="",
                        payment_id=None,
                        seen_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=[UsdtTransfer.tx_id])
                    .returning(UsdtTransfer.id)
                )
                recorded += new is not None
        return recorded

    async def _decide(
        self,
        tx_id: str,
        status: UsdtTransferStatus,
        reason: str,
        payment_id: str | None,
        block: int | None,
    ) -> bool:
        """Moves a pending transfer to its outcome; False if another watcher did first."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            moved = await session.execute(
                update(UsdtTransfer)
                .where(
                    UsdtTransfer.tx_id == tx_id,
                    UsdtTransfer.status == UsdtTransferStatus.PENDING,
                )
                .values(
                    status=status,
                    reason=reason,
                    payment_id=payment_id,
                    block=block,
                    decided_at=now,
                )
            )
            done = bool(getattr(moved, "rowcount", 0))
            if done and status == UsdtTransferStatus.MISMATCHED:
                await audit.append(
                    session,
                    action="usdt.mismatched",
                    actor="usdt-watcher",
                    subject="usdt-transfer",  # a tx id is longer than a subject
                    payload={"tx_id": tx_id, "reason": reason},
                    now=now,
                )
        return done

    async def watch_soon(self) -> None:
        """A watcher run unless one started in this process within ``CHECK_SPACING``: a
        Check pressed again and again, or a recovery round over many USDT payments, asks
        the chain's API once."""
        started = time.monotonic()
        if started - self._last_check < CHECK_SPACING:
            return
        self._last_check = started
        await self.watch()

    async def watch(self, book: PaymentBook | None = None) -> WatchReport:
        """One run: list new transfers, record them, and settle every pending one that is
        confirmed enough. ``ChainUnavailable`` leaves everything for the next run."""
        if self.chain is None:
            raise UsdtNotConfigured(missing="api_url")
        book = book or self._book
        if book is None:
            raise UsdtNotConfigured(missing="payments")
        rules = self.rules
        listed = await self.chain.incoming(
            rules.deposit_address, rules.contract, await self._since_ms()
        )
        recorded = await self._record(listed)
        async with self._db.reading() as session:
            pending = list(
                await session.scalars(
                    select(UsdtTransfer)
                    .where(UsdtTransfer.status == UsdtTransferStatus.PENDING)
                    .order_by(UsdtTransfer.paid_at, UsdtTransfer.id)
                    .limit(MAX_PENDING)
                )
            )
        if not pending:
            return WatchReport(listed=len(listed), recorded=recorded)
        latest = await self.chain.latest_block()
        oldest = min(as_utc(row.paid_at) for row in pending)
        payments = await book.open_usdt(oldest - rules.grace - timedelta(days=1))
        counts = {"credited": 0, "mismatched": 0, "late": 0, "waiting": 0}
        for row in pending:
            info = await self.chain.tx_info(row.tx_id)
            transfer = Transfer(
                tx_id=row.tx_id,
                to_address=row.to_address,
                contract=rules.contract,  # listed by the contract: the adapter asked for it
                amount=row.amount,
                paid_at=as_utc(row.paid_at),
                block=info.block,
                succeeded=info.succeeded,
            )
            match decide_transfer(transfer, latest, payments, rules):
                case Unconfirmed():
                    counts["waiting"] += 1
                case NotOurs(reason):
                    await self._decide(
                        row.tx_id, UsdtTransferStatus.IGNORED, reason, None, info.block
                    )
                case Credit(payment_id) | Mismatched("late", payment_id) if payment_id:
                    try:
                        outcome = await book.settle_usdt(
                            payment_id, row.amount, row.tx_id, as_utc(row.paid_at)
                        )
                    except BadNotification:  # the payment was paid by another transfer
                        outcome = "paid_twice"
                    if outcome == "paid_twice":
                        if await self._decide(
                            row.tx_id, UsdtTransferStatus.MISMATCHED, outcome, None, info.block
                        ):
                            counts["mismatched"] += 1
                        continue
                    status = (
                        UsdtTransferStatus.LATE
                        if outcome == "mismatched"
                        else UsdtTransferStatus.CREDITED
                    )
                    if await self._decide(row.tx_id, status, outcome, payment_id, info.block):
                        counts["late" if status == UsdtTransferStatus.LATE else "credited"] += 1
                case Mismatched(reason):
                    log.warning(
                        "USDT transfer %s of %s units pays no payment (%s): kept for admins",
                        row.tx_id,
                        row.amount,
                        reason,
                    )
                    if await self._decide(
                        row.tx_id, UsdtTransferStatus.MISMATCHED, reason, None, info.block
                    ):
                        counts["mismatched"] += 1
        return WatchReport(listed=len(listed), recorded=recorded, **counts)

    async def paid_by(self, payment_id: str) -> TransferView | None:
        """The transfer that paid ``payment_id`` (credited, or too late), if any."""
        async with self._db.reading() as session:
            row = await session.scalar(
                select(UsdtTransfer).where(
                    UsdtTransfer.payment_id == payment_id,
                    UsdtTransfer.status.in_([UsdtTransferStatus.CREDITED, UsdtTransferStatus.LATE]),
                )
            )
            return None if row is None else _view(row)

    async def credit_transfer(
        self,
        tx_id: str,
        *,
        admin_telegram_id: int | None,
        to_telegram_id: int,
        note: str,
        amount: int | None = None,
        operator: str = "operator:cli",
    ) -> Settled:
        """A transfer kept as mismatched, credited by an admin (or the operator, with
        ``admin_telegram_id`` None) to a named reseller: it becomes a USDT payment of his,
        held (``mismatched``, the tx id as its reference, UNIQUE), and is credited through
        the payments core's manual credit: audited, once. ``amount`` (fen) defaults to what
        arrived at today's rate, rounded down."""
        if self._payments is None:
            raise UsdtNotConfigured(missing="payments")
        if not note.strip():
            raise InvalidState(kind="payment", reason="note_required")
        now = self._clock.now()
        async with self._db.transaction() as session:
            if admin_telegram_id is not None:
                await require_admin(session, admin_telegram_id, "usdt.credit")
            row = await session.scalar(
                select(UsdtTransfer).where(UsdtTransfer.tx_id == tx_id).with_for_update()
            )
            if row is None:
                raise NotFound(kind="usdt_transfer", ref=tx_id)
            payment_id = row.payment_id
            if payment_id is None:
                if row.status != UsdtTransferStatus.MISMATCHED:
                    raise InvalidState(kind="usdt_transfer", ref=tx_id, status=row.status.value)
                if amount is None:
                    rate = await current_rate(session)
                    if rate is None:
                        raise UsdtNotConfigured(missing="rate")
                    amount = fen_for_units(row.amount, rate.fen_per_usdt)
                check_amount(amount)
                target = await load_user(session, to_telegram_id)
                payment_id = new_payment_id(now)
                session.add(
                    Payment(
                        id=payment_id,
                        user_id=target.id,
                        provider=NAME,
                        method="",
                        amount=amount,
                        currency=self._currency,
                        provider_amount=row.amount,
                        provider_currency=CURRENCY,
                        status=PaymentStatus.MISMATCHED,
                        provider_reference=row.tx_id,
                        paid_amount=row.amount,
                        fee=0,
                        note=f"USDT transfer kept ({row.reason})",
                        created_at=now,
                        expires_at=now,
                        paid_at=row.paid_at,
                    )
                )
                row.payment_id = payment_id
        settled = await self._payments.credit_manually(
            payment_id,
            admin_telegram_id=admin_telegram_id,
            to_telegram_id=to_telegram_id,
            note=note,
            amount=amount,
            operator=operator,
        )
        async with self._db.transaction() as session:
            await session.execute(
                update(UsdtTransfer)
                .where(UsdtTransfer.tx_id == tx_id)
                .values(status=UsdtTransferStatus.CREDITED, decided_at=now)
            )
        return settled

    async def transfers(
        self, status: UsdtTransferStatus | None = None, *, limit: int = 50
    ) -> list[TransferView]:
        """Recorded transfers, newest first: ``MISMATCHED`` is what admins look at."""
        query = select(UsdtTransfer).order_by(UsdtTransfer.paid_at.desc()).limit(limit)
        if status is not None:
            query = query.where(UsdtTransfer.status == status)
        async with self._db.reading() as session:
            return [_view(row) for row in await session.scalars(query)]


class PaymentsBook:
    """``PaymentBook`` on the payments core: USDT payments still payable, and settling one
    as a provider's notification would (``Payments.settle``: credited once, under the
    transfer's tx id as the provider reference, UNIQUE per provider)."""

    def __init__(self, db: Database, payments: Payments) -> None:
        self._db = db
        self._payments = payments

    async def open_usdt(self, since: datetime) -> Sequence[OpenPayment]:
        async with self._db.reading() as session:
            rows = await session.execute(
                select(
                    Payment.id, Payment.provider_amount, Payment.created_at, Payment.expires_at
                ).where(
                    Payment.provider == NAME,
                    Payment.status.in_([PaymentStatus.CREATED, PaymentStatus.EXPIRED]),
                    Payment.expires_at >= since,
                    Payment.provider_amount.is_not(None),
                )
            )
            return [
                OpenPayment(pid, int(amount or 0), as_utc(created), as_utc(expires))
                for pid, amount, created, expires in rows
            ]

    async def settle_usdt(self, payment_id: str, amount: int, tx_id: str, paid_at: datetime) -> str:
        paid = Paid(
            payment_id=payment_id,
            amount=amount,
            reference=tx_id,
            paid_at=paid_at,
            raw={"tx_id": tx_id, "amount": str(amount)},
        )
        settled = await self._payments.settle(NAME, paid)
        return settled.outcome


@dataclass(frozen=True)
class UsdtProvider:
    """The ``PaymentProvider`` of USDT: creating a payment holds its payable amount and
    shows the deposit address; nothing notifies (the watcher settles what the chain shows),
    so ``verify`` refuses and ``query`` answers unpaid."""

    usdt: Usdt
    name: str = NAME
    fee_bps: int = 0
    acknowledgement: str = ""
    notified_via: str = ""

    async def create(self, payment: NewPayment) -> PayStep:
        address = self.usdt.rules.deposit_address
        payable = await self.usdt.hold_amount(
            payment.payment_id, payment.amount, payment.expires_at + self.usdt.rules.grace
        )
        return PayStep(
            qr_text=address,
            address=address,
            provider_amount=payable,
            provider_currency=CURRENCY,
        )

    def verify(self, params: Mapping[str, str]) -> Paid:
        raise BadNotification(provider=NAME, reason="no_notifications")

    async def query(self, payment_id: str) -> Status:
        """The Check button and recovery: one watcher run now (the chain down is only a
        warning), then what the chain paid this payment, if anything."""
        try:
            await self.usdt.watch_soon()
        except (ChainUnavailable, UsdtNotConfigured) as not_now:
            log.warning("USDT check of %s: no watcher run (%s)", payment_id, not_now)
        paid = await self.usdt.paid_by(payment_id)
        if paid is None:
            return Unpaid(payment_id)
        return Paid(payment_id, paid.amount, paid.tx_id, paid.paid_at, {"tx_id": paid.tx_id})


def usdt_from_settings(
    db: Database, clock: Clock, settings: Settings, jobs: JobStore | None = None
) -> Usdt:
    """``Usdt`` as the settings have it: its chain only with a deposit address and an API."""
    chain = None
    if settings.usdt_deposit_address and settings.usdt_api_url:
        chain = TronGrid(settings.usdt_api_url, settings.usdt_api_key)
    return Usdt(
        db,
        clock,
        deposit_address=settings.usdt_deposit_address,
        contract=settings.usdt_contract,
        confirmations=settings.usdt_confirmations,
        grace=timedelta(seconds=settings.payment_grace_seconds),
        chain=chain,
        jobs=jobs,
        watch_every=timedelta(seconds=settings.usdt_watch_seconds),
        currency=settings.currency,
    )

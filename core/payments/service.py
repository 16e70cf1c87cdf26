"""The payments' use cases: create, settle a notification (credit once), check with the
provider, recover (补单) and expire, an admin's manual credit. Each money step is load →
decide (``core/decisions/payment.py``) → write, in one transaction.

Each credited payment is exactly one ledger transaction keyed ``payment:<id>`` (UNIQUE):
the reseller's balance gets the amount, the top-up clearing what arrived, and the
``platform_payment_fees`` account what the provider kept. ``kameng ledger check`` proves it.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.balances import check_amount, money_in
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.payment import (
    Already,
    Credit,
    Hold,
    PaymentContext,
    decide_payment,
    fee_of,
    may_credit_manually,
)
from core.errors import (
    BadNotification,
    InvalidState,
    NotFound,
    ProviderRefused,
    ProviderUnavailable,
    UnknownPaymentMethod,
)
from core.jobs import JobContext, JobStore, NewJob
from core.ledger import balance_of, platform, post
from core.models import AccountKind, Payment, PaymentStatus, User
from core.outbox import enqueue
from core.payments.provider import NewPayment, Paid, PayStep, Unknown, Unpaid
from core.payments.registry import Providers
from core.rights import require_admin

log = logging.getLogger("kameng.payments")

CREDITED_NOTICE = "payment.credited"  # outbox kind: "credited ✅" to the payer
HELD_NOTICE = "payment.held"  # outbox kind: paid, but not as asked; an admin will look
RECOVER = "payments.recover"  # job kind: the recovery round (补单)


def ledger_key(payment_id: str) -> str:
    return f"payment:{payment_id}"


def new_payment_id(now: datetime) -> str:
    """Ours, not guessable: the day and 64 random bits (the provider's ``out_trade_no``)."""
    return f"{now:%y%m%d}{secrets.token_hex(8)}"


@dataclass(frozen=True)
class PaymentRules:
    currency: str
    public_url: str  # notifications go to {public_url}/pay/{provider}/notify
    ttl: timedelta
    grace: timedelta
    check_after: timedelta  # recovery asks about a created payment this old
    recovery_every: timedelta = timedelta(minutes=5)  # how often the recovery job runs


@dataclass(frozen=True)
class PaymentView:
    id: str
    telegram_id: int
    provider: str
    method: str
    amount: int
    currency: str
    provider_amount: int | None
    provider_currency: str | None
    status: PaymentStatus
    provider_reference: str | None
    paid_amount: int | None
    fee: int
    pay_url: str | None
    qr_text: str | None
    note: str
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    credited_at: datetime | None
    credited_telegram_id: int | None


@dataclass(frozen=True)
class Created:
    payment: PaymentView
    step: PayStep  # what to show the payer


@dataclass(frozen=True)
class Settled:
    """What a notification (or a check) did: ``credited`` now, ``mismatched`` now (held for
    an admin), or ``already`` (decided before: nothing changed), or ``waiting``."""

    payment: PaymentView
    outcome: str
    balance: int | None = None  # the reseller's balance after a credit
    credited: int | None = None  # what that credit was


@dataclass(frozen=True)
class Recovery:
    checked: int
    credited: int
    mismatched: int
    expired: int
    unreachable: int


def _opt(moment: datetime | None) -> datetime | None:
    return as_utc(moment) if moment is not None else None


async def _view(session: AsyncSession, payment: Payment) -> PaymentView:
    user = await session.get(User, payment.user_id)
    assert user is not None
    credited_to = None
    if payment.credited_user_id is not None:
        target = await session.get(User, payment.credited_user_id)
        credited_to = target.telegram_id if target is not None else None
    return PaymentView(
        id=payment.id,
        telegram_id=user.telegram_id,
        provider=payment.provider,
        method=payment.method,
        amount=payment.amount,
        currency=payment.currency,
        provider_amount=payment.provider_amount,
        provider_currency=payment.provider_currency,
        status=payment.status,
        provider_reference=payment.provider_reference,
        paid_amount=payment.paid_amount,
        fee=payment.fee,
        pay_url=payment.pay_url,
        qr_text=payment.qr_text,
        note=payment.note,
        created_at=as_utc(payment.created_at),
        expires_at=as_utc(payment.expires_at),
        paid_at=_opt(payment.paid_at),
        credited_at=_opt(payment.credited_at),
        credited_telegram_id=credited_to,
    )


def _what_arrived(payment: Payment) -> int:
    """A manual credit's default: what the provider says was paid, where it counts in the
    deployment's currency; else (nothing known, or USDT / stars) the payment's amount."""
    if payment.paid_amount is not None and payment.provider_currency is None:
        return payment.paid_amount
    return payment.amount


async def _locked(session: AsyncSession, payment_id: str) -> Payment | None:
    return await session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update())


class Payments:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        providers: Providers,
        rules: PaymentRules,
        jobs: JobStore | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self.providers = providers
        self._rules = rules
        self._jobs = jobs

    async def schedule_recovery(self) -> None:
        """Schedule the next recovery round (补单), at the next multiple of
        ``recovery_every``: its key is that time, so every process scheduling it makes one
        job. Nothing when no provider is enabled."""
        if self._jobs is None or not self.providers.names:
            return
        every = self._rules.recovery_every.total_seconds()
        now = self._clock.now()
        at = datetime.fromtimestamp((now.timestamp() // every + 1) * every, tz=now.tzinfo)
        await self._jobs.schedule([NewJob(f"{RECOVER}:{at.isoformat()}", RECOVER, at)])

    async def run_recovery(self, _context: JobContext) -> None:
        """The recovery job's handler: one round, then the next one scheduled."""
        try:
            await self.recover()
        finally:
            await self.schedule_recovery()

    def warn_if_unreachable(self) -> list[str]:
        """At start-up: the enabled providers whose notifications come over HTTP while
        ``KAMENG_PAYMENTS_PUBLIC_URL`` is not set (their gateway has no address to send them
        to; only recovery and the Check button would find a payment), named in one WARNING
        line."""
        if self._rules.public_url.strip():
            return []
        deaf = [
            name for name in self.providers.names if self.providers.get(name).notified_via == "http"
        ]
        if deaf:
            log.warning(
                "payments: %s enabled but KAMENG_PAYMENTS_PUBLIC_URL is not set, so their"
                " notifications cannot arrive (only recovery and Check will find payments)",
                ", ".join(deaf),
            )
        return deaf

    @property
    def methods(self) -> list[str]:
        """The enabled providers' names, in the registry's order."""
        return self.providers.names

    async def create(
        self, telegram_id: int, provider_name: str, amount: int, *, method: str = ""
    ) -> Created:
        """A payment of ``amount`` for this reseller, and what to show them to pay it. The
        provider is asked first: if it refuses or does not answer (``ProviderRefused``,
        ``ProviderUnavailable``: one WARNING line, the gateway's trouble, not ours) no
        payment is written, so none is left open, failed or expired for the reseller."""
        check_amount(amount)
        provider = self.providers.get(provider_name)
        now = self._clock.now()
        async with self._db.reading() as session:
            await load_user(session, telegram_id)  # NotFound before asking a provider
        payment_id = new_payment_id(now)
        expires_at = now + self._rules.ttl
        base = self._rules.public_url.rstrip("/")
        try:
            step = await provider.create(
                NewPayment(
                    payment_id=payment_id,
                    amount=amount,
                    currency=self._rules.currency,
                    subject=f"top-up {payment_id}",
                    notify_url=f"{base}/pay/{provider.name}/notify",
                    expires_at=expires_at,
                    method=method,
                )
            )
        except (ProviderRefused, ProviderUnavailable) as failed:
            log.warning(
                "payment %s not opened (%s %s): %s",
                payment_id,
                provider.name,
                failed.code,
                failed.params.get("reason", "no answer"),
            )
            raise
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            payment = Payment(
                id=payment_id,
                user_id=user.id,
                provider=provider.name,
                method=method,
                amount=amount,
                currency=self._rules.currency,
                provider_amount=step.provider_amount,
                provider_currency=step.provider_currency,
                status=PaymentStatus.CREATED,
                provider_reference=step.provider_reference,
                fee=0,
                pay_url=step.pay_url,
                qr_text=step.qr_text,
                note="",
                created_at=now,
                expires_at=expires_at,
            )
            session.add(payment)
            await session.flush()
            return Created(await _view(session, payment), step)

    async def notify(
        self, provider_name: str, params: Mapping[str, str], *, via: str = "http"
    ) -> Settled:
        """A provider's notification: verified, then settled once. ``BadNotification`` (and
        nothing written) when its signature is wrong, it names no payment of ours, or it
        came another way than the provider's (``via``: a Stars payment is credited from
        the bot's own Telegram update only, never from an unsigned HTTP request)."""
        provider = self.providers.get(provider_name)
        if provider.notified_via != via:
            raise BadNotification(provider=provider.name, reason="wrong_channel")
        paid = provider.verify(params)
        return await self.settle(provider_name, paid)

    async def settle(self, provider_name: str, paid: Paid) -> Settled:
        """What was paid, decided and written in one transaction; the first one wins."""
        provider = self.providers.get(provider_name)
        now = self._clock.now()
        async with self._db.transaction() as session:
            payment = await _locked(session, paid.payment_id)
            if payment is None or payment.provider != provider.name:
                raise BadNotification(provider=provider.name, reason="unknown_payment")
            if paid.reference and payment.provider_reference not in (None, paid.reference):
                raise BadNotification(provider=provider.name, reason="other_reference")
            if paid.reference and payment.provider_reference is None:
                other = await session.scalar(
                    select(Payment.id).where(
                        Payment.provider == provider.name,
                        Payment.provider_reference == paid.reference,
                    )
                )
                if other is not None:
                    raise BadNotification(provider=provider.name, reason="other_reference")
            ctx = PaymentContext(
                status=payment.status,
                amount=payment.amount,
                expected=payment.provider_amount or payment.amount,
                expires_at=as_utc(payment.expires_at),
                grace=self._rules.grace,
                fee_bps=provider.fee_bps,
            )
            paid_at = paid.paid_at or now
            match decide_payment(ctx, paid.amount, paid_at):
                case Already():
                    return Settled(await _view(session, payment), "already")
                case Hold(reason):
                    self._record_paid(payment, paid, paid_at)
                    payment.status = PaymentStatus.MISMATCHED
                    payment.note = reason
                    await enqueue(
                        session,
                        kind=HELD_NOTICE,
                        user_id=payment.user_id,
                        payload={"payment": payment.id},
                        now=now,
                    )
                    await audit.append(
                        session,
                        action="payment.mismatched",
                        actor=f"provider:{provider.name}",
                        subject=f"payment:{payment.id}",
                        payload={"paid": paid.amount, "reason": reason},
                        now=now,
                    )
                    await session.flush()
                    return Settled(await _view(session, payment), "mismatched")
                case Credit() as credit:
                    self._record_paid(payment, paid, paid_at)
                    balance = await self._credit(
                        session,
                        payment,
                        payment.user_id,
                        credit,
                        actor=f"provider:{provider.name}",
                        note="",
                        now=now,
                    )
                    view = await _view(session, payment)
                    return Settled(view, "credited", balance, credit.amount)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _record_paid(payment: Payment, paid: Paid, paid_at: datetime) -> None:
        payment.paid_amount = paid.amount
        payment.paid_at = paid_at
        if paid.reference:
            payment.provider_reference = paid.reference
        if paid.raw:
            payment.raw_notification = json.dumps(dict(paid.raw), ensure_ascii=False)

    async def _credit(
        self,
        session: AsyncSession,
        payment: Payment,
        user_id: int,
        credit: Credit,
        *,
        actor: str,
        note: str,
        now: datetime,
    ) -> int:
        postings = [  # the interest a credit line owes first, as every top-up
            *await money_in(session, user_id, credit.amount),
            platform(AccountKind.TOPUP_CLEARING, -(credit.amount - credit.fee)),
        ]
        if credit.fee:
            postings.append(platform(AccountKind.PAYMENT_FEES, -credit.fee))
        transaction_id = await post(
            session,
            key=ledger_key(payment.id),
            kind="payment",
            now=now,
            memo=f"payment {payment.id} ({payment.provider})",
            postings=postings,
        )
        payment.status = PaymentStatus.CREDITED
        payment.fee = credit.fee
        payment.credited_at = now
        payment.credited_user_id = user_id
        payment.transaction_id = transaction_id
        user = await session.get(User, user_id)
        assert user is not None
        await audit.append(
            session,
            action="payment.credited",
            actor=actor,
            subject=f"payment:{payment.id}",
            payload={
                "amount": credit.amount,
                "fee": credit.fee,
                "to": user.telegram_id,
                "note": note,
            },
            now=now,
        )
        balance = await balance_of(session, AccountKind.RESELLER_BALANCE, user_id)
        await enqueue(
            session,
            kind=CREDITED_NOTICE,
            user_id=user_id,
            payload={"payment": payment.id, "amount": credit.amount, "balance": balance},
            now=now,
        )
        await session.flush()
        return balance

    async def check(self, payment_id: str, *, telegram_id: int | None = None) -> Settled:
        """Ask the provider about one payment (the Check button, ``kameng payments check``):
        paid → settled as a notification would be; a reseller may ask about his own only."""
        view = await self.get(payment_id, telegram_id=telegram_id)
        if view.status in (PaymentStatus.CREDITED, PaymentStatus.MISMATCHED):
            return Settled(view, "already")
        provider = self.providers.get(view.provider)
        status = await provider.query(payment_id)
        if isinstance(status, Paid):
            return await self.settle(view.provider, status)
        now = self._clock.now()
        async with self._db.transaction() as session:
            payment = await _locked(session, payment_id)
            assert payment is not None
            payment.checked_at = now
            if payment.status == PaymentStatus.CREATED and isinstance(status, Unpaid | Unknown):
                if as_utc(payment.expires_at) + self._rules.grace <= now:
                    payment.status = PaymentStatus.EXPIRED
            await session.flush()
            return Settled(await _view(session, payment), "waiting")

    async def get(self, payment_id: str, *, telegram_id: int | None = None) -> PaymentView:
        async with self._db.reading() as session:
            payment = await session.get(Payment, payment_id)
            if payment is None:
                raise NotFound(kind="payment", ref=payment_id)
            view = await _view(session, payment)
        if telegram_id is not None and view.telegram_id != telegram_id:
            raise NotFound(kind="payment", ref=payment_id)
        return view

    async def find(
        self, *, status: PaymentStatus | None = None, limit: int = 50
    ) -> list[PaymentView]:
        """The newest payments, of one status if given."""
        async with self._db.reading() as session:
            query = select(Payment).order_by(Payment.created_at.desc(), Payment.id).limit(limit)
            if status is not None:
                query = query.where(Payment.status == status)
            return [await _view(session, p) for p in await session.scalars(query)]

    async def stuck(self, *, limit: int = 20) -> list[PaymentView]:
        """What an admin should look at: held (``mismatched``, ``paid``) payments, and
        ``created`` ones past their expiry that recovery has not settled."""
        now = self._clock.now()
        async with self._db.reading() as session:
            query = (
                select(Payment)
                .where(
                    or_(
                        Payment.status.in_([PaymentStatus.MISMATCHED, PaymentStatus.PAID]),
                        (Payment.status == PaymentStatus.CREATED) & (Payment.expires_at < now),
                    )
                )
                .order_by(Payment.created_at.desc())
                .limit(limit)
            )
            return [await _view(session, p) for p in await session.scalars(query)]

    async def recover(self) -> Recovery:
        """One recovery round (补单): ask the provider about every payment still ``created``
        (or expired within the grace) older than ``check_after``; expire the rest."""
        now = self._clock.now()
        async with self._db.reading() as session:
            ids = list(
                await session.scalars(
                    select(Payment.id)
                    .where(
                        Payment.status.in_([PaymentStatus.CREATED, PaymentStatus.EXPIRED]),
                        Payment.created_at <= now - self._rules.check_after,
                        Payment.expires_at > now - self._rules.grace,
                        Payment.provider.in_(self.providers.names),
                    )
                    .order_by(Payment.created_at)
                )
            )
        checked = credited = mismatched = unreachable = 0
        for payment_id in ids:
            try:
                settled = await self.check(payment_id)
            except Exception as failed:  # one provider down never stops the round
                log.warning("recovery: payment %s not checked: %s", payment_id, failed)
                unreachable += 1
                continue
            checked += 1
            credited += settled.outcome == "credited"
            mismatched += settled.outcome == "mismatched"
        expired = await self.expire()
        if credited or mismatched:
            log.warning(
                "recovery found %s paid payment(s) whose notification never came"
                " (%s credited, %s held for an admin)",
                credited + mismatched,
                credited,
                mismatched,
            )
        return Recovery(checked, credited, mismatched, expired, unreachable)

    async def expire(self) -> int:
        """``created`` payments past their expiry and grace become ``expired``."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            rows = list(
                await session.scalars(
                    select(Payment)
                    .where(
                        Payment.status == PaymentStatus.CREATED,
                        Payment.expires_at <= now - self._rules.grace,
                    )
                    .with_for_update()
                )
            )
            for payment in rows:
                payment.status = PaymentStatus.EXPIRED
            await session.flush()
            return len(rows)

    async def credit_manually(
        self,
        payment_id: str,
        *,
        admin_telegram_id: int | None,
        to_telegram_id: int,
        note: str,
        amount: int | None = None,
        operator: str = "operator:cli",
    ) -> Settled:
        """An admin (or, with ``admin_telegram_id`` None, the operator at the CLI) credits a
        stuck or held payment to a named reseller: audited, once (the ledger key is the
        payment's own, so neither a second admin nor a late notification credits it again)."""
        if not note.strip():
            raise InvalidState(kind="payment", reason="note_required")
        now = self._clock.now()
        async with self._db.transaction() as session:
            actor = operator
            if admin_telegram_id is not None:
                admin = await require_admin(session, admin_telegram_id, "payment.credit")
                actor = f"admin:{admin.telegram_id}"
            payment = await _locked(session, payment_id)
            if payment is None:
                raise NotFound(kind="payment", ref=payment_id)
            if not may_credit_manually(payment.status):
                raise InvalidState(kind="payment", ref=payment_id, status=payment.status.value)
            target = await load_user(session, to_telegram_id)
            credited = amount if amount is not None else _what_arrived(payment)
            check_amount(credited)
            try:
                fee_bps = self.providers.get(payment.provider).fee_bps
            except UnknownPaymentMethod:
                fee_bps = 0
            payment.note = (payment.note + "; " if payment.note else "") + note.strip()[:500]
            balance = await self._credit(
                session,
                payment,
                target.id,
                Credit(credited, fee_of(credited, fee_bps)),
                actor=actor,
                note=note.strip()[:500],
                now=now,
            )
            return Settled(await _view(session, payment), "credited", balance, credited)

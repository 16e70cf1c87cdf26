"""Telegram Stars (``XTR``): the provider, the rate admins set, pre-checkout and refunds.

- Pay: the bot sends an invoice (``sendInvoice``, one price in stars, the payment's id as
  its payload) instead of a link: ``PayStep(telegram_invoice=True)``; the stars are
  ``stars_for(amount, rate)`` at the rate in force (fen per star, ``stars_rates``).
- Pre-checkout: Telegram asks the bot before it takes the stars; ``Stars.pre_checkout`` is
  one read of the payment by its key and the pure ``decide_pre_checkout``: fast, so the
  answer is in well within Telegram's 10 seconds even under load.
- Notify: the ``successful_payment`` message's fields (``telegram_payment_charge_id``,
  ``total_amount``, ``invoice_payload``) are the notification ``Payments.notify("stars", …)``
  verifies and credits once; the charge id is the payment's ``provider_reference``,
  UNIQUE per provider, so the same payment delivered twice is credited once.
- Refund: an admin's reversal (``Stars.refund``) writes one reversing ledger transaction
  keyed ``stars-refund:<payment id>`` and a ``stars_refunds`` row (its primary key is the
  payment: once); the bot then calls ``refundStarPayment`` and ``Stars.refunded`` marks it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.rates import rate_refusal
from core.decisions.stars import (
    MAX_STARS,
    REFUND_RETRIES,
    STARS,
    Accept,
    CheckoutContext,
    Decline,
    Reverse,
    decide_pre_checkout,
    decide_stars_refund,
    refund_retry_delay,
    stars_for,
)
from core.errors import BadNotification, NotFound, StarsRefused
from core.jobs import NewJob, add_jobs
from core.ledger import Posting, balance_of, platform, post
from core.models import (
    Account,
    AccountKind,
    LedgerEntry,
    Payment,
    ScheduledJob,
    StarsRate,
    StarsRefund,
    StarsRefundStatus,
    User,
)
from core.payments.provider import NewPayment, Paid, PayStep, Status, Unpaid
from core.rights import require_admin

log = logging.getLogger("kameng.stars")

NAME = "stars"
REFUND_RETRY = "stars.refund_retry"  # job kind: a pending refund asked of Telegram again


async def _newest_rate(session: AsyncSession, *, lock: bool = False) -> int | None:
    """The newest rate set (fen per star); ``lock`` holds its row (PostgreSQL) until the
    transaction ends, so two admins setting a rate at once take turns."""
    query = select(StarsRate).order_by(StarsRate.id.desc()).limit(1)
    row = await session.scalar(query.with_for_update() if lock else query)
    return None if row is None else row.fen_per_star


def refund_key(payment_id: str) -> str:
    return f"stars-refund:{payment_id}"


@dataclass(frozen=True)
class RateView:
    fen_per_star: int
    set_by: str
    note: str
    set_at: datetime


@dataclass(frozen=True)
class RefundView:
    payment_id: str
    telegram_id: int  # the payer: refundStarPayment's user_id
    charge_id: str
    stars: int
    amount: int
    status: StarsRefundStatus
    reason: str
    decided_by: int
    created_at: datetime
    refunded_at: datetime | None
    balance: int | None = None  # the reseller's balance after the reversal, when just made
    already: bool = False  # refunded (or asked) before: nothing new was written


def _refund_view(
    row: StarsRefund, *, balance: int | None = None, already: bool = False
) -> RefundView:
    return RefundView(
        payment_id=row.payment_id,
        telegram_id=row.telegram_id,
        charge_id=row.charge_id,
        stars=row.stars,
        amount=row.amount,
        status=row.status,
        reason=row.reason,
        decided_by=row.decided_by,
        created_at=as_utc(row.created_at),
        refunded_at=as_utc(row.refunded_at) if row.refunded_at is not None else None,
        balance=balance,
        already=already,
    )


class Stars:
    """The Stars use cases: the rate, the pre-checkout answer, refunds."""

    def __init__(
        self, db: Database, clock: Clock, *, default_rate: int, fee_bps: int, currency: str = "CNY"
    ) -> None:
        self._db = db
        self._clock = clock
        self._default_rate = default_rate
        self.fee_bps = fee_bps
        self._currency = currency

    # -- the rate --------------------------------------------------------------------------

    async def set_rate(
        self,
        fen_per_star: int,
        *,
        admin_telegram_id: int | None = None,
        note: str = "",
        confirmed: bool = False,
        replacing: int | None = None,
    ) -> RateView:
        """A new rate from now on: an admin's (rights checked) or the operator's (CLI).
        Refused (``RateRefused``) outside the currency's sane range, and, unless
        ``confirmed``, when it moves the rate in force by more than 20%; ``replacing`` is the
        rate the admin saw when he confirmed: another rate in force by now refuses it. The
        same rule as the USDT rate's: ``core/decisions/rates.py`` ``rate_refusal``."""
        if fen_per_star <= 0:
            raise StarsRefused(reason="bad_rate")
        now = self._clock.now()
        async with self._db.transaction() as session:
            actor = "operator"
            if admin_telegram_id is not None:
                await require_admin(session, admin_telegram_id, "stars.rate")
                actor = f"admin:{admin_telegram_id}"
            newest = await _newest_rate(session, lock=True)
            if newest is not None:  # locked: a concurrent setter committed first? read again
                newest = await _newest_rate(session)
            current = newest if newest is not None else (self._default_rate or None)
            refused = rate_refusal(
                "stars",
                fen_per_star,
                current,
                currency=self._currency,
                confirmed=confirmed,
                replacing=replacing,
            )
            if refused is not None:
                raise refused
            row = StarsRate(fen_per_star=fen_per_star, set_by=actor, note=note[:500], set_at=now)
            session.add(row)
            await audit.append(
                session,
                action="stars.rate",
                actor=actor,
                subject="stars",
                payload={"fen_per_star": fen_per_star, "note": note[:500], "previous": current},
                now=now,
            )
            await session.flush()
            return RateView(row.fen_per_star, row.set_by, row.note, as_utc(row.set_at))

    async def rate(self) -> int | None:
        """Fen per star in force: the newest one set, else ``KAMENG_STARS_FEN_PER_STAR``."""
        async with self._db.reading() as session:
            newest = await _newest_rate(session)
        if newest is not None:
            return int(newest)
        return self._default_rate or None

    async def price(self, amount: int) -> int:
        """Stars for a top-up of ``amount`` fen at the rate in force."""
        rate = await self.rate()
        if rate is None:
            raise StarsRefused(reason="no_rate")
        stars = stars_for(amount, rate)
        if stars > MAX_STARS:
            raise StarsRefused(reason="too_many", max=MAX_STARS)
        return stars

    # -- pre-checkout ----------------------------------------------------------------------

    async def pre_checkout(
        self, payment_id: str, *, payer: int, currency: str, total_amount: int
    ) -> Accept | Decline:
        """May Telegram take ``total_amount`` stars from ``payer`` for this payment? One
        read by the primary key, then ``decide_pre_checkout``."""
        async with self._db.reading() as session:
            row = (
                await session.execute(
                    select(
                        Payment.provider,
                        Payment.status,
                        Payment.provider_amount,
                        Payment.expires_at,
                        User.telegram_id,
                    )
                    .join(User, User.id == Payment.user_id)
                    .where(Payment.id == payment_id[:32])
                )
            ).first()
        ctx = CheckoutContext(
            found=row is not None,
            provider=row[0] if row is not None else "",
            status=row[1] if row is not None else None,
            owner_telegram_id=row[4] if row is not None else None,
            stars=row[2] if row is not None else None,
            expires_at=as_utc(row[3]) if row is not None else None,
        )
        return decide_pre_checkout(
            ctx, payer=payer, currency=currency, total_amount=total_amount, now=self._clock.now()
        )

    # -- refunds ---------------------------------------------------------------------------

    async def refund(self, payment_id: str, *, admin_telegram_id: int, reason: str) -> RefundView:
        """An admin reverses a credited Stars payment: the reseller's balance gives the
        amount back (``InsufficientBalance`` if it was spent: nothing is written), one
        reversing transaction, audited; asked again, the first refund is returned."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            admin = await require_admin(session, admin_telegram_id, "stars.refund")
            payment = await session.scalar(
                select(Payment).where(Payment.id == payment_id[:32]).with_for_update()
            )
            if payment is None:
                raise NotFound(kind="payment", ref=payment_id)
            before = await session.get(StarsRefund, payment.id)
            if before is not None:
                return _refund_view(before, already=True)
            decision = decide_stars_refund(
                provider=payment.provider,
                status=payment.status,
                amount=payment.amount,
                fee=payment.fee,
                paid_stars=payment.paid_amount,
                charge_id=payment.provider_reference,
                refunded_before=False,
            )
            if isinstance(decision, Decline):
                raise StarsRefused(reason=decision.reason)
            owner_id = payment.credited_user_id or payment.user_id
            transaction_id = await post(
                session,
                key=refund_key(payment.id),
                kind="stars_refund",
                now=now,
                memo=f"stars refund of payment {payment.id}",
                postings=_reversal(
                    owner_id, decision, await _interest_repaid(session, payment.transaction_id)
                ),
            )
            payer = await session.get(User, payment.user_id)
            assert payer is not None and payment.provider_reference is not None
            row = StarsRefund(
                payment_id=payment.id,
                charge_id=payment.provider_reference,
                telegram_id=payer.telegram_id,
                stars=decision.stars,
                amount=decision.amount,
                status=StarsRefundStatus.PENDING,
                reason=reason.strip()[:500],
                decided_by=admin.telegram_id,
                transaction_id=transaction_id,
                created_at=now,
            )
            session.add(row)
            await _retry_later(session, payment.id, 1, now)  # if the admin's own try fails
            await audit.append(
                session,
                action="stars.refund",
                actor=f"admin:{admin.telegram_id}",
                subject=f"payment:{payment.id}",
                payload={"amount": decision.amount, "stars": decision.stars, "reason": row.reason},
                now=now,
            )
            await session.flush()
            balance = await balance_of(session, AccountKind.RESELLER_BALANCE, owner_id)
            return _refund_view(row, balance=balance)

    async def refunded(self, payment_id: str) -> RefundView:
        """Telegram refunded the stars (or said they were refunded already)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            row = await session.get(StarsRefund, payment_id, with_for_update=True)
            if row is None:
                raise NotFound(kind="stars_refund", ref=payment_id)
            if row.status != StarsRefundStatus.REFUNDED:
                row.status = StarsRefundStatus.REFUNDED
                row.refunded_at = now
                await session.flush()
            return _refund_view(row)

    async def pending_refund(self, payment_id: str) -> RefundView | None:
        """This payment's refund, if Telegram has not given its stars back yet."""
        async with self._db.reading() as session:
            row = await session.get(StarsRefund, payment_id)
            if row is None or row.status != StarsRefundStatus.PENDING:
                return None
            return _refund_view(row)

    async def retry_refund_later(self, payment_id: str, attempt: int) -> bool:
        """Schedule the ``attempt``-th retry of a pending refund (the ``stars.refund_retry``
        job, keyed by payment and attempt: once); False when the retries are used up."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            scheduled = await _retry_later(session, payment_id, attempt, now)
            await session.flush()
        if not scheduled:
            log.warning(
                "stars refund of payment %s: Telegram refused %s retries; an admin may press"
                " Refund again",
                payment_id,
                REFUND_RETRIES,
            )
        return scheduled

    async def pending_refunds(self) -> list[RefundView]:
        """Refunds whose ledger is reversed but whose stars Telegram has not given back."""
        async with self._db.reading() as session:
            rows = await session.scalars(
                select(StarsRefund)
                .where(StarsRefund.status == StarsRefundStatus.PENDING)
                .order_by(StarsRefund.created_at)
            )
            return [_refund_view(row) for row in rows]

    async def owner_of(self, payment_id: str) -> int:
        """The telegram id of the reseller a payment is for (``NotFound``)."""
        async with self._db.reading() as session:
            payment = await session.get(Payment, payment_id[:32])
            if payment is None:
                raise NotFound(kind="payment", ref=payment_id)
            user = await session.get(User, payment.user_id)
            assert user is not None
            return user.telegram_id


async def _interest_repaid(session: AsyncSession, transaction_id: int | None) -> int:
    """What a payment's credit paid into its reseller's interest owed (``money_in``)."""
    if transaction_id is None:
        return 0
    repaid = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(
            LedgerEntry.transaction_id == transaction_id,
            Account.kind == AccountKind.RESELLER_INTEREST,
        )
    )
    return int(repaid or 0)


async def _retry_later(session: AsyncSession, payment_id: str, attempt: int, now: datetime) -> bool:
    delay = refund_retry_delay(attempt)
    if delay is None:
        return False
    key = f"{REFUND_RETRY}:{payment_id}:{attempt}"
    if await session.scalar(select(ScheduledJob.id).where(ScheduledJob.key == key)) is not None:
        return True  # scheduled already (by another runner)
    payload = {"payment": payment_id, "attempt": attempt}
    add_jobs(session, [NewJob(key, REFUND_RETRY, now + delay, payload, max_attempts=1)], now)
    return True


def _reversal(owner_id: int, decision: Reverse, interest_repaid: int = 0) -> list[Posting]:
    """The credit's postings turned around (what repaid interest is owed again); the
    reseller's balance may not go below zero."""
    postings = [
        *(
            [Posting(AccountKind.RESELLER_INTEREST, owner_id, -interest_repaid)]
            if interest_repaid
            else []
        ),
        *(
            [Posting(AccountKind.RESELLER_BALANCE, owner_id, -principal, floor=0)]
            if (principal := decision.amount - interest_repaid) or not interest_repaid
            else []
        ),
        platform(AccountKind.TOPUP_CLEARING, decision.amount - decision.fee),
    ]
    if decision.fee:
        postings.append(platform(AccountKind.PAYMENT_FEES, decision.fee))
    return postings


@dataclass(frozen=True)
class StarsProvider:
    """Telegram Stars as a ``PaymentProvider``: the pay step is an invoice in the chat."""

    stars: Stars
    name: str = NAME
    acknowledgement: str = ""
    notified_via: str = "telegram"  # never over HTTP: the update is its authentication

    @property
    def fee_bps(self) -> int:
        return self.stars.fee_bps

    async def create(self, payment: NewPayment) -> PayStep:
        stars = await self.stars.price(payment.amount)
        return PayStep(telegram_invoice=True, provider_amount=stars, provider_currency=STARS)

    def verify(self, params: Mapping[str, str]) -> Paid:
        """The ``successful_payment`` of a message the bot received (Telegram delivers it
        only to this bot, over its authenticated updates)."""
        if params.get("currency") != STARS:
            raise BadNotification(provider=self.name, reason="malformed")
        payment_id = str(params.get("invoice_payload", ""))
        charge_id = str(params.get("telegram_payment_charge_id", ""))
        try:
            stars = int(str(params.get("total_amount", "")))
        except ValueError:
            raise BadNotification(provider=self.name, reason="malformed") from None
        if not payment_id or not charge_id or stars <= 0:
            raise BadNotification(provider=self.name, reason="malformed")
        raw = {k: str(v) for k, v in params.items()}
        return Paid(payment_id, stars, charge_id, raw=raw)

    async def query(self, payment_id: str) -> Status:
        """Telegram keeps a bot's updates until the bot takes them, so a successful payment
        is not lost on the way: a payment we have not heard of is not paid."""
        return Unpaid(payment_id)

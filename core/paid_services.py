"""Paid services (增值服务): a catalogue admins price, bought in the bot, renewed or expired
by the scheduler; the revenue goes to ``platform_services``.

- ``search_boost``: the SKU ranks first in search results for the service's days.
- ``analytics_report``: the weekly analytics report, for a supplier or a reseller.
- ``broadcast_credits``: credits to broadcast to the supplier's own past buyers.

A supplier pays from his payable, a reseller from his balance (down to his credit line).
Each paid period is one ledger transaction keyed ``services:sub-<id>:<period>``; the
``services.renew`` job of a period (keyed the same way) renews a monthly service when its
period ends — or stops it and tells the buyer when he cannot pay — and expires a one-off.

A buyer holds one running search boost per SKU and one analytics report: buying again
while it runs pays one more period of it, starting when the current one ends
(``decide_purchase``); the UNIQUE (user, ``active_target``) index keeps two Buy buttons
pressed at once from starting two.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.catalogue import load_sku, load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.balance import SUPPLIER_PAYABLE_FLOOR, insufficient_balance, reseller_floor
from core.decisions.renewal import (
    EXTENDABLE,
    Expire,
    Extend,
    Fresh,
    Renew,
    Stop,
    decide_purchase,
    decide_renewal,
)
from core.errors import Forbidden, InvalidAmount, InvalidInput, InvalidState, NotFound
from core.jobs import JobContext, JobHandler, NewJob, add_jobs
from core.ledger import Posting, balance_of, platform, post
from core.models import (
    AccountKind,
    Order,
    OrderLine,
    ServiceBilling,
    ServiceExtension,
    ServiceKind,
    ServiceOffer,
    ServiceSubscription,
    Sku,
    SkuStatus,
    SubscriptionStatus,
    Supplier,
    User,
)
from core.outbox import enqueue
from core.rights import acting_admin, actor_name

RENEW = "services.renew"
WEEKLY = "services.weekly"  # the analytics report's week, while the service runs
STOPPED = "services.stopped"  # outbox: a renewal could not be paid
REPORT = "services.report"  # outbox: the weekly analytics report
WEEK = timedelta(days=7)
BUY_ATTEMPTS = 5  # simultaneous Buys of one target: each retry sees one more committed
TOP = 3
CODE_LIMIT = 32
SUPPLIER_ONLY = {
    ServiceKind.SEARCH_BOOST,
    ServiceKind.BROADCAST_CREDITS,
    ServiceKind.DEMAND_REPORT,
}


@dataclass(frozen=True)
class OfferView:
    code: str
    kind: ServiceKind
    billing: ServiceBilling
    price: int
    days: int
    credits: int
    active: bool


@dataclass(frozen=True)
class SubscriptionView:
    id: int
    offer: OfferView
    sku: str | None
    status: SubscriptionStatus
    starts_at: datetime
    ends_at: datetime
    period: int
    credits: int
    replayed: bool = False
    extended_from: datetime | None = None  # this purchase extended one running until then


@dataclass(frozen=True)
class Quote:
    """What pressing Buy would do, said before it charges: a new service from now to
    ``ends_at``, or the running one (until ``current_end``) extended to ``ends_at``."""

    offer: OfferView
    sku: str | None
    ends_at: datetime
    current_end: datetime | None = None


def _offer_view(offer: ServiceOffer) -> OfferView:
    return OfferView(
        offer.code, offer.kind, offer.billing, offer.price, offer.days, offer.credits, offer.active
    )


async def _payer(session: AsyncSession, user: User) -> tuple[AccountKind, int, int]:
    """The account a user pays services from, and its floor."""
    supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
    if user.is_supplier and supplier is not None:
        return AccountKind.SUPPLIER_PAYABLE, supplier.id, SUPPLIER_PAYABLE_FLOOR
    return AccountKind.RESELLER_BALANCE, user.id, reseller_floor(user.credit_limit)


async def _floor(session: AsyncSession, sub: ServiceSubscription) -> int:
    if sub.payer_kind is AccountKind.SUPPLIER_PAYABLE:
        return SUPPLIER_PAYABLE_FLOOR
    user = await session.get(User, sub.user_id)
    assert user is not None
    return reseller_floor(user.credit_limit)


def _renew_job(sub: ServiceSubscription) -> NewJob:
    return NewJob(
        f"{RENEW}:{sub.id}:{sub.period}",
        RENEW,
        as_utc(sub.ends_at),
        {"subscription": sub.id, "period": sub.period},
    )


def _weekly_job(sub: ServiceSubscription, week: int) -> NewJob:
    return NewJob(
        f"{WEEKLY}:{sub.id}:{week}",
        WEEKLY,
        as_utc(sub.created_at) + WEEK * week,  # weeks since the purchase, across renewals
        {"subscription": sub.id, "week": week},
    )


async def _charge(
    session: AsyncSession, sub: ServiceSubscription, price: int, floor: int, now: datetime
) -> None:
    await post(
        session,
        key=f"services:sub-{sub.id}:{sub.period}",
        kind="paid_service",
        postings=[
            Posting(sub.payer_kind, sub.payer_owner, -price, floor=floor),
            platform(AccountKind.PLATFORM_SERVICES, price),
        ],
        now=now,
        memo=f"service subscription {sub.id}, period {sub.period}",
    )


class PaidServices:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def job_handlers(self) -> dict[str, JobHandler]:
        async def renew(context: JobContext) -> None:
            payload = context.job.payload
            await self.renew(int(payload["subscription"]), int(payload["period"]))

        async def weekly(context: JobContext) -> None:
            payload = context.job.payload
            await self.weekly_report(int(payload["subscription"]), int(payload["week"]))

        return {RENEW: renew, WEEKLY: weekly}

    async def price(
        self,
        admin_telegram_id: int | None,
        code: str,
        kind: ServiceKind,
        billing: ServiceBilling,
        *,
        price: int,
        days: int,
        credits: int = 0,
        active: bool = True,
    ) -> OfferView:
        """Adds an offer or changes one; a change applies to purchases and renewals after it."""
        code = code.strip().lower()
        if not code or len(code) > CODE_LIMIT:
            raise InvalidInput(field="code", value=code[:CODE_LIMIT])
        if price <= 0:
            raise InvalidAmount(amount=price)
        if not 0 < days <= 366:
            raise InvalidInput(field="days", value=str(days))
        if credits < 0:
            raise InvalidInput(field="credits", value=str(credits))
        now = self._clock.now()
        async with self._db.transaction() as session:
            await acting_admin(session, admin_telegram_id, "services.price")
            offer = await session.scalar(select(ServiceOffer).where(ServiceOffer.code == code))
            if offer is None:
                offer = ServiceOffer(code=code, kind=kind, billing=billing)
                session.add(offer)
            elif offer.kind is not kind:
                raise InvalidState(what="offer", state=offer.kind.value, ref=code)
            offer.billing, offer.price, offer.days = billing, price, days
            offer.credits, offer.active = credits, active
            await session.flush()
            await audit.append(
                session,
                action="services.price",
                actor=actor_name(admin_telegram_id),
                subject=f"offer:{offer.id}",
                payload={
                    "code": code,
                    "kind": kind.value,
                    "billing": billing.value,
                    "price": price,
                    "days": days,
                    "credits": credits,
                    "active": active,
                },
                now=now,
            )
            return _offer_view(offer)

    async def offers(self, telegram_id: int | None = None) -> list[OfferView]:
        """The active offers; for a user, those he may buy."""
        async with self._db.reading() as session:
            offers = [
                _offer_view(o)
                for o in await session.scalars(
                    select(ServiceOffer).where(ServiceOffer.active).order_by(ServiceOffer.code)
                )
            ]
            if telegram_id is None:
                return offers
            user = await load_user(session, telegram_id)
            kind, _, _ = await _payer(session, user)
            if kind is AccountKind.SUPPLIER_PAYABLE:
                return offers
            return [o for o in offers if o.kind not in SUPPLIER_ONLY]

    async def buy(
        self,
        telegram_id: int,
        offer_code: str,
        *,
        sku_code: str | None = None,
        idempotency_key: str,
    ) -> SubscriptionView:
        """Pays the first period and starts the service; the same key returns the first
        (``replayed``). Two presses at once charge once: the second's insert meets the
        first's key (UNIQUE) and it returns the first's purchase. A boost or analytics
        report bought while the buyer's one for that target runs extends it instead
        (``extended_from``); two such Buys at once extend it one after the other."""
        for attempt in range(1, BUY_ATTEMPTS + 1):
            try:
                return await self._buy_once(telegram_id, offer_code, sku_code, idempotency_key)
            except IntegrityError:
                # a concurrent press with this key committed first (replay it), or another
                # Buy started this service first (extend it): the next try sees it. With
                # several Buys at once each loser may meet another's insert again, so
                # retry a few times rather than once; more than that is a real conflict.
                if attempt == BUY_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def quote(self, telegram_id: int, offer_code: str, sku_code: str | None) -> Quote:
        """What buying now would give, for the confirmation: read only, no charge."""
        now = self._clock.now()
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            offer = await _active_offer(session, offer_code)
            sku_id = None
            if sku_code:
                sku_id = (await load_sku(session, sku_code)).id
            running = await _running(session, user.id, _target(offer.kind, sku_id))
            decision = decide_purchase(
                offer.kind, offer.days, now, as_utc(running.ends_at) if running else None
            )
            current_end = decision.current_end if isinstance(decision, Extend) else None
            return Quote(_offer_view(offer), sku_code, decision.ends_at, current_end)

    async def _buy_once(
        self, telegram_id: int, offer_code: str, sku_code: str | None, idempotency_key: str
    ) -> SubscriptionView:
        now = self._clock.now()
        key = f"services:{telegram_id}:{idempotency_key}"
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            replay = await _bought_with(session, key)
            if replay is not None:
                return replay
            offer = await _active_offer(session, offer_code)
            if offer.kind is ServiceKind.DEMAND_REPORT:  # bought per category: core/demand.py
                raise InvalidState(what="service", state=offer.kind.value, ref=offer.code)
            payer_kind, owner, floor = await _payer(session, user)
            if offer.kind in SUPPLIER_ONLY and payer_kind is not AccountKind.SUPPLIER_PAYABLE:
                raise Forbidden(action="services.buy")
            sku_id = None
            if offer.kind is ServiceKind.SEARCH_BOOST:
                if not sku_code:
                    raise InvalidInput(field="sku", value="")
                sku = await load_sku(session, sku_code)
                if sku.supplier_id != owner:
                    raise Forbidden(action="services.buy")
                if sku.status is not SkuStatus.ACTIVE:
                    raise InvalidState(what="sku", state=sku.status.value, ref=sku.code)
                sku_id = sku.id
            target = _target(offer.kind, sku_id)
            # locked: a concurrent Buy of the same target waits here, then extends what
            # this one leaves (on SQLite write transactions run one at a time anyway)
            running = await _running(session, user.id, target, lock=True)
            replay = await _bought_with(session, key)  # the same key, committed meanwhile
            if replay is not None:
                return replay
            balance = await balance_of(session, payer_kind, owner)
            if balance - offer.price < floor:
                raise insufficient_balance(balance, floor, offer.price)
            decision = decide_purchase(
                offer.kind, offer.days, now, as_utc(running.ends_at) if running else None
            )
            match decision:
                case Extend(current_end, ends_at):
                    assert running is not None
                    running.period += 1
                    running.ends_at = ends_at
                    running.credits += offer.credits
                    # renewals follow the offer bought last (boost-7, then boost-30: the
                    # buyer now pays for, and is renewed at, boost-30's price and days)
                    running.offer_id = offer.id
                    session.add(
                        ServiceExtension(
                            subscription_id=running.id,
                            period=running.period,
                            idempotency_key=key,
                            created_at=now,
                        )
                    )
                    await session.flush()
                    await _charge(session, running, offer.price, floor, now)
                    # the job of the period it replaces finds ``period`` moved on: a no-op
                    add_jobs(session, [_renew_job(running)], now)
                    view = await _view(session, running)
                    return SubscriptionView(**{**view.__dict__, "extended_from": current_end})
                case Fresh(starts_at, ends_at):
                    if running is not None:  # lapsed, its job not yet run: it ends here
                        running.status = SubscriptionStatus.EXPIRED
                        running.active_target = None
                        await session.flush()
            sub = ServiceSubscription(
                offer_id=offer.id,
                user_id=user.id,
                payer_kind=payer_kind,
                payer_owner=owner,
                sku_id=sku_id,
                status=SubscriptionStatus.ACTIVE,
                starts_at=starts_at,
                ends_at=ends_at,
                period=1,
                credits=offer.credits,
                idempotency_key=key,
                created_at=now,
                active_target=target,
            )
            session.add(sub)
            await session.flush()
            await _charge(session, sub, offer.price, floor, now)
            jobs = [_renew_job(sub)]
            if offer.kind is ServiceKind.ANALYTICS_REPORT:
                jobs.append(_weekly_job(sub, 1))
            add_jobs(session, jobs, now)
            return await _view(session, sub)

    async def renew(self, subscription_id: int, period: int) -> SubscriptionView:
        """The end of ``period``: renew (monthly, paid), stop (monthly, unpaid) or expire."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            sub = await session.get(ServiceSubscription, subscription_id, with_for_update=True)
            if sub is None:
                raise NotFound(kind="subscription", ref=str(subscription_id))
            if sub.status is not SubscriptionStatus.ACTIVE or sub.period != period:
                return await _view(session, sub)  # done already (a job run twice)
            offer = await session.get(ServiceOffer, sub.offer_id)
            assert offer is not None
            floor = await _floor(session, sub)
            balance = await balance_of(session, sub.payer_kind, sub.payer_owner)
            match decide_renewal(offer.billing, offer.price, balance, floor):
                case Expire():
                    sub.status = SubscriptionStatus.EXPIRED
                    sub.active_target = None  # a new purchase of it starts afresh
                case Stop(shortfall):
                    sub.status = SubscriptionStatus.STOPPED
                    sub.active_target = None
                    await enqueue(
                        session,
                        kind=STOPPED,
                        user_id=sub.user_id,
                        payload={
                            "service": offer.code,
                            "kind": offer.kind.value,
                            "price": offer.price,
                            "shortfall": shortfall,
                            "ended_at": as_utc(sub.ends_at).isoformat(),
                        },
                        now=now,
                    )
                case Renew(price):
                    sub.period += 1
                    sub.starts_at = sub.ends_at
                    sub.ends_at = as_utc(sub.ends_at) + timedelta(days=offer.days)
                    sub.credits += offer.credits
                    await _charge(session, sub, price, floor, now)
                    add_jobs(session, [_renew_job(sub)], now)
            return await _view(session, sub)

    async def weekly_report(self, subscription_id: int, week: int) -> bool:
        """Week ``week`` of an analytics report: the buyer's last 7 days, told through the
        outbox, and the next week scheduled; nothing once the service has ended."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            sub = await session.get(ServiceSubscription, subscription_id)
            if sub is None:
                raise NotFound(kind="subscription", ref=str(subscription_id))
            if sub.status is not SubscriptionStatus.ACTIVE or now > as_utc(sub.ends_at):
                return False
            since = now - WEEK
            if sub.payer_kind is AccountKind.SUPPLIER_PAYABLE:
                who = Order.supplier_id == sub.payer_owner
                money = func.sum(OrderLine.supplier_amount)
            else:
                who = Order.user_id == sub.user_id
                money = func.sum(OrderLine.price)
            rows = (
                await session.execute(
                    select(Sku.code, func.count(OrderLine.id), money)
                    .join(Order, Order.id == OrderLine.order_id)
                    .join(Sku, Sku.id == Order.sku_id)
                    .where(who, Order.created_at >= since, Order.created_at < now)
                    .group_by(Sku.code)
                    .order_by(func.count(OrderLine.id).desc(), Sku.code)
                )
            ).all()
            await enqueue(
                session,
                kind=REPORT,
                user_id=sub.user_id,
                payload={
                    "supplier": sub.payer_kind is AccountKind.SUPPLIER_PAYABLE,
                    "week": week,
                    "since": since.isoformat(),
                    "units": sum(int(n) for _, n, _ in rows),
                    "amount": sum(int(a or 0) for _, _, a in rows),
                    "top": [[code, int(n)] for code, n, _ in rows[:TOP]],
                },
                now=now,
            )
            add_jobs(session, [_weekly_job(sub, week + 1)], now)
            return True

    async def boostable(self, telegram_id: int) -> list[tuple[str, str]]:
        """(code, name) of a supplier's SKUs on sale: what a search boost may be bought for."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            kind, owner, _ = await _payer(session, user)
            if kind is not AccountKind.SUPPLIER_PAYABLE:
                raise Forbidden(action="services.buy")
            rows = await session.execute(
                select(Sku.code, Sku.name)
                .where(Sku.supplier_id == owner, Sku.status == SkuStatus.ACTIVE)
                .order_by(Sku.name, Sku.id)
                .limit(20)
            )
            return [(code, name) for code, name in rows]

    async def offer(self, code: str) -> OfferView:
        async with self._db.reading() as session:
            return _offer_view(await _active_offer(session, code))

    async def subscriptions(self, telegram_id: int) -> list[SubscriptionView]:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            subs = await session.scalars(
                select(ServiceSubscription)
                .where(ServiceSubscription.user_id == user.id)
                .order_by(ServiceSubscription.id.desc())
            )
            return [await _view(session, sub) for sub in subs]


async def _active_offer(session: AsyncSession, code: str) -> ServiceOffer:
    offer = await session.scalar(
        select(ServiceOffer).where(ServiceOffer.code == code.strip().lower())
    )
    if offer is None or not offer.active:
        raise NotFound(kind="service", ref=code)
    return offer


async def _bought_with(session: AsyncSession, key: str) -> SubscriptionView | None:
    """The purchase a Buy key made already (started or extended), as a replay."""
    sub = await session.scalar(
        select(ServiceSubscription).where(ServiceSubscription.idempotency_key == key)
    )
    if sub is None:
        sub = await session.scalar(
            select(ServiceSubscription)
            .join(ServiceExtension)
            .where(ServiceExtension.idempotency_key == key)
        )
    if sub is None:
        return None
    view = await _view(session, sub)
    return SubscriptionView(**{**view.__dict__, "replayed": True})


def _target(kind: ServiceKind, sku_id: int | None) -> str | None:
    """What a running service of ``kind`` is for, when a buyer holds one at a time."""
    return f"{kind.value}:{sku_id or 0}" if kind in EXTENDABLE else None


async def _running(
    session: AsyncSession, user_id: int, target: str | None, *, lock: bool = False
) -> ServiceSubscription | None:
    """The buyer's active service on ``target`` (maybe past its end, its job not yet run)."""
    if target is None:
        return None
    query = select(ServiceSubscription).where(
        ServiceSubscription.user_id == user_id, ServiceSubscription.active_target == target
    )
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def _view(session: AsyncSession, sub: ServiceSubscription) -> SubscriptionView:
    offer = await session.get(ServiceOffer, sub.offer_id)
    assert offer is not None
    sku = None
    if sub.sku_id is not None:
        sku = await session.scalar(select(Sku.code).where(Sku.id == sub.sku_id))
    return SubscriptionView(
        sub.id,
        _offer_view(offer),
        sku,
        sub.status,
        as_utc(sub.starts_at),
        as_utc(sub.ends_at),
        sub.period,
        sub.credits,
    )


async def boosted_sku_ids(session: AsyncSession, now: datetime) -> set[int]:
    """SKUs whose search boost runs at ``now``."""
    rows = await session.scalars(
        select(ServiceSubscription.sku_id)
        .join(ServiceOffer, ServiceOffer.id == ServiceSubscription.offer_id)
        .where(
            ServiceOffer.kind == ServiceKind.SEARCH_BOOST,
            ServiceSubscription.status == SubscriptionStatus.ACTIVE,
            ServiceSubscription.starts_at <= now,
            ServiceSubscription.ends_at > now,
            ServiceSubscription.sku_id.is_not(None),
        )
    )
    return {int(r) for r in rows if r is not None}

"""Featured placement (广告位竞价) and brand zones (品牌专区): the platform's ad revenue.

A slot (the catalogue's first screen, the top of a category, the search results) is sold
one period at a time in a sealed-bid, second-price auction. Each period is an ``AdRound``:
bids are taken until ``closes_at``; the ``ads.close`` job (``core/jobs.py``, scheduled when
the round opens) settles it in one transaction — load the bids and payables, decide
(``core/decisions/auction.py``), write: the winner's payable pays ``platform_ads``, every
bidder is told through the outbox, the next round opens with its own close job. The winning
SKU is featured from ``closes_at`` to ``ends_at`` and the slot frees itself then: what is
featured is read from the rounds' windows, never switched off by a job.

A brand zone is a supplier's named page for a period; its fee (if any) is paid from his
payable when granted, a revenue share (``share_bps`` of his sales' supplier amount in the
zone's window) when it ends (the ``ads.zone_end`` job).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
from core.catalogue import load_sku, load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.auction import SealedBid, Unsold, Won, check_bid, settle
from core.decisions.balance import SUPPLIER_PAYABLE_FLOOR
from core.errors import Forbidden, InvalidAmount, InvalidInput, InvalidState, NotFound
from core.jobs import JobContext, JobHandler, NewJob, add_jobs
from core.ledger import Posting, balance_of, find_transaction, platform, post
from core.models import (
    AccountKind,
    AdBid,
    AdPlacement,
    AdRound,
    AdRoundStatus,
    AdSlot,
    BrandZone,
    Category,
    LineStatus,
    Order,
    OrderLine,
    Sku,
    SkuStatus,
    Supplier,
)
from core.outbox import enqueue
from core.rights import acting_admin, actor_name
from core.suppliers import load_own_supplier

CLOSE = "ads.close"
ZONE_END = "ads.zone_end"
RESULT = "ads.result"  # outbox: a bidder learns how his bid ended
NAME_LIMIT = 64
MAX_PERIOD_DAYS = 366
DEFAULT_MAX_BID = 10_000_00  # the settings' default (``Settings.ads_max_bid``)


@dataclass(frozen=True)
class SlotView:
    id: int
    name: str
    placement: AdPlacement
    category: str | None
    period_days: int
    reserve: int
    open_round: int | None
    closes_at: datetime | None
    featured_sku: str | None  # featured now
    featured_until: datetime | None


@dataclass(frozen=True)
class OpenRound:
    round_id: int
    slot: str
    placement: AdPlacement
    category: str | None
    reserve: int
    closes_at: datetime
    ends_at: datetime
    my_bid: int | None  # sealed: a supplier sees only his own
    my_sku: str | None


@dataclass(frozen=True)
class BidView:
    id: int
    round_id: int
    supplier: str
    sku: str
    amount: int
    placed_at: datetime
    outcome: str | None


@dataclass(frozen=True)
class Settled:
    round_id: int
    status: AdRoundStatus
    winner_sku: str | None
    price: int | None
    next_round: int | None


@dataclass(frozen=True)
class Featured:
    slot: str
    placement: AdPlacement
    category_id: int | None
    sku_code: str
    ends_at: datetime


@dataclass(frozen=True)
class ZoneView:
    id: int
    name: str
    supplier: str
    supplier_id: int
    fee: int
    share_bps: int
    starts_at: datetime
    ends_at: datetime


def _payload(**values: Any) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in values.items()}


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LIMIT:
        raise InvalidInput(field="name", value=name[:NAME_LIMIT])
    return name


def _check_days(days: int) -> int:
    if not 0 < days <= MAX_PERIOD_DAYS:
        raise InvalidInput(field="days", value=str(days))
    return days


def _open_round(session: AsyncSession, slot: AdSlot, closes_at: datetime, now: datetime) -> AdRound:
    round_ = AdRound(
        slot_id=slot.id,
        closes_at=closes_at,
        ends_at=closes_at + timedelta(days=slot.period_days),
        status=AdRoundStatus.OPEN,
    )
    session.add(round_)
    return round_


async def _schedule_close(session: AsyncSession, round_: AdRound, now: datetime) -> None:
    await session.flush()
    add_jobs(
        session,
        [NewJob(f"{CLOSE}:{round_.id}", CLOSE, as_utc(round_.closes_at), {"round": round_.id})],
        now,
    )


class Ads:
    def __init__(self, db: Database, clock: Clock, *, max_bid: int = DEFAULT_MAX_BID) -> None:
        self._db = db
        self._clock = clock
        self.max_bid = max_bid  # no bid (nor a slot's reserve) above it: KAMENG_ADS_MAX_BID

    def job_handlers(self) -> dict[str, JobHandler]:
        async def close(context: JobContext) -> None:
            await self.close_round(int(context.job.payload["round"]))

        async def zone_end(context: JobContext) -> None:
            await self.end_zone(int(context.job.payload["zone"]))

        return {CLOSE: close, ZONE_END: zone_end}

    # --- slots (admins) ---

    async def define_slot(
        self,
        admin_telegram_id: int | None,
        name: str,
        placement: AdPlacement,
        *,
        period_days: int,
        reserve: int,
        category: str | None = None,
        first_close: datetime | None = None,
    ) -> SlotView:
        """A new slot; its first round takes bids until ``first_close`` (default: a day)."""
        now = self._clock.now()
        name = _check_name(name)
        _check_days(period_days)
        if reserve < 0:
            raise InvalidAmount(amount=reserve)
        if reserve > self.max_bid:  # nobody could bid on it
            raise InvalidAmount(amount=reserve, max=self.max_bid)
        if (placement is AdPlacement.CATEGORY) != (category is not None):
            raise InvalidInput(field="category", value=category or "")
        closes_at = as_utc(first_close) if first_close else now + timedelta(days=1)
        if closes_at <= now:
            raise InvalidInput(field="time", value=closes_at.isoformat())
        async with self._db.transaction() as session:
            await acting_admin(session, admin_telegram_id, "ads.slot")
            category_id = None
            if category is not None:
                category_id = await session.scalar(
                    select(Category.id).where(Category.name == category)
                )
                if category_id is None:
                    raise NotFound(kind="category", ref=category)
            if await session.scalar(select(AdSlot.id).where(AdSlot.name == name)) is not None:
                raise InvalidState(what="slot", state="exists", ref=name)
            slot = AdSlot(
                name=name,
                placement=placement,
                category_id=category_id,
                period_days=period_days,
                reserve=reserve,
                created_at=now,
            )
            session.add(slot)
            await session.flush()
            round_ = _open_round(session, slot, closes_at, now)
            await _schedule_close(session, round_, now)
            await audit.append(
                session,
                action="ads.slot",
                actor=actor_name(admin_telegram_id),
                subject=f"slot:{slot.id}",
                payload=_payload(
                    name=name, placement=placement.value, days=period_days, reserve=reserve
                ),
                now=now,
            )
        return await self.slot(slot.id)

    async def slot(self, slot_id: int) -> SlotView:
        for view in await self.slots():
            if view.id == slot_id:
                return view
        raise NotFound(kind="slot", ref=str(slot_id))

    async def slots(self) -> list[SlotView]:
        now = self._clock.now()
        async with self._db.reading() as session:
            slots = list(await session.scalars(select(AdSlot).order_by(AdSlot.id)))
            categories = dict((await session.execute(select(Category.id, Category.name))).all())
            views = []
            for slot in slots:
                open_round = await session.scalar(
                    select(AdRound)
                    .where(AdRound.slot_id == slot.id, AdRound.status == AdRoundStatus.OPEN)
                    .order_by(AdRound.closes_at)
                    .limit(1)
                )
                featured = await _featured_round(session, slot.id, now)
                sku = None
                if featured is not None and featured.sku_id is not None:
                    sku = await session.scalar(select(Sku.code).where(Sku.id == featured.sku_id))
                views.append(
                    SlotView(
                        slot.id,
                        slot.name,
                        slot.placement,
                        categories.get(slot.category_id) if slot.category_id else None,
                        slot.period_days,
                        slot.reserve,
                        open_round.id if open_round else None,
                        as_utc(open_round.closes_at) if open_round else None,
                        sku,
                        as_utc(featured.ends_at) if featured else None,
                    )
                )
            return views

    async def bids(self, admin_telegram_id: int | None, round_id: int) -> list[BidView]:
        """Every bid of a round, highest first (admins only: bids are sealed)."""
        async with self._db.reading() as session:
            await acting_admin(session, admin_telegram_id, "ads.bids")
            rows = await session.execute(
                select(AdBid, Supplier.name, Sku.code)
                .join(Supplier, Supplier.id == AdBid.supplier_id)
                .join(Sku, Sku.id == AdBid.sku_id)
                .where(AdBid.round_id == round_id)
                .order_by(AdBid.amount.desc(), AdBid.placed_at, AdBid.id)
            )
            return [
                BidView(b.id, b.round_id, name, code, b.amount, as_utc(b.placed_at), b.outcome)
                for b, name, code in rows
            ]

    # --- bidding (suppliers) ---

    async def open_rounds(self, supplier_telegram_id: int) -> list[OpenRound]:
        async with self._db.reading() as session:
            _, supplier = await load_own_supplier(session, supplier_telegram_id)
            rows = await session.execute(
                select(AdRound, AdSlot, Category.name)
                .join(AdSlot, AdSlot.id == AdRound.slot_id)
                .outerjoin(Category, Category.id == AdSlot.category_id)
                .where(AdRound.status == AdRoundStatus.OPEN)
                .order_by(AdSlot.id)
            )
            views = []
            for round_, slot, category in rows:
                mine = await session.execute(
                    select(AdBid.amount, Sku.code)
                    .join(Sku, Sku.id == AdBid.sku_id)
                    .where(AdBid.round_id == round_.id, AdBid.supplier_id == supplier.id)
                )
                own = mine.first()
                views.append(
                    OpenRound(
                        round_.id,
                        slot.name,
                        slot.placement,
                        category,
                        slot.reserve,
                        as_utc(round_.closes_at),
                        as_utc(round_.ends_at),
                        own[0] if own else None,
                        own[1] if own else None,
                    )
                )
            return views

    async def bid(
        self, supplier_telegram_id: int, round_id: int, sku_code: str, amount: int
    ) -> OpenRound:
        """A sealed bid (or a new amount or SKU for the supplier's bid) on an open round."""
        now = self._clock.now()
        if amount <= 0:
            raise InvalidAmount(amount=amount)
        async with self._db.transaction() as session:
            _, supplier = await load_own_supplier(session, supplier_telegram_id)
            round_ = await session.get(AdRound, round_id, with_for_update=True)
            if round_ is None:
                raise NotFound(kind="round", ref=str(round_id))
            if round_.status is not AdRoundStatus.OPEN or now >= as_utc(round_.closes_at):
                raise InvalidState(what="round", state="closed", ref=str(round_id))
            slot = await session.get(AdSlot, round_.slot_id)
            assert slot is not None
            sku = await load_sku(session, sku_code)
            if sku.supplier_id != supplier.id:
                raise Forbidden(action="ads.bid")
            if sku.status is not SkuStatus.ACTIVE:
                raise InvalidState(what="sku", state=sku.status.value, ref=sku.code)
            if slot.category_id is not None and sku.category_id != slot.category_id:
                raise InvalidInput(field="sku", value=sku.code)
            payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, supplier.id)
            refused = check_bid(
                amount,
                reserve=slot.reserve,
                payable=payable - SUPPLIER_PAYABLE_FLOOR,
                max_bid=self.max_bid,
            )
            if refused is not None:
                raise InvalidAmount(amount=amount, reason=refused.reason, limit=refused.limit)
            bid = await session.scalar(
                select(AdBid).where(AdBid.round_id == round_id, AdBid.supplier_id == supplier.id)
            )
            if bid is None:
                session.add(
                    AdBid(
                        round_id=round_id,
                        supplier_id=supplier.id,
                        sku_id=sku.id,
                        amount=amount,
                        placed_at=now,
                    )
                )
            else:
                bid.sku_id, bid.amount, bid.placed_at = sku.id, amount, now
        views = await self.open_rounds(supplier_telegram_id)
        return next(v for v in views if v.round_id == round_id)

    async def biddable(self, supplier_telegram_id: int, round_id: int) -> list[tuple[str, str]]:
        """(code, name) of the supplier's SKUs on sale that fit the round's slot."""
        async with self._db.reading() as session:
            _, supplier = await load_own_supplier(session, supplier_telegram_id)
            round_ = await session.get(AdRound, round_id)
            if round_ is None:
                raise NotFound(kind="round", ref=str(round_id))
            slot = await session.get(AdSlot, round_.slot_id)
            assert slot is not None
            query = select(Sku.code, Sku.name).where(
                Sku.supplier_id == supplier.id, Sku.status == SkuStatus.ACTIVE
            )
            if slot.category_id is not None:
                query = query.where(Sku.category_id == slot.category_id)
            rows = await session.execute(query.order_by(Sku.name, Sku.id).limit(20))
            return [(code, name) for code, name in rows]

    # --- settlement (the ``ads.close`` job) ---

    async def close_round(self, round_id: int) -> Settled:
        """Settles a round due to close; a round already settled is left as it is."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            round_ = await session.get(AdRound, round_id, with_for_update=True)
            if round_ is None:
                raise NotFound(kind="round", ref=str(round_id))
            if round_.status is not AdRoundStatus.OPEN:
                return await _settled(session, round_, None)
            if now < as_utc(round_.closes_at):
                raise InvalidState(what="round", state="open", ref=str(round_id))
            slot = await session.get(AdSlot, round_.slot_id)
            assert slot is not None
            # load
            bids = list(await session.scalars(select(AdBid).where(AdBid.round_id == round_id)))
            sealed = [
                SealedBid(
                    b.id,
                    b.supplier_id,
                    b.amount,
                    as_utc(b.placed_at),
                    await balance_of(session, AccountKind.SUPPLIER_PAYABLE, b.supplier_id),
                )
                for b in bids
            ]
            # decide
            decision = settle(sealed, slot.reserve)
            # write
            by_id = {b.id: b for b in bids}
            for bid_id in decision.unpaid:
                by_id[bid_id].outcome = "unpaid"
            for bid_id in decision.lost:
                by_id[bid_id].outcome = "lost"
            if isinstance(decision, Won):
                winner = by_id[decision.bid_id]
                winner.outcome = "won"
                round_.status = AdRoundStatus.SOLD
                round_.winner_bid_id = winner.id
                round_.price = decision.price
                round_.sku_id = winner.sku_id
                await post(
                    session,
                    key=f"ads:round-{round_.id}",
                    kind="ad_placement",
                    postings=[
                        Posting(
                            AccountKind.SUPPLIER_PAYABLE,
                            winner.supplier_id,
                            -decision.price,
                            floor=SUPPLIER_PAYABLE_FLOOR,
                        ),
                        platform(AccountKind.PLATFORM_ADS, decision.price),
                    ],
                    now=now,
                    memo=f"featured: {slot.name}",
                )
            else:
                assert isinstance(decision, Unsold)
                round_.status = AdRoundStatus.UNSOLD
            for bid in bids:
                await _tell_bidder(session, bid, slot, round_, now)
            following = _open_round(session, slot, as_utc(round_.ends_at), now)
            await _schedule_close(session, following, now)
            await audit.append(
                session,
                action="ads.settled",
                actor="scheduler",
                subject=f"round:{round_.id}",
                payload=_payload(status=round_.status.value, price=round_.price, bids=len(bids)),
                now=now,
            )
            return await _settled(session, round_, following.id)

    # --- what is featured (the storefront) ---

    async def featured(self) -> list[Featured]:
        now = self._clock.now()
        async with self._db.reading() as session:
            return await featured_now(session, now)

    # --- brand zones ---

    async def grant_zone(
        self,
        admin_telegram_id: int | None,
        supplier_telegram_id: int,
        name: str,
        *,
        days: int,
        fee: int = 0,
        share_bps: int = 0,
        idempotency_key: str,
    ) -> ZoneView:
        """A named zone for ``days``; the fee is paid from the supplier's payable now."""
        now = self._clock.now()
        name = _check_name(name)
        _check_days(days)
        if fee < 0:
            raise InvalidAmount(amount=fee)
        if not 0 <= share_bps <= 10_000:
            raise InvalidInput(field="share_bps", value=str(share_bps))
        if fee == 0 and share_bps == 0:
            raise InvalidInput(field="terms", value="no fee and no share")
        key = f"ads:zone:{idempotency_key}"
        async with self._db.transaction() as session:
            await acting_admin(session, admin_telegram_id, "ads.zone")
            user = await load_user(session, supplier_telegram_id)
            supplier = await session.scalar(select(Supplier).where(Supplier.user_id == user.id))
            if supplier is None or not user.is_supplier:
                raise NotFound(kind="supplier", ref=str(supplier_telegram_id))
            replay = await session.scalar(select(BrandZone).where(BrandZone.idempotency_key == key))
            if replay is not None:
                return _zone_view(replay, supplier)
            zone = BrandZone(
                supplier_id=supplier.id,
                name=name,
                fee=fee,
                share_bps=share_bps,
                idempotency_key=key,
                starts_at=now,
                ends_at=now + timedelta(days=days),
                created_at=now,
            )
            session.add(zone)
            await session.flush()
            if fee:
                await post(
                    session,
                    key=key,
                    kind="brand_zone",
                    postings=[
                        Posting(
                            AccountKind.SUPPLIER_PAYABLE,
                            supplier.id,
                            -fee,
                            floor=SUPPLIER_PAYABLE_FLOOR,
                        ),
                        platform(AccountKind.PLATFORM_ADS, fee),
                    ],
                    now=now,
                    memo=f"brand zone {zone.id}: {name}",
                )
            add_jobs(
                session,
                [NewJob(f"{ZONE_END}:{zone.id}", ZONE_END, zone.ends_at, {"zone": zone.id})],
                now,
            )
            await audit.append(
                session,
                action="ads.zone",
                actor=actor_name(admin_telegram_id),
                subject=f"zone:{zone.id}",
                payload=_payload(
                    key=key,
                    supplier=supplier.id,
                    name=name,
                    days=days,
                    fee=fee,
                    share_bps=share_bps,
                ),
                now=now,
            )
            return _zone_view(zone, supplier)

    async def end_zone(self, zone_id: int) -> int:
        """At the zone's end: the revenue share of the supplier's sales in its window, paid
        from his payable (as much as it holds); returns what was charged."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            zone = await session.get(BrandZone, zone_id, with_for_update=True)
            if zone is None:
                raise NotFound(kind="zone", ref=str(zone_id))
            key = f"ads:zone-share-{zone.id}"
            if zone.share_bps == 0 or await find_transaction(session, key) is not None:
                return 0
            sales = await session.scalar(
                select(func.coalesce(func.sum(OrderLine.supplier_amount), 0))
                .join(Order, Order.id == OrderLine.order_id)
                .where(
                    Order.supplier_id == zone.supplier_id,
                    OrderLine.status == LineStatus.DELIVERED,
                    Order.created_at >= zone.starts_at,
                    Order.created_at < zone.ends_at,
                )
            )
            due = zone_share(int(sales or 0), zone.share_bps)
            payable = await balance_of(session, AccountKind.SUPPLIER_PAYABLE, zone.supplier_id)
            charged = min(due, max(payable, 0))
            if charged > 0:
                await post(
                    session,
                    key=key,
                    kind="brand_zone",
                    postings=[
                        Posting(
                            AccountKind.SUPPLIER_PAYABLE,
                            zone.supplier_id,
                            -charged,
                            floor=SUPPLIER_PAYABLE_FLOOR,
                        ),
                        platform(AccountKind.PLATFORM_ADS, charged),
                    ],
                    now=now,
                    memo=f"brand zone {zone.id} share",
                )
            return charged

    async def zones(self, *, active_only: bool = True) -> list[ZoneView]:
        now = self._clock.now()
        async with self._db.reading() as session:
            query = select(BrandZone, Supplier).join(Supplier, Supplier.id == BrandZone.supplier_id)
            if active_only:
                query = query.where(BrandZone.starts_at <= now, BrandZone.ends_at > now)
            rows = await session.execute(query.order_by(BrandZone.name, BrandZone.id))
            return [_zone_view(zone, supplier) for zone, supplier in rows]


def zone_share(sales: int, share_bps: int) -> int:
    """The platform's share of ``sales`` (fen) at ``share_bps``, rounded down once."""
    return sales * share_bps // 10_000


def _zone_view(zone: BrandZone, supplier: Supplier) -> ZoneView:
    return ZoneView(
        zone.id,
        zone.name,
        supplier.name,
        supplier.id,
        zone.fee,
        zone.share_bps,
        as_utc(zone.starts_at),
        as_utc(zone.ends_at),
    )


async def _featured_round(session: AsyncSession, slot_id: int, now: datetime) -> AdRound | None:
    return await session.scalar(
        select(AdRound).where(
            AdRound.slot_id == slot_id,
            AdRound.status == AdRoundStatus.SOLD,
            AdRound.closes_at <= now,
            AdRound.ends_at > now,
        )
    )


async def featured_now(session: AsyncSession, now: datetime) -> list[Featured]:
    """The SKUs featured at ``now``: sold rounds in their window, of SKUs still on sale."""
    rows = await session.execute(
        select(AdSlot.name, AdSlot.placement, AdSlot.category_id, Sku.code, AdRound.ends_at)
        .join(AdRound, AdRound.slot_id == AdSlot.id)
        .join(Sku, Sku.id == AdRound.sku_id)
        .where(
            AdRound.status == AdRoundStatus.SOLD,
            AdRound.closes_at <= now,
            AdRound.ends_at > now,
            Sku.status == SkuStatus.ACTIVE,
        )
        .order_by(AdSlot.id)
    )
    return [Featured(n, p, c, code, as_utc(e)) for n, p, c, code, e in rows]


async def zone_supplier_ids(session: AsyncSession, now: datetime) -> set[int]:
    return set(
        await session.scalars(
            select(BrandZone.supplier_id).where(BrandZone.starts_at <= now, BrandZone.ends_at > now)
        )
    )


async def _settled(session: AsyncSession, round_: AdRound, following: int | None) -> Settled:
    sku = None
    if round_.sku_id is not None:
        sku = await session.scalar(select(Sku.code).where(Sku.id == round_.sku_id))
    return Settled(round_.id, round_.status, sku, round_.price, following)


async def _tell_bidder(
    session: AsyncSession, bid: AdBid, slot: AdSlot, round_: AdRound, now: datetime
) -> None:
    user_id = await session.scalar(select(Supplier.user_id).where(Supplier.id == bid.supplier_id))
    sku = await session.scalar(select(Sku.code).where(Sku.id == bid.sku_id))
    assert user_id is not None
    await enqueue(
        session,
        kind=RESULT,
        user_id=user_id,
        payload=_payload(
            outcome=bid.outcome or "lost",
            slot=slot.name,
            sku=sku,
            bid=bid.amount,
            price=round_.price if bid.outcome == "won" else None,
            starts_at=as_utc(round_.closes_at),
            ends_at=as_utc(round_.ends_at),
        ),
        now=now,
    )

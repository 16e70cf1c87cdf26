"""Admin broadcasts: campaigns, their audiences and each recipient's delivery state.

A campaign is composed (a draft with a preview), started (one recipient row per user of the
audience, ``UNIQUE (campaign, user)``) and then sent by one worker at a time, which holds a
*lease* on the campaign. The worker moves recipients ``pending → sending`` (a durable claim,
committed before the message goes out) and then to ``sent``/``blocked``/``failed``.

Restart semantics (what makes "nobody twice, nobody skipped" hold):

* A graceful stop finishes the sends already in flight, records their outcome, puts every
  claimed-but-unsent recipient back to ``pending`` and releases the lease: the next worker
  continues exactly where this one stopped.
* A hard kill (power cut, SIGKILL) leaves the lease to expire and the claimed recipients in
  ``sending``: for those the process may or may not have reached Telegram, and the Bot API
  cannot tell. The next worker marks them ``failed`` with the reason "interrupted" rather
  than send again — at most once, never twice. The worker claims about a quarter second of
  sends at a time and records outcomes as often, so that window is about half a second of
  sends (≈ 15 recipients at 25/s).

Nothing here knows Telegram: the worker in ``bot/`` turns outcomes into these calls.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, leases
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.errors import Forbidden, InvalidInput, InvalidState, NotFound
from core.models import (
    BroadcastCampaign,
    BroadcastOptOut,
    BroadcastRecipient,
    CampaignStatus,
    Category,
    Level,
    Order,
    RecipientStatus,
    ServiceKind,
    ServiceOffer,
    ServiceSubscription,
    Sku,
    SubscriptionStatus,
    Supplier,
    User,
    UserStatus,
)
from core.rights import require_admin

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTON_LABEL = 64
MAX_URL = 512
MAX_DAYS = 3650
LEASE = timedelta(seconds=30)  # the default; ``Settings.lease_seconds``
INTERRUPTED = "interrupted: delivery unknown (worker stopped without finishing)"
AUDIENCES = ("resellers", "level", "category", "suppliers", "buyers")
BUYERS = "buyers"  # a supplier's own past buyers, paid with broadcast credits (ref: the service)
_TAG = re.compile(r"<[^>]*>")
T = TypeVar("T")
_SENDING = BroadcastCampaign.status == CampaignStatus.SENDING


@dataclass(frozen=True)
class BroadcastCredits:
    """``next_campaign``: the credits his next campaign may spend (one purchase's, the one
    ending first, ``ends_at``); ``rest``: his other running purchases' credits, for the
    campaigns after it."""

    next_campaign: int
    ends_at: datetime | None
    rest: int

    @property
    def total(self) -> int:
        return self.next_campaign + self.rest


def plain_length(body_html: str) -> int:
    """Characters Telegram counts for a message given as HTML (tags off, entities decoded)."""
    return len(html.unescape(_TAG.sub("", body_html)))


@dataclass(frozen=True)
class CampaignMessage:
    """What every recipient sees: HTML text, or a photo with an HTML caption; one URL button."""

    kind: str  # "text" | "photo"
    body_html: str
    photo_file_id: str | None = None
    button_label: str | None = None
    button_url: str | None = None

    def validate(self) -> None:
        if self.kind not in ("text", "photo"):
            raise InvalidInput(field="kind", value=self.kind)
        length = plain_length(self.body_html)
        if self.kind == "text" and not 0 < length <= MAX_TEXT:
            raise InvalidInput(field="text", length=length, max=MAX_TEXT)
        if self.kind == "photo":
            if not self.photo_file_id:
                raise InvalidInput(field="photo", value="")
            if length > MAX_CAPTION:
                raise InvalidInput(field="caption", length=length, max=MAX_CAPTION)
        if (self.button_label is None) != (self.button_url is None):
            raise InvalidInput(field="button", value="label and url go together")
        if self.button_label is not None and self.button_url is not None:
            check_button(self.button_label, self.button_url)


def check_button(label: str, url: str) -> None:
    if not 0 < len(label.strip()) <= MAX_BUTTON_LABEL:
        raise InvalidInput(field="button_label", value=label, max=MAX_BUTTON_LABEL)
    parts = urlsplit(url)
    host = parts.hostname or ""
    if (
        parts.scheme != "https"
        or "." not in host
        or len(url) > MAX_URL
        or any(c.isspace() for c in url)
    ):
        raise InvalidInput(field="button_url", value=url)


@dataclass(frozen=True)
class Audience:
    """``resellers`` (all), ``level`` (ref = level id), ``category`` (buyers of category
    ``ref`` in the last ``days`` days), ``suppliers``. Reseller audiences leave out users
    who opted out of promotional broadcasts; every audience leaves out banned users and
    users who never wrote to the bot (Telegram would refuse: created by the operator)."""

    kind: str
    ref: int | None = None
    days: int | None = None

    def validate(self) -> None:
        if self.kind not in AUDIENCES:
            raise InvalidInput(field="audience", value=self.kind)
        if self.kind in ("level", "category", BUYERS) and self.ref is None:
            raise InvalidInput(field="audience_ref", value=None)
        if self.kind == "category" and not (self.days and 0 < self.days <= MAX_DAYS):
            raise InvalidInput(field="days", value=self.days, max=MAX_DAYS)


@dataclass(frozen=True)
class Counts:
    total: int
    sent: int
    blocked: int
    failed: int
    pending: int  # not yet sent (pending or in flight)


@dataclass(frozen=True)
class CampaignView:
    id: int
    status: CampaignStatus
    message: CampaignMessage
    audience: Audience
    audience_name: str  # the level's or category's name ("" for the others)
    recipients: int  # the audience's size now (draft) or the rows queued (started)
    admin_chat_id: int
    progress_message_id: int | None


@dataclass(frozen=True)
class Started:
    campaign: CampaignView
    already: bool  # a second press of Send: nothing changed


@dataclass(frozen=True)
class Claimed:
    recipient_id: int
    telegram_id: int
    attempts: int


@dataclass(frozen=True)
class Outcome:
    recipient_id: int
    status: RecipientStatus  # SENT, BLOCKED or FAILED
    attempts: int  # calls made so far, this one included
    error: str | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class Choice:
    id: int
    name: str


def _message(c: BroadcastCampaign) -> CampaignMessage:
    return CampaignMessage(c.kind, c.body_html, c.photo_file_id, c.button_label, c.button_url)


def _audience(c: BroadcastCampaign) -> Audience:
    return Audience(c.audience, c.audience_ref, c.audience_days)


def _audience_filter(audience: Audience, now: datetime) -> ColumnElement[bool]:
    # Telegram lets the bot write only to users who wrote to it first
    active = and_(User.status == UserStatus.ACTIVE, User.started_at.is_not(None))
    if audience.kind == "suppliers":
        return and_(active, User.is_supplier)
    opted_out = exists().where(BroadcastOptOut.user_id == User.id)
    resellers = and_(active, User.is_reseller, ~opted_out)
    if audience.kind == "level":
        return and_(resellers, User.level_id == audience.ref)
    if audience.kind == BUYERS:  # the paying supplier's own past buyers
        supplier = (
            select(ServiceSubscription.payer_owner)
            .where(ServiceSubscription.id == audience.ref)
            .scalar_subquery()
        )
        bought_here = exists().where(Order.user_id == User.id).where(Order.supplier_id == supplier)
        return and_(resellers, bought_here)
    if audience.kind == "category":
        since = now - timedelta(days=audience.days or 0)
        bought = (
            exists()
            .where(Order.user_id == User.id)
            .where(Order.sku_id == Sku.id)
            .where(Sku.category_id == audience.ref)
            .where(Order.created_at >= since)
        )
        return and_(resellers, bought)
    return resellers


async def _audience_name(session: AsyncSession, audience: Audience) -> str:
    if audience.kind == "level":
        name = await session.scalar(select(Level.name).where(Level.id == audience.ref))
    elif audience.kind == "category":
        name = await session.scalar(select(Category.name).where(Category.id == audience.ref))
    elif audience.kind == BUYERS:
        name = await session.scalar(
            select(Supplier.name)
            .join(ServiceSubscription, ServiceSubscription.payer_owner == Supplier.id)
            .where(ServiceSubscription.id == audience.ref)
        )
    else:
        return ""
    if name is None:
        raise NotFound(kind=audience.kind, ref=str(audience.ref))
    return name


async def _count(session: AsyncSession, audience: Audience, now: datetime) -> int:
    query = select(func.count()).select_from(User).where(_audience_filter(audience, now))
    return int(await session.scalar(query) or 0)


def _running_credits(query: Select[T], user: User, now: datetime) -> Select[T]:
    """``query`` narrowed to the user's broadcast-credits services running at ``now``."""
    return query.join(ServiceOffer, ServiceOffer.id == ServiceSubscription.offer_id).where(
        ServiceSubscription.user_id == user.id,
        ServiceOffer.kind == ServiceKind.BROADCAST_CREDITS,
        ServiceSubscription.status == SubscriptionStatus.ACTIVE,
        ServiceSubscription.ends_at > now,
    )


async def _credits_of(
    session: AsyncSession, user: User, now: datetime, *, lock: bool = False
) -> ServiceSubscription | None:
    """The supplier's running broadcast-credits service with credits left (the one ending
    first, so credits about to expire are spent first)."""
    query = (
        _running_credits(select(ServiceSubscription), user, now)
        .where(ServiceSubscription.credits > 0)
        .order_by(ServiceSubscription.ends_at, ServiceSubscription.id)
        .limit(1)
    )
    return await session.scalar(query.with_for_update() if lock else query)


async def _may_run(
    session: AsyncSession, campaign: BroadcastCampaign, telegram_id: int, action: str
) -> User:
    """An admin campaign is run by admins; a supplier's (credits) campaign by him alone."""
    if campaign.audience != BUYERS:
        return await require_admin(session, telegram_id, action)
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None or user.id != campaign.admin_user_id:
        raise Forbidden(action=action)
    return user


async def _campaign(session: AsyncSession, campaign_id: int, *, lock: bool) -> BroadcastCampaign:
    query = select(BroadcastCampaign).where(BroadcastCampaign.id == campaign_id)
    campaign = await session.scalar(query.with_for_update() if lock else query)
    if campaign is None:
        raise NotFound(kind="broadcast", ref=str(campaign_id))
    return campaign


async def _counts(session: AsyncSession, campaign_id: int) -> Counts:
    rows = await session.execute(
        select(BroadcastRecipient.status, func.count())
        .where(BroadcastRecipient.campaign_id == campaign_id)
        .group_by(BroadcastRecipient.status)
    )
    by: dict[RecipientStatus, int] = {RecipientStatus(s): int(n) for s, n in rows}
    return Counts(
        total=sum(by.values()),
        sent=by.get(RecipientStatus.SENT, 0),
        blocked=by.get(RecipientStatus.BLOCKED, 0),
        failed=by.get(RecipientStatus.FAILED, 0),
        pending=by.get(RecipientStatus.PENDING, 0) + by.get(RecipientStatus.SENDING, 0),
    )


async def _fail_in_flight(session: AsyncSession, campaign_id: int) -> None:
    """A dead worker's claimed recipients: maybe sent, maybe not. Never sent again."""
    await session.execute(
        update(BroadcastRecipient)
        .where(BroadcastRecipient.campaign_id == campaign_id)
        .where(BroadcastRecipient.status == RecipientStatus.SENDING)
        .values(status=RecipientStatus.FAILED, last_error=INTERRUPTED)
    )


async def _renew(
    session: AsyncSession,
    campaign_id: int,
    owner: str,
    now: datetime,
    lease: timedelta,
    where: list[ColumnElement[bool]] | None = None,
) -> bool:
    """Hold the campaign ``lease`` longer, if it is still ``owner``'s."""
    until = now + lease
    return await leases.renew(
        session, BroadcastCampaign, campaign_id, owner=owner, until=until, where=where or []
    )


class Broadcasts:
    def __init__(self, db: Database, clock: Clock, *, lease: timedelta = LEASE) -> None:
        self._db = db
        self._clock = clock
        self.lease = lease

    # composing (admin) -----------------------------------------------------------------

    async def levels(self) -> list[Choice]:
        async with self._db.reading() as session:
            rows = await session.execute(select(Level.id, Level.name).order_by(Level.rank))
            return [Choice(i, n) for i, n in rows]

    async def categories(self) -> list[Choice]:
        async with self._db.reading() as session:
            rows = await session.execute(select(Category.id, Category.name).order_by(Category.name))
            return [Choice(i, n) for i, n in rows]

    async def draft(
        self, admin_telegram_id: int, message: CampaignMessage, audience: Audience
    ) -> CampaignView:
        """A campaign to preview: nothing is queued until :meth:`start`."""
        message.validate()
        audience.validate()
        now = self._clock.now()
        async with self._db.transaction() as session:
            admin = await require_admin(session, admin_telegram_id, "broadcast.draft")
            name = await _audience_name(session, audience)
            campaign = BroadcastCampaign(
                admin_user_id=admin.id,
                admin_chat_id=admin.telegram_id,
                kind=message.kind,
                body_html=message.body_html,
                photo_file_id=message.photo_file_id,
                button_label=message.button_label,
                button_url=message.button_url,
                audience=audience.kind,
                audience_ref=audience.ref,
                audience_days=audience.days,
                status=CampaignStatus.DRAFT,
                created_at=now,
            )
            session.add(campaign)
            await session.flush()
            count = await _count(session, audience, now)
            return self._view(campaign, name, count)

    async def draft_for_supplier(
        self, supplier_telegram_id: int, message: CampaignMessage
    ) -> CampaignView:
        """A supplier's campaign to his own past buyers (resellers who did not opt out),
        paid with broadcast credits: one credit per recipient, taken when he presses Send;
        the preview counts at most as many recipients as he has credits."""
        message.validate()
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, supplier_telegram_id)
            if not user.is_supplier:
                raise Forbidden(action="broadcast.credits")
            sub = await _credits_of(session, user, now)
            if sub is None:
                raise InvalidState(what="broadcast_credits", state="none", ref="")
            audience = Audience(BUYERS, ref=sub.id)
            campaign = BroadcastCampaign(
                admin_user_id=user.id,
                admin_chat_id=user.telegram_id,
                kind=message.kind,
                body_html=message.body_html,
                photo_file_id=message.photo_file_id,
                button_label=message.button_label,
                button_url=message.button_url,
                audience=BUYERS,
                audience_ref=sub.id,
                status=CampaignStatus.DRAFT,
                created_at=now,
            )
            session.add(campaign)
            await session.flush()
            count = min(await _count(session, audience, now), sub.credits)
            name = await _audience_name(session, audience)
            return self._view(campaign, name, count)

    async def credits(self, supplier_telegram_id: int) -> BroadcastCredits:
        """A supplier's broadcast credits as his next campaign meets them: it is paid from
        one purchase only (``_credits_of``: the one ending first), the rest wait."""
        now = self._clock.now()
        async with self._db.reading() as session:
            user = await load_user(session, supplier_telegram_id)
            if not user.is_supplier:
                raise Forbidden(action="broadcast.credits")
            total = await session.scalar(
                _running_credits(select(func.sum(ServiceSubscription.credits)), user, now)
            )
            first = await _credits_of(session, user, now)
            if first is None:
                return BroadcastCredits(0, None, int(total or 0))
            return BroadcastCredits(
                first.credits, as_utc(first.ends_at), int(total or 0) - first.credits
            )

    async def start(self, campaign_id: int, admin_telegram_id: int) -> Started:
        """Queue one recipient row per user of the audience (as it is now) and hand the
        campaign to the worker. Pressing Send twice queues once."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            campaign = await _campaign(session, campaign_id, lock=True)
            await _may_run(session, campaign, admin_telegram_id, "broadcast.start")
            audience = _audience(campaign)
            name = await _audience_name(session, audience)
            if campaign.status is not CampaignStatus.DRAFT:
                total = (await _counts(session, campaign.id)).total
                return Started(self._view(campaign, name, total), already=True)
            credits: ServiceSubscription | None = None
            if audience.kind == BUYERS:
                credits = await session.get(ServiceSubscription, audience.ref, with_for_update=True)
                usable = (
                    credits is not None
                    and credits.status is SubscriptionStatus.ACTIVE
                    and as_utc(credits.ends_at) > now
                    and credits.credits > 0
                )
                if not usable:
                    raise InvalidState(what="broadcast_credits", state="none", ref="")
            users = select(
                literal(campaign.id),
                User.id,
                User.telegram_id,
                literal(RecipientStatus.PENDING.value),
                literal(0),
            ).where(_audience_filter(audience, now))
            if credits is not None:  # as many recipients as credits, earliest users first
                users = users.order_by(User.id).limit(credits.credits)
            await session.execute(
                insert(BroadcastRecipient).from_select(
                    ["campaign_id", "user_id", "telegram_id", "status", "attempts"], users
                )
            )
            campaign.status = CampaignStatus.SENDING
            campaign.started_at = now
            total = (await _counts(session, campaign.id)).total
            if credits is not None:
                credits.credits -= total  # one credit per recipient; unreached ones come back
            await audit.append(
                session,
                action="broadcast.start",
                actor=f"{'supplier' if credits else 'admin'}:{admin_telegram_id}",
                subject=f"broadcast:{campaign.id}",
                payload={"audience": audience.kind, "ref": audience.ref, "recipients": total},
                now=now,
            )
            return Started(self._view(campaign, name, total), already=False)

    async def discard(self, campaign_id: int, admin_telegram_id: int) -> CampaignView:
        """Cancel a preview; a started campaign is stopped with :meth:`cancel` instead."""
        async with self._db.transaction() as session:
            campaign = await _campaign(session, campaign_id, lock=True)
            await _may_run(session, campaign, admin_telegram_id, "broadcast.discard")
            if campaign.status is CampaignStatus.DRAFT:
                campaign.status = CampaignStatus.DISCARDED
            name = await _audience_name(session, _audience(campaign))
            return self._view(campaign, name, (await _counts(session, campaign.id)).total)

    async def cancel(self, campaign_id: int, admin_telegram_id: int) -> CampaignView:
        """Stop a campaign being sent: who got it keeps it, nobody else gets it."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            campaign = await _campaign(session, campaign_id, lock=True)
            await _may_run(session, campaign, admin_telegram_id, "broadcast.cancel")
            if campaign.status is CampaignStatus.SENDING:
                campaign.status = CampaignStatus.CANCELLED
                campaign.finished_at = now
                await audit.append(
                    session,
                    action="broadcast.cancel",
                    actor=f"admin:{admin_telegram_id}",
                    subject=f"broadcast:{campaign.id}",
                    payload={},
                    now=now,
                )
            elif campaign.status is CampaignStatus.DRAFT:
                raise InvalidState(kind="broadcast", state=campaign.status.value)
            name = await _audience_name(session, _audience(campaign))
            return self._view(campaign, name, (await _counts(session, campaign.id)).total)

    async def set_progress_message(self, campaign_id: int, message_id: int) -> None:
        async with self._db.transaction() as session:
            campaign = await _campaign(session, campaign_id, lock=True)
            campaign.progress_message_id = message_id

    async def campaign(self, campaign_id: int) -> CampaignView:
        async with self._db.reading() as session:
            campaign = await _campaign(session, campaign_id, lock=False)
            name = await _audience_name(session, _audience(campaign))
            return self._view(campaign, name, (await _counts(session, campaign.id)).total)

    async def counts(self, campaign_id: int) -> Counts:
        async with self._db.reading() as session:
            return await _counts(session, campaign_id)

    # opting out (any user) ---------------------------------------------------------------

    async def opted_out(self, telegram_id: int) -> bool:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            return await session.get(BroadcastOptOut, user.id) is not None

    async def set_opted_out(self, telegram_id: int, opted_out: bool) -> bool:
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            row = await session.get(BroadcastOptOut, user.id)
            if opted_out and row is None:
                session.add(BroadcastOptOut(user_id=user.id, created_at=self._clock.now()))
            elif not opted_out and row is not None:
                await session.execute(
                    delete(BroadcastOptOut).where(BroadcastOptOut.user_id == user.id)
                )
            return opted_out

    # sending (the worker) ------------------------------------------------------------------

    async def due(self) -> list[int]:
        """Campaigns that need a worker: being sent, or ended and not yet reported."""
        async with self._db.reading() as session:
            query = (
                select(BroadcastCampaign.id)
                .where(
                    (BroadcastCampaign.status == CampaignStatus.SENDING)
                    | (
                        BroadcastCampaign.status.in_(
                            [CampaignStatus.DONE, CampaignStatus.CANCELLED]
                        )
                        & BroadcastCampaign.reported_at.is_(None)
                    )
                )
                .order_by(BroadcastCampaign.id)
            )
            return list(await session.scalars(query))

    async def acquire(self, campaign_id: int, owner: str) -> bool:
        """Take the campaign's lease if it is free, ours, or expired. Taking it over from a
        worker that died, its in-flight recipients become ``failed`` (interrupted): they may
        have received the message, and sending again could make it twice."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            this_one = [BroadcastCampaign.id == campaign_id, _SENDING]
            taken = bool(
                await leases.claim(
                    session,
                    BroadcastCampaign,
                    owner=owner,
                    now=now,
                    lease=self.lease,
                    where=this_one,
                )
            ) or await _renew(session, campaign_id, owner, now, self.lease, where=[_SENDING])
            if taken:
                # nobody is sending this campaign right now (that is what the lease says), so
                # a recipient still "sending" belongs to a worker that died or failed mid-batch
                await _fail_in_flight(session, campaign_id)
            return taken

    async def claim(self, campaign_id: int, owner: str, limit: int) -> list[Claimed] | None:
        """The next ``limit`` pending recipients, now ``sending``; ``None`` when the campaign
        is no longer ours to send (cancelled, or the lease was taken over)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            if not await _renew(session, campaign_id, owner, now, self.lease, where=[_SENDING]):
                return None
            rows = (
                await session.execute(
                    select(
                        BroadcastRecipient.id,
                        BroadcastRecipient.telegram_id,
                        BroadcastRecipient.attempts,
                    )
                    .where(BroadcastRecipient.campaign_id == campaign_id)
                    .where(BroadcastRecipient.status == RecipientStatus.PENDING)
                    .order_by(BroadcastRecipient.id)
                    .limit(limit)
                )
            ).all()
            claimed = [Claimed(i, t, a) for i, t, a in rows]
            if claimed:
                await session.execute(
                    update(BroadcastRecipient)
                    .where(BroadcastRecipient.id.in_([c.recipient_id for c in claimed]))
                    .values(status=RecipientStatus.SENDING)
                )
            return claimed

    async def renew(self, campaign_id: int, owner: str) -> bool:
        """Hold the campaign one lease longer while sending; False if it is no longer ours."""
        async with self._db.transaction() as session:
            return await _renew(session, campaign_id, owner, self._clock.now(), self.lease)

    async def record(self, campaign_id: int, owner: str, outcomes: list[Outcome]) -> None:
        """Write delivery outcomes (one transaction for the batch) and renew the lease."""
        if not outcomes:
            return
        now = self._clock.now()
        async with self._db.transaction() as session:
            await _campaign(session, campaign_id, lock=True)
            await _renew(session, campaign_id, owner, now, self.lease)
            await session.execute(
                update(BroadcastRecipient),
                [
                    {
                        "id": o.recipient_id,
                        "status": o.status,
                        "attempts": o.attempts,
                        "last_error": (o.error or "")[:200] or None,
                        "message_id": o.message_id,
                        "sent_at": now if o.status is RecipientStatus.SENT else None,
                    }
                    for o in outcomes
                ],
            )

    async def release(
        self, campaign_id: int, owner: str, unsent: list[int], attempts: dict[int, int]
    ) -> None:
        """A graceful stop: claimed recipients that were not sent go back to ``pending``
        (keeping the attempts already made), and the lease is freed."""
        async with self._db.transaction() as session:
            await _campaign(session, campaign_id, lock=True)
            if unsent:
                await session.execute(
                    update(BroadcastRecipient),
                    [
                        {"id": i, "status": RecipientStatus.PENDING, "attempts": attempts[i]}
                        for i in unsent
                    ],
                )
            await leases.release(session, BroadcastCampaign, campaign_id, owner=owner)

    async def finish(self, campaign_id: int, owner: str) -> bool:
        """Mark the campaign done once nobody is left to send to."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            campaign = await _campaign(session, campaign_id, lock=True)
            if campaign.status is not CampaignStatus.SENDING:
                return False
            if (await _counts(session, campaign_id)).pending:
                return False
            return await leases.release(
                session,
                BroadcastCampaign,
                campaign_id,
                owner=owner,
                values={"status": CampaignStatus.DONE, "finished_at": now},
            )

    async def take_report(self, campaign_id: int) -> tuple[CampaignView, Counts] | None:
        """The final report of an ended campaign, handed out once (then it is marked
        reported, so two workers or a restart never report twice)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            campaign = await _campaign(session, campaign_id, lock=True)
            ended = campaign.status in (CampaignStatus.DONE, CampaignStatus.CANCELLED)
            if not ended or campaign.reported_at is not None:
                return None
            holder = campaign.lease_owner  # a worker that has not handed the campaign back
            if holder is not None:
                expired = [leases.is_free(BroadcastCampaign, now)]
                if not await leases.release(
                    session, BroadcastCampaign, campaign_id, owner=holder, where=expired
                ):
                    return None  # its lease runs: it is still winding down in-flight sends
                await _fail_in_flight(session, campaign_id)  # it died: those sends are unknown
            campaign.reported_at = now
            counts = await _counts(session, campaign_id)
            if campaign.audience == BUYERS and counts.total > counts.sent:
                await _refund_credits(session, campaign, counts.total - counts.sent, now)
            name = await _audience_name(session, _audience(campaign))
            return self._view(campaign, name, counts.total), counts

    def _view(self, campaign: BroadcastCampaign, name: str, recipients: int) -> CampaignView:
        return CampaignView(
            id=campaign.id,
            status=campaign.status,
            message=_message(campaign),
            audience=_audience(campaign),
            audience_name=name,
            recipients=recipients,
            admin_chat_id=campaign.admin_chat_id,
            progress_message_id=campaign.progress_message_id,
        )


async def _refund_credits(
    session: AsyncSession, campaign: BroadcastCampaign, unreached: int, now: datetime
) -> None:
    """Credits of recipients the campaign did not reach (blocked, failed, stopped before
    their turn) go back to the service they came from, once: with the final report."""
    sub = await session.get(ServiceSubscription, campaign.audience_ref, with_for_update=True)
    if sub is None:
        return
    sub.credits += unreached
    await audit.append(
        session,
        action="broadcast.credits_refund",
        actor="system",
        subject=f"broadcast:{campaign.id}",
        payload={"subscription": sub.id, "credits": unreached},
        now=now,
    )

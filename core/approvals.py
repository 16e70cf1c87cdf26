"""One approval mechanism for every admin queue: top-ups, registrations, supplier
applications, SKU reviews, bad-code reports and withdrawals (and the next ones: credit
lines, ad bids, upstream failures).

A request is a row of its kind's own table (``top_up_requests``, ``code_reports``, ...),
which keeps the domain data; every such row has a ``status`` that starts at the kind's
waiting value, and ``decided_by`` / ``decided_at``. :func:`decide` is the one place that

1. checks the actor's admin rights (:func:`core.rights.require_admin`),
2. locks the request row (``FOR UPDATE``; SQLite's single writer does the same), so the
   first decision wins and a second admin sees it ("already decided by X at T"),
3. calls the kind's ``approve`` or ``reject`` (what happens: credit a balance, grant a
   role, list a SKU, replace a code, pay a supplier ...), in the same transaction — if it
   raises, nothing is written and the request stays waiting,
4. stamps who decided and when, and appends the audit record the kind names.

A kind plugs in with one :class:`ApprovalKind` object; ``core/approval_kinds.py`` lists
them (the admin panel's queue and counters read that list).

Who must act, and who asked, are told through the outbox, in the transaction that filed or
decided the request, so a Telegram outage delays these notices but never loses them:
:func:`ask_admins` writes a ``REQUEST_NOTICE`` (the card with its buttons) to every admin
(``core.catalogue.admin_user_ids``, the one audience), and :func:`decide` writes a
``DECIDED_NOTICE`` to the requester of a kind that names one (:class:`TellsRequester`), and
to others it names (:class:`TellsOthers`, with their role). Both carry only the queue and
the request's id, and numbers as of the decision that could not be read again (a balance
after crediting, :class:`RemembersForNotice`): the bot renders them from the request as it
is when sent (a card decided meanwhile is not sent at all), reading again what must never
be copied into a row (a replacement code, decrypted from the codes table by its id,
:class:`ReadsAgainForNotice`).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, outbox
from core.catalogue import admin_user_ids
from core.clock import Clock, as_utc
from core.db import Database
from core.errors import InvalidInput, NotFound
from core.models import User
from core.rights import require_admin

MAX_REASON = 1_000
REQUEST_NOTICE = "approval_request"  # outbox kind: a waiting request's card, to each admin
DECIDED_NOTICE = "approval_decided"  # outbox kind: the decision, to whoever asked


class Outcome(enum.StrEnum):
    """The decided statuses of the queues (their values are the same words)."""

    APPROVED = "approved"
    REJECTED = "rejected"
    REPLACED = "replaced"
    REFUNDED = "refunded"
    PAID = "paid"


_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    admin_telegram_id: int
    admin_username: str | None
    admin_name: str
    at: datetime  # UTC
    reason: str = ""

    @property
    def approved(self) -> bool:
        return self.outcome is not Outcome.REJECTED


async def load_verdict(
    session: AsyncSession,
    status: enum.StrEnum,
    decided_by: int | None,
    decided_at: datetime | None,
    reason: str = "",
) -> Verdict | None:
    """The verdict of a request, or None while it waits (or ended otherwise: superseded)."""
    if decided_by is None or decided_at is None or status.value not in _OUTCOMES:
        return None
    admin = (
        await session.execute(
            select(User.username, User.display_name).where(User.telegram_id == decided_by)
        )
    ).first()
    return Verdict(
        outcome=Outcome(status.value),
        admin_telegram_id=decided_by,
        admin_username=admin.username if admin else None,
        admin_name=admin.display_name if admin else "",
        at=as_utc(decided_at),
        reason=reason,
    )


class Request(Protocol):
    """What every kind's request row has. Read-only here so that a mapped class matches;
    :func:`decide` also sets ``decided_by`` and ``decided_at``."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> enum.StrEnum: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def decided_by(self) -> int | None: ...
    @property
    def decided_at(self) -> datetime | None: ...


class Reason(enum.Enum):
    """What a rejection carries: nothing, a reason the admin is asked for, or a reason
    without which the rejection is refused."""

    NONE = "none"
    ASKED = "asked"
    REQUIRED = "required"


@dataclass(frozen=True)
class Choice:
    approve: bool
    reason: str = ""
    option: str = ""  # for a kind approved in more than one way (a bad code: replace, refund)


@dataclass(frozen=True)
class Deciding:
    """What a kind's ``approve`` / ``reject`` is told."""

    admin: User
    now: datetime
    reason: str
    option: str

    @property
    def actor(self) -> str:
        return f"admin:{self.admin.telegram_id}"


E = TypeVar("E")  # what approving or rejecting produced (a ledger posting, a new code ...)
S = TypeVar("S", bound=Request)
R = TypeVar("R", covariant=True)


@dataclass(frozen=True)
class Applied(Generic[E]):
    """A kind's decision applied: its outcome, the audit record, and what it produced."""

    outcome: Outcome
    audit_action: str
    audit_subject: str
    audit_payload: Mapping[str, object]
    effect: E


class Decided(Protocol):
    """What every kind's result says (a front renders the card from it)."""

    @property
    def already_decided(self) -> bool: ...
    @property
    def verdict(self) -> Verdict | None: ...


class ApprovalKind(Protocol[S, E, R]):
    """One queue: its table, what approving and rejecting do, and the result it returns."""

    @property
    def name(self) -> str:
        """The queue's name: the admin panel's counter, the bot's callback data."""

    @property
    def model(self) -> type[S]: ...
    @property
    def waiting(self) -> enum.StrEnum:
        """The status of a request that waits for a decision."""

    @property
    def not_found(self) -> str:
        """NotFound's kind for a missing request."""

    @property
    def action(self) -> str:
        """What Forbidden names when a non-admin tries."""

    @property
    def reason(self) -> Reason: ...

    def reason_of(self, request: S) -> str: ...

    async def approve(
        self, session: AsyncSession, request: S, deciding: Deciding
    ) -> Applied[E]: ...

    async def reject(self, session: AsyncSession, request: S, deciding: Deciding) -> Applied[E]: ...

    async def result(
        self,
        session: AsyncSession,
        request: S,
        effect: E | None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> R: ...


@runtime_checkable
class TellsRequester(Protocol):
    """A kind whose decision is told to whoever asked through the outbox."""

    async def requester(self, session: AsyncSession, request: Any) -> int:
        """The ``users.id`` to tell."""


REQUESTER = "requester"  # whom a DECIDED_NOTICE is to, unless its payload's ``to`` says


@runtime_checkable
class TellsOthers(Protocol):
    """A kind whose decision is also told to others than whoever asked (a bad code's
    supplier), each as a role its bot kind renders."""

    async def others(self, session: AsyncSession, request: Any) -> Mapping[str, int]:
        """``users.id`` by role (never ``REQUESTER``)."""


@runtime_checkable
class RemembersForNotice(Protocol):
    """A kind whose notice shows numbers as of the decision (a balance after crediting),
    which a later read could not give back. Numbers only: the row is not a place for
    secrets (a replacement code is read again when sent, see :class:`ReadsAgainForNotice`)."""

    def as_decided(self, effect: Any) -> Mapping[str, int]:
        """What the requester's notice stores from the decision's effect."""


@runtime_checkable
class ReadsAgainForNotice(Protocol):
    """A kind whose notice to the requester shows the decision's effect: ``told`` gets it
    from the stored numbers and, for what must not be stored, from the database."""

    async def effect_for_notice(
        self, session: AsyncSession, request: Any, stored: Mapping[str, object]
    ) -> Any:
        """The effect as ``result`` takes it, for the requester's notice."""


#: a requester's ``DECIDED_NOTICE`` that hands over a code (a bad code's replacement): 1
#: in its payload. A plain flag, never the code; the sender sends such a row as urgently
#: as a purchase's codes, since the buyer is waiting on it as on an order.
CARRIES_CODE = "carries_code"


def _notice(queue: str, request_id: int, **more: object) -> dict[str, object]:
    return {"queue": queue, "request": request_id, **more}


async def ask_admins(session: AsyncSession, queue: str, request_id: int, now: datetime) -> int:
    """Promise every admin the card of a new request (in the filing transaction); returns
    how many admins there are to decide it."""
    admins = await admin_user_ids(session)
    for user_id in admins:
        await outbox.enqueue(
            session,
            kind=REQUEST_NOTICE,
            user_id=user_id,
            payload=_notice(queue, request_id),
            now=now,
        )
    return len(admins)


async def decide(
    db: Database,
    clock: Clock,
    kind: ApprovalKind[S, E, R],
    request_id: int,
    *,
    admin_telegram_id: int,
    choice: Choice,
) -> R:
    """Decide one request: the first decision wins, a later one gets the first's verdict."""
    reason = choice.reason.strip()[:MAX_REASON]
    if not choice.approve and kind.reason is Reason.REQUIRED and not reason:
        raise InvalidInput(field="reason", value="")
    now = clock.now()
    async with db.transaction() as session:
        admin = await require_admin(session, admin_telegram_id, kind.action)
        # the row lock makes a concurrent second decision wait, then see the first
        request = await session.get(kind.model, request_id, with_for_update=True)
        if request is None:
            raise NotFound(kind=kind.not_found, ref=str(request_id))
        if request.status != kind.waiting:
            verdict = await verdict_of(session, kind, request)
            return await kind.result(session, request, None, verdict, True)
        deciding = Deciding(admin, now, reason, choice.option)
        if choice.approve:
            applied = await kind.approve(session, request, deciding)
        else:
            applied = await kind.reject(session, request, deciding)
        stamped: Any = request  # every kind's row has these columns (``Request``)
        stamped.decided_by = admin_telegram_id
        stamped.decided_at = now
        await audit.append(
            session,
            action=applied.audit_action,
            actor=deciding.actor,
            subject=applied.audit_subject,
            payload=dict(applied.audit_payload),
            now=now,
        )
        await _tell_decision(session, kind, request, applied.effect, now)
        await session.flush()
        verdict = Verdict(
            applied.outcome,
            admin.telegram_id,
            admin.username,
            admin.display_name,
            now,
            kind.reason_of(request),  # as the kind stored it
        )
        return await kind.result(session, request, applied.effect, verdict, False)


async def _tell_decision(
    session: AsyncSession, kind: ApprovalKind[S, E, R], request: S, effect: E, now: datetime
) -> None:
    """Promise the decision's notices, in the deciding transaction."""
    if isinstance(kind, TellsRequester):
        facts = kind.as_decided(effect) if isinstance(kind, RemembersForNotice) else {}
        await outbox.enqueue(
            session,
            kind=DECIDED_NOTICE,
            user_id=await kind.requester(session, request),
            payload=_notice(kind.name, request.id, **facts),
            now=now,
        )
    if isinstance(kind, TellsOthers):
        for role, user_id in (await kind.others(session, request)).items():
            await outbox.enqueue(
                session,
                kind=DECIDED_NOTICE,
                user_id=user_id,
                payload=_notice(kind.name, request.id, to=role),
                now=now,
            )


async def verdict_of(
    session: AsyncSession, kind: ApprovalKind[S, Any, Any], request: S
) -> Verdict | None:
    return await load_verdict(
        session, request.status, request.decided_by, request.decided_at, kind.reason_of(request)
    )


# --- the queue ----------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    kind: str
    request_id: int
    created_at: datetime


@dataclass(frozen=True)
class Queue:
    counts: dict[str, int]  # every kind, in the registry's order (0 when none waits)
    oldest: list[Waiting] = field(default_factory=list)  # across kinds, oldest first


@runtime_checkable
class CountsItsOwn(Protocol):
    """A kind whose panel counter is not its waiting requests (SKU reviews count the SKUs
    waiting for review, also one an admin sent back to review by hand)."""

    async def count_waiting(self, session: AsyncSession) -> int: ...


async def count_waiting(session: AsyncSession, kind: ApprovalKind[Any, Any, Any]) -> int:
    if isinstance(kind, CountsItsOwn):
        return await kind.count_waiting(session)
    statement = (
        select(func.count()).select_from(kind.model).where(kind.model.status == kind.waiting)
    )
    return int(await session.scalar(statement) or 0)


async def waiting_requests(
    session: AsyncSession, kinds: Sequence[ApprovalKind[Any, Any, Any]], limit: int
) -> list[Waiting]:
    found: list[Waiting] = []
    for kind in kinds:
        model: Any = kind.model
        rows = await session.execute(
            select(model.id, model.created_at)
            .where(model.status == kind.waiting)
            .order_by(model.id)
            .limit(limit)
        )
        found += [Waiting(kind.name, int(i), as_utc(at)) for i, at in rows]
    found.sort(key=lambda waiting: (waiting.created_at, waiting.kind, waiting.request_id))
    return found[:limit]


class Approvals:
    """The admins' queue over every registered kind, and deciding any of its requests."""

    def __init__(
        self, db: Database, clock: Clock, kinds: Sequence[ApprovalKind[Any, Any, Any]]
    ) -> None:
        self._db = db
        self._clock = clock
        self.kinds = {kind.name: kind for kind in kinds}

    async def decide(
        self,
        kind: ApprovalKind[S, E, R],
        request_id: int,
        *,
        admin_telegram_id: int,
        choice: Choice,
    ) -> R:
        return await decide(
            self._db,
            self._clock,
            kind,
            request_id,
            admin_telegram_id=admin_telegram_id,
            choice=choice,
        )

    async def look(
        self, kind: ApprovalKind[S, E, R], request_id: int, *, admin_telegram_id: int
    ) -> R:
        """A request as an admin about to decide it sees it: ``already_decided`` (with the
        verdict) once someone has."""
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id, kind.action)
            request = await session.get(kind.model, request_id)
            if request is None:
                raise NotFound(kind=kind.not_found, ref=str(request_id))
            verdict = await verdict_of(session, kind, request)
            return await kind.result(
                session, request, None, verdict, request.status != kind.waiting
            )

    async def told(
        self,
        kind: ApprovalKind[S, E, R],
        request_id: int,
        stored: Mapping[str, object] | None = None,
    ) -> R:
        """A request as its notices render it (no admin check: the outbox sender reads it
        for whoever the notice is to). ``stored``: the notice's payload; the requester's
        notice also gets the decision's effect (:class:`ReadsAgainForNotice`)."""
        stored = stored or {}
        async with self._db.reading() as session:
            request = await session.get(kind.model, request_id)
            if request is None:
                raise NotFound(kind=kind.not_found, ref=str(request_id))
            verdict = await verdict_of(session, kind, request)
            effect = None
            to_requester = stored.get("to", REQUESTER) == REQUESTER
            if to_requester and isinstance(kind, ReadsAgainForNotice):
                effect = await kind.effect_for_notice(session, request, stored)
            return await kind.result(
                session, request, effect, verdict, request.status != kind.waiting
            )

    async def waiting(
        self, kind: ApprovalKind[S, E, R], *, admin_telegram_id: int, limit: int = 20
    ) -> list[R]:
        """The oldest requests of one kind still waiting for a decision."""
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id, kind.action)
            model: Any = kind.model
            requests = await session.scalars(
                select(model).where(model.status == kind.waiting).order_by(model.id).limit(limit)
            )
            return [await kind.result(session, r, None, None, False) for r in requests]

    async def queue(self, admin_telegram_id: int, *, limit: int = 50) -> Queue:
        """How many requests of each kind wait, and the oldest of them across kinds."""
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id, "admin.panel")
            kinds = list(self.kinds.values())
            counts = {kind.name: await count_waiting(session, kind) for kind in kinds}
            oldest = await waiting_requests(session, kinds, limit) if limit else []
            return Queue(counts, oldest)

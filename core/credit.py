"""Credit lines (账期垫资): grant, freeze, the statement, the suggested limit, and the daily
job that posts interest and reminds.

Where the money goes (``core/ledger.py``, each a ``post`` with a UNIQUE key):

- the line is the floor: ``users.credit_limit`` (``reseller_floor``) lets the balance go
  down to −limit; a purchase past the due date or on a frozen line may not end below zero
  (``core/decisions/sale.py`` with ``usable_limit``, refused as ``CreditBlocked``);
- interest: each whole day, ``daily_interest`` of the principal drawn at the end of that day
  (the balance's entries before local midnight), posted as ``credit_interest``
  ``reseller_interest`` −i / ``platform_interest`` +i under the key
  ``credit_interest:<user id>:<day>`` — once per reseller and day however often or late
  the job runs; missed days are caught up, oldest first;
- a top-up repays the interest owed first, then the balance (``allocate_repayment``, in
  ``core/balances.py`` ``move_reseller_balance``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit, outbox
from core.approvals import (
    Applied,
    Choice,
    Deciding,
    Outcome,
    Reason,
    Verdict,
    ask_admins,
    decide,
)
from core.catalogue import load_user
from core.clock import Clock, as_utc
from core.db import Database
from core.decisions.credit import (
    HISTORY_DAYS,
    History,
    Suggestion,
    daily_interest,
    days_to_accrue,
    due_on,
    overdue,
    suggest_limit,
)
from core.errors import InvalidAmount, InvalidInput, InvalidState, NotFound
from core.jobs import JobContext, NewJob, add_jobs
from core.ledger import Posting, find_transaction, open_account, platform, post
from core.models import (
    Account,
    AccountKind,
    CreditApplication,
    CreditApplicationStatus,
    CreditLine,
    LedgerEntry,
    LedgerTransaction,
    Order,
    ScheduledJob,
    User,
)
from core.rights import require_admin

CREDIT_DAILY = "credit.daily"  # the job: interest for the days past, then reminders
CREDIT_OVERDUE = "credit_overdue"  # outbox: to the reseller
CREDIT_OVERDUE_ADMIN = "credit_overdue_admin"  # outbox: to each admin
INTEREST_KIND = "credit_interest"
# what moves a reseller's accounts without being money he paid in (top-ups, vouchers and
# payments are; an operator's correction is not)
NOT_REPAYMENTS = ("purchase", "refund", INTEREST_KIND, "adjustment")
MAX_RATE_BPS = 1_000  # 10% a day: a typo guard
MAX_TERM_DAYS = 365
DAILY_AT = time(0, 10)  # local time the daily job runs


@dataclass(frozen=True)
class CreditStatement:
    telegram_id: int
    limit: int
    rate_bps: int
    term_days: int
    starts_on: date
    due_on: date
    frozen: bool
    overdue: bool
    balance: int  # the principal account
    drawn: int  # principal below zero
    interest_owed: int
    interest_total: int  # all interest posted
    repaid: int  # money paid in this term (since the last grant): interest and principal
    accrued_through: date | None

    @property
    def owed(self) -> int:
        return self.drawn + self.interest_owed


@dataclass(frozen=True)
class DailyRun:
    posted: int  # interest transactions written
    interest: int  # their sum
    reminded: int  # resellers reminded


def local_day(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def day_end(day: date, tz: ZoneInfo) -> datetime:
    """The instant the local ``day`` ends (its next midnight), in UTC terms."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=tz)


async def _sum(session: AsyncSession, *where: object) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(Account, Account.id == LedgerEntry.account_id)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(*where)  # type: ignore[arg-type]
    )
    return int(total or 0)


async def interest_owed(session: AsyncSession, user_id: int) -> int:
    balance = await session.scalar(
        select(Account.balance).where(
            Account.kind == AccountKind.RESELLER_INTEREST, Account.owner_id == user_id
        )
    )
    return -int(balance or 0)


async def _line_of(session: AsyncSession, user: User) -> CreditLine:
    line = await session.scalar(select(CreditLine).where(CreditLine.user_id == user.id))
    if line is None:
        raise NotFound(kind="credit_line", ref=str(user.telegram_id))
    return line


class CreditLines:
    def __init__(self, db: Database, clock: Clock, timezone: str) -> None:
        self._db = db
        self._clock = clock
        self._tz = ZoneInfo(timezone)
        self.kind = CreditApplicationKind(timezone)

    # -- admin -------------------------------------------------------------------------

    async def grant(
        self,
        admin_telegram_id: int | None,
        telegram_id: int,
        *,
        limit: int,
        rate_bps: int,
        term_days: int,
    ) -> CreditStatement:
        """Grant (or change) a reseller's line; the term starts today. Audited."""
        async with self._db.transaction() as session:
            if admin_telegram_id is not None:  # None: the operator (CLI)
                await require_admin(session, admin_telegram_id, "credit.grant")
            user = await load_user(session, telegram_id)
            await grant_line(
                session,
                user,
                limit=limit,
                rate_bps=rate_bps,
                term_days=term_days,
                admin_telegram_id=admin_telegram_id,
                now=self._clock.now(),
                tz=self._tz,
            )
            return await self._statement(session, user)

    async def freeze(
        self, admin_telegram_id: int | None, telegram_id: int, *, frozen: bool = True
    ) -> CreditStatement:
        """A frozen line may not be drawn further (interest still accrues). Audited."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            if admin_telegram_id is not None:
                await require_admin(session, admin_telegram_id, "credit.freeze")
            user = await load_user(session, telegram_id)
            line = await _line_of(session, user)
            line.frozen = frozen
            await session.flush()
            await audit.append(
                session,
                action="credit.frozen" if frozen else "credit.unfrozen",
                actor=_actor(admin_telegram_id),
                subject=f"user:{telegram_id}",
                payload={},
                now=now,
            )
            return await self._statement(session, user)

    # -- reading -----------------------------------------------------------------------

    async def statement(self, telegram_id: int) -> CreditStatement:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            return await self._statement(session, user)

    async def _statement(self, session: AsyncSession, user: User) -> CreditStatement:
        line = await _line_of(session, user)
        balance = await session.scalar(
            select(Account.balance).where(
                Account.kind == AccountKind.RESELLER_BALANCE, Account.owner_id == user.id
            )
        )
        balance = int(balance or 0)
        mine = Account.owner_id == user.id
        interest_total = -await _sum(
            session,
            mine,
            Account.kind == AccountKind.RESELLER_INTEREST,
            LedgerTransaction.kind == INTEREST_KIND,
        )
        repaid = await _sum(
            session,
            mine,
            Account.kind.in_([AccountKind.RESELLER_BALANCE, AccountKind.RESELLER_INTEREST]),
            LedgerTransaction.kind.not_in(NOT_REPAYMENTS),
            LedgerEntry.amount > 0,
            LedgerTransaction.created_at >= line.granted_at,
        )
        today = local_day(self._clock.now(), self._tz)
        return CreditStatement(
            telegram_id=user.telegram_id,
            limit=line.limit_amount,
            rate_bps=line.rate_bps,
            term_days=line.term_days,
            starts_on=line.starts_on,
            due_on=line.due_on,
            frozen=line.frozen,
            overdue=overdue(line.due_on, today),
            balance=balance,
            drawn=max(0, -balance),
            interest_owed=await interest_owed(session, user.id),
            interest_total=interest_total,
            repaid=repaid,
            accrued_through=line.accrued_through,
        )

    async def mine(self, telegram_id: int) -> CreditStatement | Suggestion:
        """What a reseller sees: his line's statement, or the limit his history suggests."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            if await session.scalar(select(CreditLine.id).where(CreditLine.user_id == user.id)):
                return await self._statement(session, user)
            return suggest_limit(await self._history(session, user))

    async def review(
        self, admin_telegram_id: int, telegram_id: int
    ) -> tuple[CreditStatement | None, Suggestion]:
        """What an admin sees of a reseller: the line (if any) and what his history suggests."""
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id, "credit.review")
            user = await load_user(session, telegram_id)
            line = None
            if await session.scalar(select(CreditLine.id).where(CreditLine.user_id == user.id)):
                line = await self._statement(session, user)
            return line, suggest_limit(await self._history(session, user))

    async def suggest(self, telegram_id: int) -> Suggestion:
        """The limit the reseller's own last 90 days suggest, with the figures used."""
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            return suggest_limit(await self._history(session, user))

    async def _history(self, session: AsyncSession, user: User) -> History:
        since = self._clock.now() - timedelta(days=HISTORY_DAYS)
        mine = (
            Account.owner_id == user.id,
            Account.kind == AccountKind.RESELLER_BALANCE,
            LedgerTransaction.created_at >= since,
        )
        spent = -await _sum(session, *mine, LedgerTransaction.kind == "purchase")
        refunds = await _sum(session, *mine, LedgerTransaction.kind == "refund")
        top_ups = await session.execute(
            select(func.count(), func.coalesce(func.sum(LedgerEntry.amount), 0))
            .select_from(LedgerEntry)
            .join(Account, Account.id == LedgerEntry.account_id)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(*mine, LedgerTransaction.kind == "top_up")
        )
        count, total = top_ups.one()
        orders = await session.scalars(
            select(Order.created_at).where(Order.user_id == user.id, Order.created_at >= since)
        )
        days = {local_day(as_utc(at), self._tz) for at in orders}
        start = local_day(since, self._tz)
        weeks = {(d - start).days // 7 for d in days}
        return History(
            spend_90d=max(0, spent - refunds),
            refunds_90d=refunds,
            active_days=len(days),
            weeks_active=len({w for w in weeks if 0 <= w < 13}),
            top_ups=int(count),
            top_up_total=int(total or 0),
        )

    # -- applying ------------------------------------------------------------------------

    async def apply(self, telegram_id: int, *, note: str = "") -> ApplicationView:
        """A reseller asks for the line his history suggests (default rate and term); the
        one already waiting is returned instead of a second (a double tap). Every admin is
        promised its card (the outbox)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            waiting = await session.scalar(
                select(CreditApplication).where(
                    CreditApplication.user_id == user.id,
                    CreditApplication.status == CreditApplicationStatus.PENDING,
                )
            )
            if waiting is not None:
                return _application_view(waiting, user, created=False)
            suggestion = suggest_limit(await self._history(session, user))
            if suggestion.limit <= 0:
                raise InvalidState(kind="credit_application", state="no_history")
            request = CreditApplication(
                user_id=user.id,
                limit_amount=suggestion.limit,
                rate_bps=DEFAULT_RATE_BPS,
                term_days=DEFAULT_TERM_DAYS,
                note=note[:1000],
                status=CreditApplicationStatus.PENDING,
                reason="",
                created_at=now,
            )
            session.add(request)
            await session.flush()
            await ask_admins(session, CREDIT_QUEUE, request.id, now)
            return _application_view(request, user)

    async def decide(
        self, request_id: int, *, admin_telegram_id: int, approve: bool, reason: str = ""
    ) -> ApplicationDecision:
        """First decision wins; approving grants the line on the asked terms."""
        return await decide(
            self._db,
            self._clock,
            self.kind,
            request_id,
            admin_telegram_id=admin_telegram_id,
            choice=Choice(approve, reason),
        )

    # -- the daily job -------------------------------------------------------------------

    async def schedule_daily(self) -> None:
        """Make sure the next daily run is scheduled (at start-up, and by each run)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            await self._schedule_after(session, now)

    async def _schedule_after(self, session: AsyncSession, now: datetime) -> None:
        today = local_day(now, self._tz)
        run_at = datetime.combine(today, DAILY_AT, tzinfo=self._tz)
        if run_at <= now:
            run_at = datetime.combine(today + timedelta(days=1), DAILY_AT, tzinfo=self._tz)
        key = f"{CREDIT_DAILY}:{run_at.date().isoformat()}"
        if await session.scalar(select(ScheduledJob.id).where(ScheduledJob.key == key)) is None:
            add_jobs(session, [NewJob(key=key, kind=CREDIT_DAILY, run_at=run_at)], now)

    async def daily_job(self, context: JobContext) -> None:
        """The job's handler: ``run_daily``, then the next run scheduled."""
        await self.run_daily()

    async def run_daily(self) -> DailyRun:
        """Interest for every whole day not posted yet (each line in its own transaction),
        then a reminder to each overdue reseller who owes, and to the admins, once a day."""
        now = self._clock.now()
        today = local_day(now, self._tz)
        async with self._db.reading() as session:
            user_ids = list(await session.scalars(select(CreditLine.user_id).order_by("id")))
        posted = interest = reminded = 0
        for user_id in user_ids:
            async with self._db.transaction() as session:
                line = await session.scalar(
                    select(CreditLine).where(CreditLine.user_id == user_id).with_for_update()
                )
                assert line is not None
                n, amount = await self._accrue(session, line, today, now)
                posted += n
                interest += amount
                reminded += await self._remind(session, line, today, now)
        async with self._db.transaction() as session:
            await self._schedule_after(session, now)
        return DailyRun(posted, interest, reminded)

    async def _accrue(
        self, session: AsyncSession, line: CreditLine, today: date, now: datetime
    ) -> tuple[int, int]:
        posted = total = 0
        await open_account(session, AccountKind.RESELLER_INTEREST, line.user_id)
        for day in days_to_accrue(line.starts_on, line.accrued_through, today):
            balance = await _sum(
                session,
                Account.owner_id == line.user_id,
                Account.kind == AccountKind.RESELLER_BALANCE,
                LedgerTransaction.created_at < day_end(day, self._tz),
            )
            drawn = max(0, -balance)
            amount = daily_interest(drawn, line.rate_bps)
            key = f"{INTEREST_KIND}:{line.user_id}:{day.isoformat()}"
            if amount and await find_transaction(session, key) is None:
                await post(
                    session,
                    key=key,
                    kind=INTEREST_KIND,
                    now=now,
                    memo=f"{day.isoformat()}: {line.rate_bps} bps of {drawn}",
                    postings=[
                        Posting(AccountKind.RESELLER_INTEREST, line.user_id, -amount),
                        platform(AccountKind.PLATFORM_INTEREST, amount),
                    ],
                )
                posted += 1
                total += amount
            line.accrued_through = day
        await session.flush()
        return posted, total

    async def _remind(
        self, session: AsyncSession, line: CreditLine, today: date, now: datetime
    ) -> int:
        if not overdue(line.due_on, today) or line.reminded_on == today:
            return 0
        user = await session.get(User, line.user_id)
        assert user is not None
        balance = await session.scalar(
            select(Account.balance).where(
                Account.kind == AccountKind.RESELLER_BALANCE, Account.owner_id == user.id
            )
        )
        owed = max(0, -int(balance or 0)) + await interest_owed(session, user.id)
        if owed <= 0:
            return 0
        payload = {
            "telegram_id": user.telegram_id,
            "name": user.display_name or str(user.telegram_id),
            "owed": owed,
            "due_on": line.due_on.isoformat(),
            "frozen": line.frozen,
        }
        await outbox.enqueue(
            session, kind=CREDIT_OVERDUE, user_id=user.id, payload=payload, now=now
        )
        admins = await session.scalars(select(User.id).where(User.is_admin.is_(True)))
        for admin_id in admins:
            await outbox.enqueue(
                session, kind=CREDIT_OVERDUE_ADMIN, user_id=admin_id, payload=payload, now=now
            )
        line.reminded_on = today
        await session.flush()
        return 1


def _actor(admin_telegram_id: int | None) -> str:
    return "operator:cli" if admin_telegram_id is None else f"admin:{admin_telegram_id}"


async def grant_line(
    session: AsyncSession,
    user: User,
    *,
    limit: int,
    rate_bps: int,
    term_days: int,
    admin_telegram_id: int | None,
    now: datetime,
    tz: ZoneInfo,
) -> CreditLine:
    """Set a reseller's line (the floor and its terms) inside the caller's transaction;
    the term runs from today; interest starts on the first grant's day. Audited."""
    if not 0 <= limit <= 10_000_000_00:
        raise InvalidAmount(amount=limit)
    if not 0 <= rate_bps <= MAX_RATE_BPS:
        raise InvalidInput(field="rate_bps")
    if not 0 < term_days <= MAX_TERM_DAYS:
        raise InvalidInput(field="term_days")
    today = local_day(now, tz)
    await open_account(session, AccountKind.RESELLER_INTEREST, user.id)
    line = await session.scalar(select(CreditLine).where(CreditLine.user_id == user.id))
    if line is None:
        line = CreditLine(user_id=user.id, starts_on=today, frozen=False)
        session.add(line)
    line.limit_amount = limit
    line.rate_bps = rate_bps
    line.term_days = term_days
    line.granted_at = now
    line.granted_by = admin_telegram_id or 0
    line.due_on = due_on(today, term_days)
    line.due_at = day_end(line.due_on, tz)
    line.frozen = False
    user.credit_limit = limit
    await session.flush()
    await audit.append(
        session,
        action="credit.granted",
        actor=_actor(admin_telegram_id),
        subject=f"user:{user.telegram_id}",
        payload={"limit": limit, "rate_bps": rate_bps, "term_days": term_days},
        now=now,
    )
    return line


# -- applications: the approval queue ----------------------------------------------------

DEFAULT_RATE_BPS = 5  # 0.05% a day, what an application asks for unless the admin changes it
DEFAULT_TERM_DAYS = 30


@dataclass(frozen=True)
class ApplicationView:
    id: int
    telegram_id: int
    username: str | None
    limit: int
    rate_bps: int
    term_days: int
    note: str
    status: CreditApplicationStatus
    reason: str
    created: bool = True  # False: the one already waiting was returned (a second tap)


@dataclass(frozen=True)
class LineTerms:
    limit: int
    rate_bps: int
    term_days: int
    due_on: date


@dataclass(frozen=True)
class ApplicationDecision:
    request: ApplicationView
    line: LineTerms | None  # the line granted, when approved
    already_decided: bool
    verdict: Verdict | None = None


def _application_view(
    request: CreditApplication, user: User, *, created: bool = True
) -> ApplicationView:
    return ApplicationView(
        request.id,
        user.telegram_id,
        user.username,
        request.limit_amount,
        request.rate_bps,
        request.term_days,
        request.note,
        request.status,
        request.reason,
        created,
    )


CREDIT_QUEUE = "credit"


class CreditApplicationKind:
    """A reseller asks for a line; approving grants it on the asked terms (the limit his
    history suggested), rejecting may carry a reason."""

    name = CREDIT_QUEUE
    model = CreditApplication
    waiting = CreditApplicationStatus.PENDING
    not_found = "credit_application"
    action = "credit.decide"
    reason = Reason.ASKED

    def __init__(self, timezone: str) -> None:
        self._tz = ZoneInfo(timezone)

    def reason_of(self, request: CreditApplication) -> str:
        return request.reason

    async def requester(self, session: AsyncSession, request: CreditApplication) -> int:
        return request.user_id

    def as_decided(self, effect: LineTerms | None) -> Mapping[str, int]:
        # the terms as granted: an admin may change the line before the notice goes out,
        # and the reseller must read what this decision gave him, not the later terms
        if effect is None:
            return {}
        due = effect.due_on
        return {
            "limit": effect.limit,
            "rate_bps": effect.rate_bps,
            "term_days": effect.term_days,
            "due_on": due.year * 10_000 + due.month * 100 + due.day,  # 20270104
        }

    async def effect_for_notice(
        self, session: AsyncSession, request: CreditApplication, stored: Mapping[str, object]
    ) -> LineTerms | None:
        """The granted terms as the decision stored them (a row from before they were
        stored: None, and ``result`` reads the line as it is)."""
        keys = ("limit", "rate_bps", "term_days", "due_on")
        if request.status is not CreditApplicationStatus.APPROVED or not all(
            k in stored for k in keys
        ):
            return None
        limit, rate_bps, term_days, due = (int(str(stored[k])) for k in keys)
        return LineTerms(
            limit, rate_bps, term_days, date(due // 10_000, due // 100 % 100, due % 100)
        )

    async def approve(
        self, session: AsyncSession, request: CreditApplication, deciding: Deciding
    ) -> Applied[LineTerms | None]:
        user = await session.get(User, request.user_id)
        assert user is not None
        line = await grant_line(
            session,
            user,
            limit=request.limit_amount,
            rate_bps=request.rate_bps,
            term_days=request.term_days,
            admin_telegram_id=deciding.admin.telegram_id,
            now=deciding.now,
            tz=self._tz,
        )
        terms = LineTerms(line.limit_amount, line.rate_bps, line.term_days, line.due_on)
        return self._applied(request, deciding, CreditApplicationStatus.APPROVED, terms)

    async def reject(
        self, session: AsyncSession, request: CreditApplication, deciding: Deciding
    ) -> Applied[LineTerms | None]:
        return self._applied(request, deciding, CreditApplicationStatus.REJECTED, None)

    def _applied(
        self,
        request: CreditApplication,
        deciding: Deciding,
        status: CreditApplicationStatus,
        terms: LineTerms | None,
    ) -> Applied[LineTerms | None]:
        request.status = status
        request.reason = deciding.reason
        return Applied(
            Outcome(status.value),
            f"credit.application.{status.value}",
            f"credit_application:{request.id}",
            {"limit": request.limit_amount, "reason": deciding.reason},
            terms,
        )

    async def result(
        self,
        session: AsyncSession,
        request: CreditApplication,
        effect: LineTerms | None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> ApplicationDecision:
        """``effect``: the terms as granted (deciding now, or a notice's stored terms);
        without it (an admin looking) the line as it is now."""
        user = await session.get(User, request.user_id)
        assert user is not None
        terms = effect
        line = await session.scalar(select(CreditLine).where(CreditLine.user_id == user.id))
        if terms is None and request.status is CreditApplicationStatus.APPROVED and line:
            terms = LineTerms(line.limit_amount, line.rate_bps, line.term_days, line.due_on)
        return ApplicationDecision(
            _application_view(request, user), terms, already_decided, verdict
        )

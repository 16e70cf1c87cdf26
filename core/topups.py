"""Top-up requests: a reseller reports a payment, an admin approves (credit once) or rejects."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.approvals import Verdict, load_verdict
from core.balances import MAX_SINGLE_AMOUNT, Posted, move_reseller_balance
from core.catalogue import load_user
from core.clock import Clock
from core.db import Database
from core.errors import InvalidAmount, NotFound
from core.models import TopUpRequest, TopUpStatus, User
from core.rights import require_admin


@dataclass(frozen=True)
class TopUpView:
    id: int
    telegram_id: int
    username: str | None
    amount: int
    note: str
    receipt_file_id: str | None
    status: TopUpStatus
    reason: str


@dataclass(frozen=True)
class Decision:
    request: TopUpView
    posted: Posted | None  # the credit, when approved
    already_decided: bool  # a second admin (or a double tap) came too late: nothing changed
    verdict: Verdict | None = None  # who decided, when (also for a late second admin)


async def _verdict(session: AsyncSession, request: TopUpRequest) -> Verdict | None:
    return await load_verdict(
        session, request.status, request.decided_by, request.decided_at, request.reason
    )


def _view(request: TopUpRequest, user: User) -> TopUpView:
    return TopUpView(
        request.id,
        user.telegram_id,
        user.username,
        request.amount,
        request.note,
        request.receipt_file_id,
        request.status,
        request.reason,
    )


class TopUps:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def request(
        self, telegram_id: int, amount: int, *, note: str = "", receipt_file_id: str | None = None
    ) -> TopUpView:
        if not 0 < amount <= MAX_SINGLE_AMOUNT:
            raise InvalidAmount(amount=amount, max=MAX_SINGLE_AMOUNT)
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            request = TopUpRequest(
                user_id=user.id,
                amount=amount,
                note=note[:1000],
                receipt_file_id=receipt_file_id,
                status=TopUpStatus.PENDING,
                reason="",
                created_at=self._clock.now(),
            )
            session.add(request)
            await session.flush()
            return _view(request, user)

    async def pending(self) -> list[TopUpView]:
        async with self._db.reading() as session:
            rows = await session.execute(
                select(TopUpRequest, User)
                .join(User, User.id == TopUpRequest.user_id)
                .where(TopUpRequest.status == TopUpStatus.PENDING)
                .order_by(TopUpRequest.id)
            )
            return [_view(r, u) for r, u in rows]

    async def decide(
        self, request_id: int, *, admin_telegram_id: int, approve: bool, reason: str = ""
    ) -> Decision:
        """First decision wins; approving credits the balance exactly once."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            await require_admin(session, admin_telegram_id, "topup.decide")
            request = await session.get(TopUpRequest, request_id)
            if request is None:
                raise NotFound(kind="topup", ref=str(request_id))
            user = await session.get(User, request.user_id)
            assert user is not None
            if request.status is not TopUpStatus.PENDING:
                verdict = await _verdict(session, request)
                return Decision(_view(request, user), None, already_decided=True, verdict=verdict)
            request.status = TopUpStatus.APPROVED if approve else TopUpStatus.REJECTED
            request.decided_by = admin_telegram_id
            request.decided_at = now
            request.reason = reason
            posted = None
            if approve:
                posted = await move_reseller_balance(
                    session,
                    user,
                    request.amount,
                    kind="top_up",
                    key=f"top_up:request-{request_id}",
                    note=f"top-up request #{request_id}",
                    actor=f"admin:{admin_telegram_id}",
                    now=now,
                )
            verdict = await _verdict(session, request)
            return Decision(_view(request, user), posted, already_decided=False, verdict=verdict)

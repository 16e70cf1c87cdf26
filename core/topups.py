"""Top-up requests: a reseller reports a payment, an admin approves (credit once) or rejects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

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
from core.balances import Posted, check_amount, move_reseller_balance
from core.catalogue import load_user
from core.clock import Clock
from core.db import Database
from core.ledger import find_transaction
from core.models import TopUpRequest, TopUpStatus, User


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
        """File a top-up request; every admin is promised its card (the outbox)."""
        check_amount(amount)
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            request = TopUpRequest(
                user_id=user.id,
                amount=amount,
                note=note[:1000],
                receipt_file_id=receipt_file_id,
                status=TopUpStatus.PENDING,
                reason="",
                created_at=now,
            )
            session.add(request)
            await session.flush()
            await ask_admins(session, TOPUPS_QUEUE, request.id, now)
            return _view(request, user)

    async def decide(
        self, request_id: int, *, admin_telegram_id: int, approve: bool, reason: str = ""
    ) -> Decision:
        """First decision wins; approving credits the balance exactly once."""
        return await decide(
            self._db,
            self._clock,
            TOPUPS,
            request_id,
            admin_telegram_id=admin_telegram_id,
            choice=Choice(approve, reason),
        )


TOPUPS_QUEUE = "topups"


def _credit_key(request: TopUpRequest) -> str:
    return f"top_up:request-{request.id}"


class TopUpKind:
    """A reseller's reported payment: approving credits it to their balance, once."""

    name = TOPUPS_QUEUE
    model = TopUpRequest
    waiting = TopUpStatus.PENDING
    not_found = "topup"
    action = "topup.decide"
    reason = Reason.NONE

    def reason_of(self, request: TopUpRequest) -> str:
        return request.reason

    async def requester(self, session: AsyncSession, request: TopUpRequest) -> int:
        return request.user_id

    def as_decided(self, effect: Posted | None) -> Mapping[str, int]:
        # the ledger keeps no balance per entry: the notice's "balance ¥Y" is kept here
        return {} if effect is None else {"balance_after": effect.balance_after}

    async def effect_for_notice(
        self, session: AsyncSession, request: TopUpRequest, stored: Mapping[str, object]
    ) -> Posted | None:
        if request.status is not TopUpStatus.APPROVED or "balance_after" not in stored:
            return None
        transaction = await find_transaction(session, _credit_key(request))
        transaction_id = transaction.id if transaction is not None else 0
        return Posted(transaction_id, int(str(stored["balance_after"])), replayed=True)

    async def approve(
        self, session: AsyncSession, request: TopUpRequest, deciding: Deciding
    ) -> Applied[Posted | None]:
        user = await session.get(User, request.user_id)
        assert user is not None
        posted = await move_reseller_balance(
            session,
            user,
            request.amount,
            kind="top_up",
            key=_credit_key(request),
            note=f"top-up request #{request.id}",
            actor=deciding.actor,
            now=deciding.now,
        )
        return self._applied(request, deciding, TopUpStatus.APPROVED, posted)

    async def reject(
        self, session: AsyncSession, request: TopUpRequest, deciding: Deciding
    ) -> Applied[Posted | None]:
        return self._applied(request, deciding, TopUpStatus.REJECTED, None)

    def _applied(
        self, request: TopUpRequest, deciding: Deciding, status: TopUpStatus, posted: Posted | None
    ) -> Applied[Posted | None]:
        request.status = status
        request.reason = deciding.reason
        return Applied(
            Outcome(status.value),
            f"topup.{status.value}",
            f"topup:{request.id}",
            {"amount": request.amount, "reason": deciding.reason},
            posted,
        )

    async def result(
        self,
        session: AsyncSession,
        request: TopUpRequest,
        effect: Posted | None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> Decision:
        user = await session.get(User, request.user_id)
        assert user is not None
        return Decision(_view(request, user), effect, already_decided, verdict)


TOPUPS = TopUpKind()

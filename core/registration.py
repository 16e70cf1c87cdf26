"""Who may use the platform: the registration policy (``KAMENG_REGISTRATION``).

- ``open``: anyone who writes to the bot becomes an active reseller.
- ``approval``: a newcomer is stored ``pending`` and files one registration request; every
  admin may approve or reject it; the first decision wins (the request row is locked).
- ``invite``: a newcomer is stored ``pending`` until they present an unused invite code; a
  code admits exactly one user (a conditional UPDATE claims it).

A pending or rejected user may not quote or buy (``core.decisions.sale.may_buy``); admins
are always in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import audit
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
from core.catalogue import UserView, load_user, user_view
from core.clock import Clock
from core.db import Database
from core.errors import InvalidQuantity, KamengError, NotFound, NotRegistered
from core.models import (
    InviteCode,
    RegistrationRequest,
    RegistrationStatus,
    User,
    UserStatus,
)
from core.rights import is_admin, is_admitted, require_admin
from core.secret_codes import SecretCodes

Policy = Literal["open", "approval", "invite"]
WAITING = frozenset({UserStatus.PENDING, UserStatus.REJECTED})
MAX_INVITES = 20


class InvalidInvite(KamengError):
    """``reason`` is ``unknown`` (no such code) or ``used`` (someone joined with it)."""

    code = "invalid_invite"


@dataclass(frozen=True)
class RegistrationView:
    id: int
    telegram_id: int
    username: str | None
    display_name: str
    language: str
    status: RegistrationStatus


@dataclass(frozen=True)
class Application:
    request: RegistrationView
    filed: bool  # created just now: the admins are told (through the outbox)
    admins: int  # how many admins were asked to decide it (0: none, or filed before)


@dataclass(frozen=True)
class RegistrationDecision:
    request: RegistrationView
    already_decided: bool  # a second admin (or a double tap) came too late: nothing changed
    verdict: Verdict | None = None  # who decided, when (also for a late second admin)


def _view(request: RegistrationRequest, user: User) -> RegistrationView:
    return RegistrationView(
        request.id,
        user.telegram_id,
        user.username,
        user.display_name,
        user.language,
        request.status,
    )


async def _locked_user(session: AsyncSession, telegram_id: int) -> User:
    user = await session.scalar(
        select(User).where(User.telegram_id == telegram_id).with_for_update()
    )
    if user is None:
        raise NotFound(kind="user", ref=str(telegram_id))
    return user


class Registrations:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        secret: str,
        policy: Policy,
        admin_ids: Iterable[int] = (),
    ) -> None:
        self._db = db
        self._clock = clock
        self._invites = SecretCodes(secret, b"invite-code")
        self.policy: Policy = policy
        self._admin_ids = frozenset(admin_ids)

    @property
    def newcomer_status(self) -> UserStatus:
        """The status a user gets on first contact."""
        return UserStatus.ACTIVE if self.policy == "open" else UserStatus.PENDING

    def is_outsider(self, user: UserView) -> bool:
        """Pending or rejected, and not an admin: may only knock at the door."""
        return (
            user.status in WAITING
            and not is_admitted(user.status, is_admin(user))
            and user.telegram_id not in self._admin_ids
        )

    # approval -----------------------------------------------------------------

    async def apply(self, telegram_id: int) -> Application:
        """File this user's registration request, once; later calls return the same one."""
        try:
            return await self._apply(telegram_id)
        except IntegrityError:  # a concurrent update from the same user filed it first
            return await self._apply(telegram_id)

    async def _apply(self, telegram_id: int) -> Application:
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await load_user(session, telegram_id)
            request = await session.scalar(
                select(RegistrationRequest).where(RegistrationRequest.user_id == user.id)
            )
            filed, asked = request is None, 0
            if request is None:
                request = RegistrationRequest(
                    user_id=user.id, status=RegistrationStatus.PENDING, created_at=now
                )
                session.add(request)
                await session.flush()
                await audit.append(
                    session,
                    action="registration.request",
                    actor=f"user:{telegram_id}",
                    subject=f"user:{telegram_id}",
                    payload={"request": request.id},
                    now=now,
                )
                asked = await ask_admins(session, REGISTRATIONS.name, request.id, now)
            return Application(_view(request, user), filed, asked)

    async def decide(
        self, request_id: int, *, admin_telegram_id: int, approve: bool
    ) -> RegistrationDecision:
        """First decision wins: approving makes the user an active reseller."""
        return await decide(
            self._db,
            self._clock,
            REGISTRATIONS,
            request_id,
            admin_telegram_id=admin_telegram_id,
            choice=Choice(approve),
        )

    async def admit(self, telegram_id: int, *, actor: str) -> UserView:
        """Make a pending user active (the policy was switched to ``open``)."""
        now = self._clock.now()
        async with self._db.transaction() as session:
            user = await _locked_user(session, telegram_id)
            if user.status is UserStatus.PENDING:
                user.status = UserStatus.ACTIVE
                await audit.append(
                    session,
                    action="registration.admit",
                    actor=actor,
                    subject=f"user:{telegram_id}",
                    payload={"policy": self.policy},
                    now=now,
                )
            return await user_view(session, user)

    # invites ------------------------------------------------------------------

    async def issue_invites(self, admin_telegram_id: int, count: int = 1) -> list[str]:
        """New one-use invite codes. They are returned once and stored only as digests."""
        if not 1 <= count <= MAX_INVITES:
            raise InvalidQuantity(quantity=count, max=MAX_INVITES)
        now = self._clock.now()
        codes = [self._invites.new() for _ in range(count)]
        async with self._db.transaction() as session:
            await require_admin(session, admin_telegram_id, "invite.issue")
            invites = [
                InviteCode(
                    digest=self._invites.digest(code), created_by=admin_telegram_id, created_at=now
                )
                for code in codes
            ]
            session.add_all(invites)
            await session.flush()
            await audit.append(
                session,
                action="invite.issue",
                actor=f"admin:{admin_telegram_id}",
                subject="invites",
                payload={"count": count, "ids": [invite.id for invite in invites]},
                now=now,
            )
        return codes

    async def join_with_invite(self, telegram_id: int, code: str) -> UserView:
        """Admit a pending user with an unused invite; the code is used up, exactly once."""
        now = self._clock.now()
        digest = self._invites.digest(code)
        async with self._db.transaction() as session:
            user = await _locked_user(session, telegram_id)
            if user.status is UserStatus.ACTIVE:
                return await user_view(session, user)  # already in: the code stays unused
            if user.status is not UserStatus.PENDING:
                raise NotRegistered(status=user.status.value)
            invite_id = await session.scalar(
                update(InviteCode)
                .where(InviteCode.digest == digest, InviteCode.used_by.is_(None))
                .values(used_by=user.id, used_at=now)
                .returning(InviteCode.id)
            )
            if invite_id is None:
                known = await session.scalar(
                    select(InviteCode.id).where(InviteCode.digest == digest)
                )
                raise InvalidInvite(reason="unknown" if known is None else "used")
            user.status = UserStatus.ACTIVE
            await audit.append(
                session,
                action="registration.invite",
                actor=f"user:{telegram_id}",
                subject=f"user:{telegram_id}",
                payload={"invite": int(invite_id)},
                now=now,
            )
            return await user_view(session, user)


class RegistrationKind:
    """A newcomer asking in (policy ``approval``): approving makes them an active reseller,
    rejecting turns them away (a ban stays a ban)."""

    name = "registrations"
    model = RegistrationRequest
    waiting = RegistrationStatus.PENDING
    not_found = "registration"
    action = "registration.decide"
    reason = Reason.NONE

    def reason_of(self, request: RegistrationRequest) -> str:
        return ""

    async def requester(self, session: AsyncSession, request: RegistrationRequest) -> int:
        return request.user_id

    async def approve(
        self, session: AsyncSession, request: RegistrationRequest, deciding: Deciding
    ) -> Applied[None]:
        return await self._apply(session, request, RegistrationStatus.APPROVED)

    async def reject(
        self, session: AsyncSession, request: RegistrationRequest, deciding: Deciding
    ) -> Applied[None]:
        return await self._apply(session, request, RegistrationStatus.REJECTED)

    async def _apply(
        self, session: AsyncSession, request: RegistrationRequest, status: RegistrationStatus
    ) -> Applied[None]:
        user = await session.get(User, request.user_id, with_for_update=True)
        assert user is not None
        request.status = status
        if user.status in WAITING:  # a ban stays a ban
            approved = status is RegistrationStatus.APPROVED
            user.status = UserStatus.ACTIVE if approved else UserStatus.REJECTED
        verb = "approve" if status is RegistrationStatus.APPROVED else "reject"
        return Applied(
            Outcome(status.value),
            f"registration.{verb}",
            f"user:{user.telegram_id}",
            {"request": request.id},
            None,
        )

    async def result(
        self,
        session: AsyncSession,
        request: RegistrationRequest,
        effect: None,
        verdict: Verdict | None,
        already_decided: bool,
    ) -> RegistrationDecision:
        user = await session.get(User, request.user_id)
        assert user is not None
        return RegistrationDecision(_view(request, user), already_decided, verdict)


REGISTRATIONS = RegistrationKind()

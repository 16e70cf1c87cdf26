"""The admin desk: who is an admin, what waits for one (counters), and the user card.

Every use case here takes the acting admin's Telegram id and checks it inside the core,
so a forged button that slipped past a front still changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.balances import Balances, Posted
from core.catalogue import Catalogue, UserView, load_user, user_view
from core.clock import Clock
from core.db import Database
from core.errors import Forbidden, InvalidAmount, InvalidInput, NotFound
from core.ledger import balance_of
from core.models import (
    AccountKind,
    ApplicationStatus,
    CodeReport,
    Order,
    RegistrationRequest,
    RegistrationStatus,
    ReportStatus,
    Sku,
    SkuStatus,
    SupplierApplication,
    TopUpRequest,
    TopUpStatus,
    User,
    UserStatus,
    WithdrawalRequest,
    WithdrawalStatus,
)
from core.rights import require_admin

MAX_NOTE = 500


# --- counters -------------------------------------------------------------------------

Counter = Callable[[AsyncSession], Awaitable[int]]


async def _count(session: AsyncSession, statement: object) -> int:
    return int(await session.scalar(statement) or 0)  # type: ignore[call-overload]


async def _pending_reviews(session: AsyncSession) -> int:
    return await _count(
        session,
        select(func.count()).select_from(Sku).where(Sku.status == SkuStatus.PENDING_REVIEW),
    )


async def _pending_topups(session: AsyncSession) -> int:
    return await _count(
        session,
        select(func.count())
        .select_from(TopUpRequest)
        .where(TopUpRequest.status == TopUpStatus.PENDING),
    )


async def _open_code_reports(session: AsyncSession) -> int:
    return await _count(
        session,
        select(func.count()).select_from(CodeReport).where(CodeReport.status == ReportStatus.OPEN),
    )


async def _pending_applications(session: AsyncSession) -> int:
    return await _count(
        session,
        select(func.count())
        .select_from(SupplierApplication)
        .where(SupplierApplication.status == ApplicationStatus.PENDING),
    )


async def _pending_withdrawals(session: AsyncSession) -> int:
    return await _count(
        session,
        select(func.count())
        .select_from(WithdrawalRequest)
        .where(WithdrawalRequest.status == WithdrawalStatus.PENDING),
    )


async def _pending_registrations(session: AsyncSession) -> int:
    return await _count(
        session,
        select(func.count())
        .select_from(RegistrationRequest)
        .where(RegistrationRequest.status == RegistrationStatus.PENDING),
    )


# What waits for an admin, in display order. Another part adds its own with one line:
#     PENDING_COUNTERS["something"] = _pending_something
PENDING_COUNTERS: dict[str, Counter] = {
    "product_reviews": _pending_reviews,
    "topups": _pending_topups,
    "code_reports": _open_code_reports,
    "supplier_applications": _pending_applications,
    "withdrawals": _pending_withdrawals,
    "registrations": _pending_registrations,
}


async def pending_counts(db: Database) -> dict[str, int]:
    """Every registered counter, read in one transaction (one consistent snapshot)."""
    async with db.reading() as session:
        return {name: await counter(session) for name, counter in PENDING_COUNTERS.items()}


# --- users ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserCard:
    user: UserView
    balance: int
    orders: int


class AdminDesk:
    def __init__(
        self, db: Database, clock: Clock, catalogue: Catalogue, balances: Balances
    ) -> None:
        self._db = db
        self._clock = clock
        self._catalogue = catalogue
        self._balances = balances

    async def staff(self) -> list[UserView]:
        """Active suppliers and admins: the users whose command menu is more than the
        resellers' (set per chat by the bot)."""
        async with self._db.reading() as session:
            users = await session.scalars(
                select(User)
                .where(User.is_supplier | User.is_admin, User.status != UserStatus.BANNED)
                .order_by(User.id)
            )
            return [await user_view(session, user) for user in users]

    async def is_admin(self, telegram_id: int) -> bool:
        async with self._db.reading() as session:
            try:
                await require_admin(session, telegram_id, "admin")
            except Forbidden:
                return False
            return True

    async def pending_counts(self, admin_telegram_id: int) -> dict[str, int]:
        await self._check(admin_telegram_id, "admin.panel")
        return await pending_counts(self._db)

    async def find_user(self, admin_telegram_id: int, query: str) -> UserCard:
        """By Telegram id or @username."""
        await self._check(admin_telegram_id, "user.find")
        found = await self._catalogue.find_user(query)
        return await self._card(found.telegram_id)

    async def user_card(self, admin_telegram_id: int, telegram_id: int) -> UserCard:
        await self._check(admin_telegram_id, "user.show")
        return await self._card(telegram_id)

    async def set_level(self, admin_telegram_id: int, telegram_id: int, level: str) -> UserCard:
        await self._check(admin_telegram_id, "user.level")
        await self._catalogue.set_level(telegram_id, level, actor=_actor(admin_telegram_id))
        return await self._card(telegram_id)

    async def set_credit_limit(
        self, admin_telegram_id: int, telegram_id: int, limit: int
    ) -> UserCard:
        await self._check(admin_telegram_id, "user.credit_limit")
        await self._catalogue.set_credit_limit(telegram_id, limit, actor=_actor(admin_telegram_id))
        return await self._card(telegram_id)

    async def set_banned(self, admin_telegram_id: int, telegram_id: int, banned: bool) -> UserCard:
        await self._check(admin_telegram_id, "user.status")
        if banned and telegram_id == admin_telegram_id:
            raise InvalidInput(field="status", value="an admin cannot ban themselves")
        status = UserStatus.BANNED if banned else UserStatus.ACTIVE
        await self._catalogue.set_status(telegram_id, status, actor=_actor(admin_telegram_id))
        return await self._card(telegram_id)

    async def adjust_balance(
        self,
        admin_telegram_id: int,
        telegram_id: int,
        amount: int,
        *,
        note: str,
        idempotency_key: str,
    ) -> Posted:
        """A signed correction of a reseller's balance; the note is mandatory and kept in
        the ledger memo and the audit record. The same key adjusts once."""
        await self._check(admin_telegram_id, "balance.adjust")
        if not note.strip():
            raise InvalidAmount(amount=amount, reason="note_required")
        return await self._balances.adjust(
            telegram_id,
            amount,
            idempotency_key=f"admin:{idempotency_key}",
            note=note.strip()[:MAX_NOTE],
            actor=_actor(admin_telegram_id),
        )

    async def _check(self, admin_telegram_id: int, action: str) -> None:
        async with self._db.reading() as session:
            await require_admin(session, admin_telegram_id, action)

    async def _card(self, telegram_id: int) -> UserCard:
        async with self._db.reading() as session:
            user = await load_user(session, telegram_id)
            try:
                balance = await balance_of(session, AccountKind.RESELLER_BALANCE, user.id)
            except NotFound:
                balance = 0
            orders = await _count(
                session, select(func.count()).select_from(Order).where(Order.user_id == user.id)
            )
            return UserCard(await user_view(session, user), balance, orders)


def _actor(admin_telegram_id: int) -> str:
    return f"admin:{admin_telegram_id}"

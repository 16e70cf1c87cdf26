"""The admin desk: who is an admin, what waits for one (the approval queues' counters),
and the user card.

Every use case here takes the acting admin's Telegram id and checks it inside the core,
so a forged button that slipped past a front still changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core.approvals import Approvals
from core.balances import Balances, Posted
from core.catalogue import Catalogue, UserView, load_user, user_view
from core.clock import Clock
from core.db import Database
from core.errors import Forbidden, InvalidAmount, InvalidInput, NotFound
from core.ledger import balance_of
from core.models import (
    AccountKind,
    Order,
    User,
    UserStatus,
)
from core.rights import require_admin

MAX_NOTE = 500


# --- users ----------------------------------------------------------------------------


@dataclass(frozen=True)
class UserCard:
    user: UserView
    balance: int
    orders: int


class AdminDesk:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        catalogue: Catalogue,
        balances: Balances,
        approvals: Approvals,
    ) -> None:
        self._db = db
        self._approvals = approvals
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
        """What waits in each approval queue (a consistent snapshot)."""
        return (await self._approvals.queue(admin_telegram_id, limit=0)).counts

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
            orders = await session.scalar(
                select(func.count()).select_from(Order).where(Order.user_id == user.id)
            )
            return UserCard(await user_view(session, user), balance, int(orders or 0))


def _actor(admin_telegram_id: int) -> str:
    return f"admin:{admin_telegram_id}"

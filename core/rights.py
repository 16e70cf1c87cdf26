"""Who may act as an admin: the one rule, and the one check every admin use case calls.

Admin rights are the admin flag on an admitted user (status ACTIVE): a banned admin, and one
whose own registration is pending or rejected, may not act as an admin. This is the
strictest of the checks it replaced (broadcasts, promotions and reports required an ACTIVE
admin; the others only the flag, or the flag and not banned). The flag alone still opens
the registration door (``is_admin``): admins never wait there. Fronts may ask the same
question of a :class:`~core.catalogue.UserView` (``has_admin_rights``) to hide what an
admin alone may see; the use case still checks the actor with :func:`require_admin`, so a
forged button changes nothing.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.catalogue import UserView
from core.errors import Forbidden
from core.models import Role, User, UserStatus


def is_admin(user: User | UserView) -> bool:
    """Has the admin flag, whatever their status."""
    return user.is_admin if isinstance(user, User) else Role.ADMIN in user.roles


def is_admitted(status: str, admin: bool) -> bool:
    """Past the registration door: an admitted user, or an admin who is not banned (admins
    never wait there). Who may buy, redeem a voucher or browse: the one rule."""
    return status == UserStatus.ACTIVE or (admin and status != UserStatus.BANNED)


def has_admin_rights(user: User | UserView) -> bool:
    """May act as an admin: the flag, and admitted (not banned, pending or rejected)."""
    return is_admin(user) and user.status is UserStatus.ACTIVE


async def require_admin(session: AsyncSession, telegram_id: int, action: str = "admin") -> User:
    """The acting user, if they have admin rights; ``Forbidden`` otherwise."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None or not has_admin_rights(user):
        raise Forbidden(action=action)
    return user


OPERATOR = "operator:cli"


async def acting_admin(session: AsyncSession, telegram_id: int | None, action: str) -> User | None:
    """An admin use case's caller: an admin by Telegram id, or None for the operator at the
    command line (who runs the deployment, so has the rights already)."""
    if telegram_id is None:
        return None
    return await require_admin(session, telegram_id, action)


def actor_name(telegram_id: int | None) -> str:
    return OPERATOR if telegram_id is None else f"tg:{telegram_id}"

"""Who may act as an admin: the one rule, and the one check every admin use case calls.

An admin is a user with the admin flag who is not banned (a pending or rejected admin is
still an admin: admins never wait at the registration door). Fronts may ask the same
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


def has_admin_rights(user: User | UserView) -> bool:
    is_admin = user.is_admin if isinstance(user, User) else Role.ADMIN in user.roles
    return is_admin and user.status is not UserStatus.BANNED


async def require_admin(session: AsyncSession, telegram_id: int, action: str = "admin") -> User:
    """The acting user, if they have admin rights; ``Forbidden`` otherwise."""
    user = await session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None or not has_admin_rights(user):
        raise Forbidden(action=action)
    return user

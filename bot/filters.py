"""Filters the handler modules share: who is an admin, and what counts as typed text."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.types import TelegramObject

from core.catalogue import UserView
from core.rights import has_admin_rights

#: a typed answer in a form: text that is not a command (a command leaves the form)
TYPED = F.text & ~F.text.startswith("/")


class IsAdmin(Filter):
    async def __call__(self, event: TelegramObject, user: UserView | None = None) -> bool:
        return user is not None and has_admin_rights(user)


def admin_router(name: str) -> Router:
    """A new router whose every message and button handler answers admins only."""
    router = Router(name=name)
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    return router

"""Magic filters (``F.text == ...``) checked on the event loop instead of in a thread.

aiogram runs every synchronous filter through ``asyncio.to_thread``: a hand-off to the
default thread pool and back for each check, though a magic filter only reads attributes
of the update and takes microseconds. An update walks past dozens of them on its way to
its handler, so the hand-offs cost more than the handler itself (measured: about a third
of the bot's CPU per purchase in ``bench/bot_e2e.py``). Magic filters are pure, so they
are run in place; any other synchronous filter keeps aiogram's thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import FilterObject


def _awaitable(check: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    async def inline(*args: Any, **kwargs: Any) -> Any:
        return check(*args, **kwargs)

    return inline


def _inline(filters: list[FilterObject] | None) -> None:
    for event_filter in filters or ():
        if event_filter.magic is not None and not event_filter.awaitable:
            # the parameters aiogram passes were read from the magic filter's own signature
            event_filter.callback = _awaitable(event_filter.callback)
            event_filter.awaitable = True


def check_magic_filters_inline(router: Router) -> None:
    """Every magic filter of ``router`` and the routers under it, on handlers and on the
    observers themselves (``router.message.filter(F...)``)."""
    for observer in router.observers.values():
        _inline(observer._handler.filters)
        for handler in observer.handlers:
            _inline(handler.filters)
    for child in router.sub_routers:
        check_magic_filters_inline(child)

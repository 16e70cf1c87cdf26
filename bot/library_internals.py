"""The private parts of aiogram that the bot uses: all of them, here (``core`` may not
import aiogram; the database ones are in ``core/library_internals.py``, whose ``in_use``
decides this one too: checked at start-up, a WARNING and aiogram's own path if it
changed, ``KAMENG_LIBRARY_INTERNALS_OFF=inline_magic_filters`` to compare in a bench).

Magic filters (``F.text == ...``) are checked on the event loop instead of in a thread.
aiogram runs every synchronous filter through ``asyncio.to_thread``: a hand-off to the
default thread pool and back for each check, though a magic filter only reads attributes
of the update and takes microseconds. A text message can walk past dozens on its way to
its handler. Magic filters are pure, so they are run in place (marked awaitable on
aiogram's ``FilterObject``, found on each observer's private ``_handler`` too); any other
synchronous filter keeps aiogram's thread. Measured: ``bench/bot_e2e.py`` (a purchase
passes about 4 magic filters: ``/buy`` on its way to its handler, none for the Confirm
press) 11.4 ms of bot CPU per order with it, 13.4 without (medians of 6 runs each, back to
back, on a shared machine: noisy); a text that walks past all 54 of the bot's magic
filters (a menu button late in the routers) 0.2-0.3 ms with it, 3-5 ms without.
Checked against aiogram 3.31.0.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject, FilterObject, HandlerObject

from core.library_internals import Internal, in_use


def _inline_magic_filters_changes() -> str | None:
    fields = {field.name for field in dataclasses.fields(FilterObject)}
    if not {"callback", "awaitable", "magic"} <= fields:
        return f"aiogram's FilterObject has the fields {sorted(fields)}"
    if str(inspect.signature(CallableObject.call)) != "(self, *args: Any, **kwargs: Any) -> Any":
        return "aiogram's CallableObject.call is not (self, *args, **kwargs)"
    handler = getattr(Router().message, "_handler", None)
    if not isinstance(handler, HandlerObject):
        return "aiogram's TelegramEventObserver has no _handler"
    return None


INLINE_MAGIC_FILTERS = Internal(
    "inline_magic_filters", ("aiogram 3.31.0",), _inline_magic_filters_changes
)


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
    if not in_use(INLINE_MAGIC_FILTERS):
        return
    for observer in router.observers.values():
        _inline(observer._handler.filters)
        for handler in observer.handlers:
            _inline(handler.filters)
    for child in router.sub_routers:
        check_magic_filters_inline(child)

"""No update waits for a thread to check a filter: aiogram hands every synchronous filter
to a worker thread, which cost a third of the bot's CPU per purchase. Magic filters are
made inline by ``bot.library_internals``; any other filter must be an async function."""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject

from bot.app import build_dispatcher
from core.platform import Platform


def _checks(router: Router) -> list[tuple[str, str, CallableObject]]:
    found: list[tuple[str, str, CallableObject]] = []
    for kind, observer in router.observers.items():
        found += [(router.name, kind, f) for f in observer._handler.filters or []]
        for handler in observer.handlers:
            found.append((router.name, kind, handler))
            found += [(router.name, kind, f) for f in handler.filters or []]
    for child in router.sub_routers:
        found += _checks(child)
    return found


def test_every_filter_and_handler_runs_on_the_event_loop(platform: Platform) -> None:
    checks = _checks(build_dispatcher(platform))
    in_threads = [
        f"{router}.{kind}: {getattr(check.callback, '__qualname__', check.callback)}"
        for router, kind, check in checks
        if not check.awaitable
    ]
    assert len(checks) > 100  # the walk saw the whole bot
    assert in_threads == []

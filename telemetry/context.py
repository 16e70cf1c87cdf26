"""Who and what a log line is about: the request, the update, the user, the order.

Set by the fronts where an event starts (the API's middleware, the bot's dispatcher
middleware) and read by the log formatter (``telemetry/logs.py``), so a line logged deep in
``core`` still says which request it belongs to. Context variables: each asyncio task sees
its own, copied from the task that started it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

FIELDS = ("request_id", "update_id", "user_id", "order_id")
_VARS: dict[str, ContextVar[str | int | None]] = {
    name: ContextVar(f"kameng_{name}", default=None) for name in FIELDS
}


def bind(**values: str | int | None) -> None:
    """Set fields for the rest of the current task (``order_id`` once an order exists)."""
    for name, value in values.items():
        _VARS[name].set(value)


@contextmanager
def scope(**values: str | int | None) -> Iterator[None]:
    """Set fields for one event (a request, an update) and restore them after."""
    tokens = [(_VARS[name], _VARS[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current() -> dict[str, str | int]:
    """The fields set now, by name."""
    found: dict[str, str | int] = {}
    for name, var in _VARS.items():
        value = var.get()
        if value is not None:
            found[name] = value
    return found

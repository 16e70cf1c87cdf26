"""How the long-running commands log: one line per event on stderr, plain text (as
before) or, with ``KAMENG_LOG_JSON=1``, one JSON object per line for a log collector.

Both carry the event's context (``telemetry/context.py``: request id, update id, user id,
order id) and a ``duration_ms`` where the line gives one. The stdlib's ``logging`` does
the rest: the JSON formatter is a dozen lines, no library needed. What a line says is its
writer's care: never a code's plaintext, an API key, a voucher or the secret key
(``tests/bot/test_log_secrets.py`` greps the logs of a full scenario for them).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from telemetry import context

PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# what a line may add through ``extra=``
EXTRA_FIELDS = ("duration_ms",)


def _fields(record: logging.LogRecord) -> dict[str, object]:
    found: dict[str, object] = dict(context.current())
    for name in EXTRA_FIELDS:
        if hasattr(record, name):
            found[name] = getattr(record, name)
    return found


class PlainFormatter(logging.Formatter):
    """Today's line, and the context's fields after it: ``… [request_id=… user_id=…]``."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields(record)
        if not fields:
            return line
        first, newline, rest = line.partition("\n")  # a traceback stays below the line
        tail = " ".join(f"{name}={value}" for name, value in fields.items())
        return f"{first} [{tail}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", <context fields>, "exception"?}``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(*, json_lines: bool, level: str = "INFO") -> None:
    """The root logger writes to stderr in the chosen format (replacing its handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)

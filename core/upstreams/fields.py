"""An upstream's field description as the field we ask for (``describe_field``), logging once
per upstream pattern we could not use: a sync every few minutes would repeat it."""

from __future__ import annotations

import logging

from core.decisions.account_fields import describe_field
from core.decisions.fulfilment import AccountField

log = logging.getLogger("kameng.upstreams")
_logged: set[tuple[str, str, str]] = set()  # (protocol, field, pattern) already logged


def upstream_field(
    protocol: str,
    name: str,
    label_en: str | None,
    label_zh: str | None,
    pattern: str | None,
    required: bool = True,
    hint_en: str | None = None,
    hint_zh: str | None = None,
) -> AccountField:
    described = describe_field(name, label_en, label_zh, pattern, required, hint_en, hint_zh)
    if described.replaced is not None:
        seen = (protocol, name, described.replaced)
        if seen not in _logged:
            _logged.add(seen)
            log.warning(
                "%s upstream field %s: pattern %r unusable here (does not compile or may "
                "backtrack for ever); any value accepted, the upstream checks it",
                protocol,
                name,
                described.replaced,
            )
    return described.field

"""A burst of instant sale notices to one supplier chat, folded into one message. Pure.

A private chat takes about one message a second, so a supplier selling faster than that
would read his instant notices ever later. When an outbox round holds more than
``FOLD_OVER`` due sale notices for one chat it sends one summary instead (per SKU: orders,
units, earnings, the newest stock left; and the totals), in the shape of a sales digest so
the one digest text renders both. One chat is one reader: one language, one zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

#: more than this many due sale notices for one chat in a round go out as one summary
FOLD_OVER = 3
#: the period name a folded burst carries in the digest-shaped payload
BURST = "burst"


class Sold(Protocol):
    """What one sale notice says (``core.supplier_sales.SaleNotice``)."""

    @property
    def sku_code(self) -> str: ...
    @property
    def sku_name(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def earning(self) -> int: ...
    @property
    def stock(self) -> int | None: ...


def fold_due(count: int, over: int = FOLD_OVER) -> bool:
    """Whether ``count`` due sale notices for one chat go out as one summary."""
    return count > over


def burst_summary(sales: Sequence[Sold], times: Sequence[datetime]) -> dict[str, Any]:
    """The digest-shaped summary of ``sales`` (oldest first; ``times`` when each was made):
    per SKU orders, units, earnings (minor units) and the newest stock left, busiest first."""
    if not sales or len(sales) != len(times):
        raise ValueError("a summary needs one time per sale, and at least one sale")
    per_sku: dict[str, dict[str, Any]] = {}
    for sale in sales:
        line = per_sku.setdefault(
            sale.sku_code,
            {"sku": sale.sku_code, "name": sale.sku_name, "orders": 0, "units": 0, "earnings": 0},
        )
        line["orders"] += 1
        line["units"] += sale.quantity
        line["earnings"] += sale.earning
        line["stock"] = sale.stock  # the later sale read the newer stock
    lines = sorted(per_sku.values(), key=lambda line: (-line["earnings"], line["sku"]))
    return {
        "period": BURST,
        "start": min(times).isoformat(),
        "end": max(times).isoformat(),
        "lines": lines,
        "orders": len(sales),
        "units": sum(line["units"] for line in lines),
        "earnings": sum(line["earnings"] for line in lines),
    }

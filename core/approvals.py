"""Who decided an approval request, what and when: one shape for every approval queue
(top-ups, registrations, supplier applications, SKU reviews, bad-code reports,
withdrawals), so every admin card shows a decision the same way."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import as_utc
from core.models import User


class Outcome(enum.StrEnum):
    """The decided statuses of the queues (their values are the same words)."""

    APPROVED = "approved"
    REJECTED = "rejected"
    REPLACED = "replaced"
    REFUNDED = "refunded"
    PAID = "paid"


_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    admin_telegram_id: int
    admin_username: str | None
    admin_name: str
    at: datetime  # UTC
    reason: str = ""

    @property
    def approved(self) -> bool:
        return self.outcome is not Outcome.REJECTED


async def load_verdict(
    session: AsyncSession,
    status: enum.StrEnum,
    decided_by: int | None,
    decided_at: datetime | None,
    reason: str = "",
) -> Verdict | None:
    """The verdict of a request, or None while it waits (or ended otherwise: superseded)."""
    if decided_by is None or decided_at is None or status.value not in _OUTCOMES:
        return None
    admin = (
        await session.execute(
            select(User.username, User.display_name).where(User.telegram_id == decided_by)
        )
    ).first()
    return Verdict(
        outcome=Outcome(status.value),
        admin_telegram_id=decided_by,
        admin_username=admin.username if admin else None,
        admin_name=admin.display_name if admin else "",
        at=as_utc(decided_at),
        reason=reason,
    )

"""Waiting for database state the bot's background work produces (no fixed sleeps)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from core.models import OutboxMessage
from core.platform import Platform


async def eventually(
    check: Callable[[], Awaitable[bool]],
    what: str,
    timeout: float = 5.0,  # noqa: ASYNC109 - a deadline for a condition, not a duration
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def outbox_rows(platform: Platform, kind: str | None = None) -> list[OutboxMessage]:
    async with platform.db.reading() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(await session.scalars(query))


async def outbox_settled(platform: Platform) -> None:
    """Every outbox row has reached an outcome (sent, absorbed or undeliverable)."""

    async def settled() -> bool:
        return all(row.outcome is not None for row in await outbox_rows(platform))

    await eventually(settled, "every outbox row to be finished")

"""Waiting for database state the bot's background work produces (no fixed sleeps), and
walking a form or a decision the way an admin does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import select

from core.models import OutboxMessage
from core.platform import Platform
from sandbox.fake_telegram.state import ChatMessage
from sandbox.fake_telegram.user import FakeUser


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


async def fill_promo_form(admin: FakeUser, steps: list[tuple[str, str]]) -> ChatMessage:
    """The admin's /promo form, one (what they say, what the bot asks next) a step: a
    "🏷 …" answer is a button pressed, the rest typed. Returns the last message: the
    summary to check before scheduling."""
    for says, expect in steps:
        if says.startswith("🏷"):
            await admin.press(says)
        else:
            await admin.send_text(says)
        await admin.wait_for_message(_containing(expect))
    summary = admin.last_message
    assert summary is not None
    return summary


async def reject_with_reason(
    admin: FakeUser, card: ChatMessage, what: str, reason: str, applicant: FakeUser
) -> None:
    """The admin presses ❌ Reject on ``card`` (``what``: "review #1", "application #1")
    and types ``reason``; the applicant is told, with the reason."""
    await admin.press("❌ Reject", message=card)
    await admin.wait_for_message(_containing(f"reason for rejecting {what}"))
    await admin.send_text(reason)
    await admin.wait_for_message(_containing(f"{what.capitalize()}: rejected"))
    told = await applicant.wait_for_message(_containing("was rejected"))
    assert reason in told.content


def _containing(text: str) -> Callable[[ChatMessage], bool]:
    return lambda message: text in message.content

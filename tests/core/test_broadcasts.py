"""Broadcast campaigns in the core: audiences, admin-only use cases, and what a worker's
graceful stop or hard kill leaves behind (nobody twice; nobody skipped on a graceful stop)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.broadcasts import INTERRUPTED, Audience, CampaignMessage, Outcome
from core.errors import Forbidden, InvalidInput
from core.models import BroadcastRecipient, RecipientStatus, Role, UserStatus
from core.platform import Platform
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

ADMIN_TID = 42
TEXT = CampaignMessage("text", "<b>Sale</b> today")


async def admin(platform: Platform) -> None:
    await platform.catalogue.ensure_user(ADMIN_TID)  # an admin who has written to the bot
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)


async def recipients(platform: Platform, audience: Audience) -> set[int]:
    campaign = await platform.broadcasts.draft(ADMIN_TID, TEXT, audience)
    started = await platform.broadcasts.start(campaign.id, ADMIN_TID)
    assert started.campaign.recipients == campaign.recipients  # the preview's count
    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(BroadcastRecipient.telegram_id).where(
                BroadcastRecipient.campaign_id == campaign.id
            )
        )
        return set(rows)


async def test_audiences_levels_buyers_suppliers_opt_outs_and_bans(
    platform: Platform, clock: FakeClock
) -> None:
    await admin(platform)
    await make_sku(platform, stock=10, category="Steam")
    await make_sku(platform, "XBOX-50", stock=10, category="Xbox")
    for telegram_id in (1, 2, 3, 4, 5):
        await make_reseller(platform, telegram_id, balance=1000_00)
    await platform.catalogue.set_level(2, "gold", actor=ADMIN)
    await platform.shop.buy_now(1, "STEAM-100", 1, idempotency_key="old")
    clock.advance(days=10)
    await platform.shop.buy_now(2, "STEAM-100", 1, idempotency_key="new")
    await platform.shop.buy_now(3, "XBOX-50", 1, idempotency_key="xbox")
    await platform.broadcasts.set_opted_out(4, True)
    await platform.catalogue.set_status(5, UserStatus.BANNED, actor=ADMIN)
    # created by the operator and never wrote to the bot: Telegram would refuse them
    await platform.catalogue.grant_role(6, Role.RESELLER, actor=ADMIN)
    await platform.catalogue.grant_role(901, Role.SUPPLIER, actor=ADMIN)
    steam = next(c.id for c in await platform.broadcasts.categories() if c.name == "Steam")
    gold = next(c.id for c in await platform.broadcasts.levels() if c.name == "gold")

    # the supplier (900) and the admin (42) are resellers too unless they opt out
    assert await recipients(platform, Audience("resellers")) == {1, 2, 3, 42, 900}
    assert await recipients(platform, Audience("level", ref=gold)) == {2}
    assert await recipients(platform, Audience("category", ref=steam, days=7)) == {2}
    assert await recipients(platform, Audience("category", ref=steam, days=30)) == {1, 2}
    await platform.broadcasts.set_opted_out(900, True)
    assert await recipients(platform, Audience("suppliers")) == {900}  # not promotional
    await platform.broadcasts.set_opted_out(4, False)
    assert 4 in await recipients(platform, Audience("resellers"))
    await platform.catalogue.ensure_user(6)  # they write to the bot: now they are reached
    assert 6 in await recipients(platform, Audience("resellers"))


async def test_only_admins_compose_and_start_and_send_queues_once(platform: Platform) -> None:
    await admin(platform)
    await make_reseller(platform, 7)
    with pytest.raises(Forbidden):
        await platform.broadcasts.draft(7, TEXT, Audience("resellers"))
    campaign = await platform.broadcasts.draft(ADMIN_TID, TEXT, Audience("resellers"))
    with pytest.raises(Forbidden):
        await platform.broadcasts.start(campaign.id, 7)
    first = await platform.broadcasts.start(campaign.id, ADMIN_TID)
    again = await platform.broadcasts.start(campaign.id, ADMIN_TID)
    assert not first.already and again.already
    assert (await platform.broadcasts.counts(campaign.id)).total == 2


@pytest.mark.parametrize(
    "message",
    [
        CampaignMessage("text", ""),
        CampaignMessage("text", "x" * 4097),
        CampaignMessage("photo", "x" * 1025, photo_file_id="F"),
        CampaignMessage("text", "hi", button_label="Go", button_url="http://example.com"),
        CampaignMessage("text", "hi", button_label="Go", button_url="https://exa mple.com"),
        CampaignMessage("text", "hi", button_label="G" * 65, button_url="https://example.com"),
    ],
)
async def test_messages_telegram_would_refuse_are_refused_when_composed(
    platform: Platform, message: CampaignMessage
) -> None:
    await admin(platform)
    with pytest.raises(InvalidInput):
        await platform.broadcasts.draft(ADMIN_TID, message, Audience("resellers"))


async def test_formatting_does_not_count_towards_the_caption_limit(platform: Platform) -> None:
    await admin(platform)
    message = CampaignMessage("photo", "<b>" + "x" * 1024 + "</b>", photo_file_id="F")
    await platform.broadcasts.draft(ADMIN_TID, message, Audience("resellers"))


async def _sending_campaign(platform: Platform, readers: int) -> int:
    await admin(platform)
    for telegram_id in range(100, 100 + readers):
        await make_reseller(platform, telegram_id)
    campaign = await platform.broadcasts.draft(ADMIN_TID, TEXT, Audience("resellers"))
    await platform.broadcasts.start(campaign.id, ADMIN_TID)
    return campaign.id


async def test_a_graceful_stop_puts_unsent_claims_back_and_the_next_worker_resumes(
    platform: Platform,
) -> None:
    campaign = await _sending_campaign(platform, 9)  # + the admin = 10
    broadcasts = platform.broadcasts
    assert await broadcasts.acquire(campaign, "a")
    claimed = await broadcasts.claim(campaign, "a", 4)
    assert claimed is not None and len(claimed) == 4
    sent = [Outcome(c.recipient_id, RecipientStatus.SENT, attempts=1) for c in claimed[:2]]
    await broadcasts.record(campaign, "a", sent)
    unsent = [c.recipient_id for c in claimed[2:]]
    await broadcasts.release(campaign, "a", unsent, dict.fromkeys(unsent, 1))

    assert await broadcasts.acquire(campaign, "b")  # free at once: no lease to wait for
    rest = await broadcasts.claim(campaign, "b", 100)
    assert rest is not None and len(rest) == 8
    assert [c.recipient_id for c in rest[:2]] == unsent  # resumed where "a" stopped
    assert {c.attempts for c in rest[:2]} == {1}
    counts = await broadcasts.counts(campaign)
    assert (counts.sent, counts.failed, counts.pending) == (2, 0, 8)


async def test_after_a_hard_kill_in_flight_recipients_are_never_sent_twice(
    platform: Platform, clock: FakeClock
) -> None:
    campaign = await _sending_campaign(platform, 9)
    broadcasts = platform.broadcasts
    assert await broadcasts.acquire(campaign, "a")
    claimed = await broadcasts.claim(campaign, "a", 3)
    assert claimed is not None
    # worker "a" dies here: no release, its lease runs on

    assert not await broadcasts.acquire(campaign, "b")
    clock.advance(seconds=61)
    assert await broadcasts.acquire(campaign, "b")
    rest = await broadcasts.claim(campaign, "b", 100)
    assert rest is not None and len(rest) == 7
    assert not {c.recipient_id for c in claimed} & {c.recipient_id for c in rest}
    async with platform.db.reading() as session:
        errors = await session.scalars(
            select(BroadcastRecipient.last_error).where(
                BroadcastRecipient.id.in_([c.recipient_id for c in claimed])
            )
        )
        assert list(errors) == [INTERRUPTED] * 3
    assert (await broadcasts.counts(campaign)).failed == 3
    assert await broadcasts.claim(campaign, "a", 10) is None  # the dead owner cannot come back

"""The one admin-rights rule (core/rights.py): only an admitted admin (status ACTIVE) acts
as an admin. One whose own registration is pending or rejected, or who is banned, is
refused everywhere — deciding a request, a broadcast, a promotion, a sales report — yet
an admin never waits at the registration door."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from core.approvals import Choice
from core.broadcasts import Audience, CampaignMessage
from core.errors import Forbidden
from core.models import Role, TopUpStatus, User, UserStatus
from core.platform import Platform
from core.reports import Period
from core.topups import TOPUPS
from tests.factories import ADMIN, make_reseller

RESELLER = 1001
ACTIVE_ADMIN, WAITING_ADMIN = 42, 43


async def _admin(platform: Platform, telegram_id: int, status: UserStatus) -> None:
    """An admin whose own status is ``status``. Granting the role admits a waiting user, so
    a waiting or banned admin is written as the data would hold one."""
    await platform.catalogue.grant_role(telegram_id, Role.ADMIN, actor=ADMIN)
    async with platform.db.transaction() as session:
        await session.execute(
            update(User).where(User.telegram_id == telegram_id).values(status=status)
        )


@pytest.mark.parametrize("status", [UserStatus.PENDING, UserStatus.REJECTED])
async def test_a_user_waiting_at_the_door_who_is_made_an_admin_is_admitted_and_acts(
    platform: Platform, status: UserStatus
) -> None:
    await platform.catalogue.ensure_user(WAITING_ADMIN, status=status)
    await make_reseller(platform, RESELLER)
    request = await platform.topups.request(RESELLER, 50_00, note="bank")

    granted = await platform.catalogue.grant_role(WAITING_ADMIN, Role.ADMIN, actor=ADMIN)
    decided = await platform.approvals.decide(
        TOPUPS, request.id, admin_telegram_id=WAITING_ADMIN, choice=Choice(True)
    )

    assert granted.status is UserStatus.ACTIVE
    assert decided.request.status is TopUpStatus.APPROVED


@pytest.mark.parametrize("status", [UserStatus.PENDING, UserStatus.REJECTED, UserStatus.BANNED])
async def test_an_admin_not_admitted_may_not_act_as_one(
    platform: Platform, status: UserStatus
) -> None:
    await _admin(platform, ACTIVE_ADMIN, UserStatus.ACTIVE)
    await _admin(platform, WAITING_ADMIN, status)
    await make_reseller(platform, RESELLER)
    request = await platform.topups.request(RESELLER, 50_00, note="bank")

    with pytest.raises(Forbidden):
        await platform.approvals.decide(
            TOPUPS, request.id, admin_telegram_id=WAITING_ADMIN, choice=Choice(True)
        )
    with pytest.raises(Forbidden):
        await platform.broadcasts.draft(
            WAITING_ADMIN, CampaignMessage(kind="text", body_html="hi"), Audience("resellers")
        )
    with pytest.raises(Forbidden):
        await platform.promotions.require_admin(WAITING_ADMIN)
    with pytest.raises(Forbidden):
        await platform.reports.summary(WAITING_ADMIN, Period.TODAY)

    (waiting,) = await platform.approvals.waiting(TOPUPS, admin_telegram_id=ACTIVE_ADMIN)
    assert waiting.request.status is TopUpStatus.PENDING
    assert (await platform.balances.balance(RESELLER)).balance == 0


async def test_an_admitted_admin_acts_and_a_pending_one_still_passes_the_door(
    platform: Platform,
) -> None:
    await _admin(platform, ACTIVE_ADMIN, UserStatus.ACTIVE)
    await _admin(platform, WAITING_ADMIN, UserStatus.PENDING)
    await make_reseller(platform, RESELLER)
    request = await platform.topups.request(RESELLER, 50_00, note="bank")

    decided = await platform.approvals.decide(
        TOPUPS, request.id, admin_telegram_id=ACTIVE_ADMIN, choice=Choice(True)
    )

    assert decided.request.status is TopUpStatus.APPROVED
    await platform.promotions.require_admin(ACTIVE_ADMIN)
    waiting_admin = await platform.catalogue.user(WAITING_ADMIN)
    assert not platform.registration.is_outsider(waiting_admin)

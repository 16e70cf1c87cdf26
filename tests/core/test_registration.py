"""Registration policies in the core: who gets in, decided once, invites used once."""

from __future__ import annotations

import asyncio
import json

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from core.errors import Forbidden, NotRegistered
from core.models import AuditRecord, InviteCode, OutboxMessage, Role, User, UserStatus
from core.platform import Platform
from core.registration import InvalidInvite
from core.settings import Settings
from tests.factories import ADMIN, make_sku

ADMIN_TID = 42


async def _admin(platform: Platform, telegram_id: int = ADMIN_TID) -> None:
    await platform.catalogue.grant_role(telegram_id, Role.ADMIN, actor=ADMIN)


async def _notices(platform: Platform, kind: str) -> list[tuple[int, int]]:
    """Who the outbox will tell about which request."""
    async with platform.db.reading() as session:
        rows = await session.execute(
            select(User.telegram_id, OutboxMessage.payload)
            .join(User, User.id == OutboxMessage.user_id)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.id)
        )
        return [(tid, json.loads(payload)["request"]) for tid, payload in rows]


async def _newcomer(platform: Platform, telegram_id: int) -> None:
    await platform.catalogue.ensure_user(
        telegram_id, username=f"n{telegram_id}", status=platform.registration.newcomer_status
    )


def test_the_policy_setting_is_validated() -> None:
    for policy in ("open", "approval", "invite"):
        assert Settings(registration=policy, _env_file=None).registration == policy
    with pytest.raises(ValidationError):
        Settings(registration="closed", _env_file=None)


@pytest.mark.parametrize(
    ("policy", "status"),
    [("open", UserStatus.ACTIVE), ("approval", UserStatus.PENDING), ("invite", UserStatus.PENDING)],
)
async def test_newcomers_are_pending_unless_the_policy_is_open(
    platform: Platform, status: UserStatus
) -> None:
    await _newcomer(platform, 3000)
    assert (await platform.catalogue.user(3000)).status is status


@pytest.mark.parametrize("policy", ["approval"])
async def test_first_decision_wins_and_a_pending_user_cannot_buy(platform: Platform) -> None:
    await make_sku(platform, stock=3)
    await _admin(platform)
    await _admin(platform, 43)
    await _newcomer(platform, 3001)
    with pytest.raises(NotRegistered):
        await platform.quotes.quote(3001, "STEAM-100", 1)

    applications = await asyncio.gather(*(platform.registration.apply(3001) for _ in range(3)))
    assert [a.filed for a in applications].count(True) == 1
    assert len({a.request.id for a in applications}) == 1
    assert sorted(a.admins for a in applications) == [0, 0, 2]  # asked once, both admins
    request_id = applications[0].request.id
    assert await _notices(platform, "approval_request") == [
        (ADMIN_TID, request_id),
        (43, request_id),
    ]

    with pytest.raises(Forbidden):
        await platform.registration.decide(request_id, admin_telegram_id=3001, approve=True)
    decisions = await asyncio.gather(
        platform.registration.decide(request_id, admin_telegram_id=ADMIN_TID, approve=True),
        platform.registration.decide(request_id, admin_telegram_id=43, approve=False),
    )
    assert [d.already_decided for d in decisions].count(False) == 1
    assert await _notices(platform, "approval_decided") == [(3001, request_id)]  # told once
    winner = next(d for d in decisions if not d.already_decided)
    user = await platform.catalogue.user(3001)
    expected = UserStatus.ACTIVE if winner.request.status == "approved" else UserStatus.REJECTED
    assert user.status is expected
    async with platform.db.reading() as session:
        actions = list(await session.scalars(select(AuditRecord.action)))
    assert actions.count("registration.request") == 1
    assert len([a for a in actions if a in ("registration.approve", "registration.reject")]) == 1


@pytest.mark.parametrize("policy", ["invite"])
async def test_an_invite_admits_exactly_one_of_many_racing_newcomers(platform: Platform) -> None:
    await _admin(platform)
    (code,) = await platform.registration.issue_invites(ADMIN_TID, 1)
    newcomers = [4000 + n for n in range(8)]
    for telegram_id in newcomers:
        await _newcomer(platform, telegram_id)

    async def attempt(telegram_id: int) -> bool:
        try:
            await platform.registration.join_with_invite(telegram_id, code.lower())
        except InvalidInvite as refused:
            assert refused.params["reason"] == "used"
            return False
        return True

    results = await asyncio.gather(*(attempt(t) for t in newcomers))
    assert results.count(True) == 1
    statuses = [(await platform.catalogue.user(t)).status for t in newcomers]
    assert statuses.count(UserStatus.ACTIVE) == 1
    assert statuses.count(UserStatus.PENDING) == 7
    loser = newcomers[statuses.index(UserStatus.PENDING)]
    with pytest.raises(InvalidInvite) as unknown:
        await platform.registration.join_with_invite(loser, "AAAA-BBBB-CCCC")
    assert unknown.value.params == {"reason": "unknown"}


@pytest.mark.parametrize("policy", ["invite"])
async def test_invite_codes_are_stored_only_as_digests(platform: Platform) -> None:
    await _admin(platform)
    codes = await platform.registration.issue_invites(ADMIN_TID, 5)
    assert len(set(codes)) == 5
    async with platform.db.reading() as session:
        stored = list(await session.scalars(select(InviteCode)))
        audits = list(await session.scalars(select(AuditRecord.payload)))
    assert len(stored) == 5
    for code in codes:
        for row in stored:
            assert code.encode() not in row.digest
            assert code.replace("-", "").encode() not in row.digest
        assert all(code not in payload for payload in audits)
    await _newcomer(platform, 9999)
    with pytest.raises(Forbidden):
        await platform.registration.issue_invites(9999, 1)


@pytest.fixture
def policy() -> str:
    return "open"


@pytest.fixture
def settings(settings: Settings, policy: str) -> Settings:
    return settings.model_copy(update={"registration": policy})

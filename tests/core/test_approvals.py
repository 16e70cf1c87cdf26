"""The one approval mechanism (core/approvals.py): the first of two racing admins decides
and the other gets that verdict, a non-admin changes nothing, an approve that fails leaves
the request waiting, and the queue shows every kind that waits."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.approvals import Choice, Outcome
from core.errors import Forbidden, InsufficientPayable
from core.models import AuditRecord, Role, StockKind, TopUpStatus, UserStatus, WithdrawalStatus
from core.platform import Platform
from core.reviews import NewProduct
from core.supplier_payouts import WITHDRAWALS
from core.topups import TOPUPS
from tests.factories import ADMIN, SUPPLIER_TID, make_reseller, make_sku

RESELLER = 1001
FIRST, SECOND = 42, 43
SAM, NEWCOMER, APPLICANT = 7001, 7002, 7003


async def _admins(platform: Platform) -> None:
    for admin in (FIRST, SECOND):
        await platform.catalogue.grant_role(admin, Role.ADMIN, actor=ADMIN)


async def _actions(platform: Platform, prefix: str) -> list[str]:
    async with platform.db.reading() as session:
        actions = await session.scalars(select(AuditRecord.action).order_by(AuditRecord.id))
        return [action for action in actions if action.startswith(prefix)]


async def test_two_admins_at_once_one_decides_the_other_sees_that_decision(
    platform: Platform,
) -> None:
    await _admins(platform)
    await make_reseller(platform, RESELLER)
    request = await platform.topups.request(RESELLER, 50_00, note="bank")

    approve, reject = await asyncio.gather(
        platform.approvals.decide(TOPUPS, request.id, admin_telegram_id=FIRST, choice=Choice(True)),
        platform.approvals.decide(
            TOPUPS, request.id, admin_telegram_id=SECOND, choice=Choice(False, "no")
        ),
    )

    winner, late = (approve, reject) if not approve.already_decided else (reject, approve)
    assert [winner.already_decided, late.already_decided] == [False, True]
    assert late.posted is None  # the late one changed nothing
    assert late.verdict == winner.verdict  # "already decided by X at T"
    assert winner.verdict is not None
    assert winner.verdict.admin_telegram_id in (FIRST, SECOND)
    balance = (await platform.balances.balance(RESELLER)).balance
    assert balance == (50_00 if winner.verdict.outcome is Outcome.APPROVED else 0)
    assert len(await _actions(platform, "topup.")) == 1  # one decision, one audit record


async def test_a_non_admin_deciding_is_refused_and_changes_nothing(platform: Platform) -> None:
    await _admins(platform)
    await make_reseller(platform, RESELLER)
    request = await platform.topups.request(RESELLER, 50_00)

    with pytest.raises(Forbidden):
        await platform.approvals.decide(
            TOPUPS, request.id, admin_telegram_id=RESELLER, choice=Choice(True)
        )
    await platform.catalogue.set_status(SECOND, UserStatus.BANNED, actor=ADMIN)
    with pytest.raises(Forbidden):  # a banned admin has no admin rights
        await platform.approvals.decide(
            TOPUPS, request.id, admin_telegram_id=SECOND, choice=Choice(True)
        )

    (still,) = await platform.approvals.waiting(TOPUPS, admin_telegram_id=FIRST)
    assert still.request.status is TopUpStatus.PENDING
    assert (await platform.balances.balance(RESELLER)).balance == 0
    assert await _actions(platform, "topup.") == []


async def test_an_approve_that_fails_leaves_the_request_waiting(platform: Platform) -> None:
    await _admins(platform)
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=1000_00)
    for key in ("a", "b"):
        await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key=key)
    request = await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 2 * 85_84)
    await platform.shop.refund(1, idempotency_key="r", actor=ADMIN)  # payable now 85.84

    with pytest.raises(InsufficientPayable):
        await platform.approvals.decide(
            WITHDRAWALS, request.id, admin_telegram_id=FIRST, choice=Choice(True)
        )

    still = await platform.approvals.look(WITHDRAWALS, request.id, admin_telegram_id=SECOND)
    assert not still.already_decided and still.verdict is None
    assert still.request.status is WithdrawalStatus.PENDING
    assert (await platform.approvals.queue(SECOND)).counts["withdrawals"] == 1
    assert await _actions(platform, "withdrawal.paid") == []
    # the next admin can still decide it
    rejected = await platform.approvals.decide(
        WITHDRAWALS, request.id, admin_telegram_id=SECOND, choice=Choice(False, "refunded")
    )
    assert rejected.verdict is not None and rejected.verdict.reason == "refunded"
    assert rejected.request.status is WithdrawalStatus.REJECTED


async def _one_of_each_kind(platform: Platform) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, RESELLER, balance=1000_00)
    await platform.topups.request(RESELLER, 10_00)
    receipt = await platform.shop.buy_now(RESELLER, "STEAM-100", 1, idempotency_key="k")
    await platform.aftersales.report(RESELLER, receipt.order_id, 1, reason="used")  # type: ignore[union-attr]
    await platform.supplier_payouts.request_withdrawal(SUPPLIER_TID, 10_00)
    await platform.catalogue.ensure_user(NEWCOMER, status=UserStatus.PENDING)
    await platform.registration.apply(NEWCOMER)
    await platform.catalogue.ensure_user(APPLICANT)
    await platform.onboarding.apply(APPLICANT, company_name="Cards Co", contact_note="")
    await platform.catalogue.ensure_user(SAM)
    application = await platform.onboarding.apply(SAM, company_name="Sam", contact_note="")
    await platform.onboarding.decide(application.id, admin_telegram_id=FIRST, approve=True)
    product = NewProduct("PSN 100", "PlayStation", 100_00, 80_00, StockKind.UNIQUE, False, "x")
    await platform.reviews.submit(SAM, product)


async def test_the_queue_shows_every_kind_that_waits(platform: Platform) -> None:
    await _admins(platform)
    await _one_of_each_kind(platform)

    queue = await platform.approvals.queue(FIRST)

    kinds = [
        "product_reviews",
        "topups",
        "code_reports",
        "supplier_applications",
        "withdrawals",
        "registrations",
    ]
    # the admin panel's order; credit applications (none here) are in test_credit_bot.py
    assert queue.counts == {**dict.fromkeys(kinds, 1), "credit": 0}
    assert sorted(waiting.kind for waiting in queue.oldest) == sorted(kinds)
    assert await platform.admin.pending_counts(FIRST) == queue.counts
    with pytest.raises(Forbidden):
        await platform.approvals.queue(RESELLER)

"""Supplier onboarding, product review and supplier uploads on a real database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from core import audit
from core.errors import Forbidden, InvalidInput, InvalidState, SkuNotForSale
from core.models import ApplicationStatus, AuditRecord, Role, SkuStatus, StockKind, Supplier
from core.platform import Platform
from core.reviews import NewProduct, ProductEdit, listing_price
from tests.factories import make_reseller, make_sku

ADMIN_A, ADMIN_B = 42, 43
SAM = 2001


@pytest.mark.parametrize(
    ("supply", "face", "markup_bps", "price"),
    [
        (80_00, 100_00, 500, 84_00),  # 80.00 + 5%
        (82_50, 100_00, 500, 86_63),  # 86.625 rounds up to the fen
        (99_00, 100_00, 500, 100_00),  # never above the face value
        (100_00, 100_00, 500, 100_00),  # ... nor below the supply price
        (1, 2, 500, 2),  # one fen of supply still earns a fen
        (80_00, 100_00, 0, 80_00),  # no markup configured
    ],
)
def test_listing_price(supply: int, face: int, markup_bps: int, price: int) -> None:
    assert listing_price(supply, face, markup_bps) == price


async def _admins(platform: Platform) -> None:
    for admin in (ADMIN_A, ADMIN_B):
        await platform.catalogue.grant_role(admin, Role.ADMIN, actor="test")


def _product(**changes: object) -> NewProduct:
    fields: dict[str, object] = {
        "name": "PSN 100 HKD",
        "category": "PlayStation",
        "face_value": 100_00,
        "supply_price": 80_00,
        "stock_kind": StockKind.UNIQUE,
        "exclusive": False,
        "provenance": "distributor",
    }
    fields.update(changes)
    return NewProduct(**fields)  # type: ignore[arg-type]


async def _supplier(platform: Platform) -> None:
    await platform.catalogue.ensure_user(SAM, display_name="Sam")
    view = await platform.onboarding.apply(SAM, company_name="Sam Cards Ltd", contact_note="x")
    await platform.onboarding.decide(view.id, admin_telegram_id=ADMIN_A, approve=True)


async def test_concurrent_admin_decisions_decide_an_application_once(platform: Platform) -> None:
    await _admins(platform)
    await platform.catalogue.ensure_user(SAM)
    view = await platform.onboarding.apply(SAM, company_name="  Sam   Cards ", contact_note="")
    assert view.company_name == "Sam Cards"
    with pytest.raises(InvalidState):
        await platform.onboarding.apply(SAM, company_name="again", contact_note="")

    decisions = await asyncio.gather(
        platform.onboarding.decide(view.id, admin_telegram_id=ADMIN_A, approve=True),
        platform.onboarding.decide(view.id, admin_telegram_id=ADMIN_B, approve=False, reason="x"),
    )
    assert sorted(d.already_decided for d in decisions) == [False, True]
    final = {d.application.status for d in decisions}
    assert len(final) == 1  # the loser sees the winner's verdict
    async with platform.db.reading() as session:
        verdicts = await session.scalar(
            select(func.count()).where(
                AuditRecord.action.in_(("supplier.approve", "supplier.reject"))
            )
        )
        suppliers = await session.scalar(select(func.count()).select_from(Supplier))
    assert verdicts == 1
    approved = final == {ApplicationStatus.APPROVED}
    assert suppliers == (1 if approved else 0)
    assert (await audit.verify(platform.db)).ok


async def test_concurrent_applications_leave_one_pending(platform: Platform) -> None:
    await platform.catalogue.ensure_user(SAM)
    results = await asyncio.gather(
        *(
            platform.onboarding.apply(SAM, company_name=f"Sam {n}", contact_note="")
            for n in range(4)
        ),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, InvalidState) for r in results if isinstance(r, BaseException))


async def test_only_admins_decide_and_only_suppliers_submit(platform: Platform) -> None:
    await _admins(platform)
    await make_reseller(platform, 1001)
    await platform.catalogue.ensure_user(SAM)
    view = await platform.onboarding.apply(SAM, company_name="Sam", contact_note="")
    with pytest.raises(Forbidden):
        await platform.onboarding.decide(view.id, admin_telegram_id=1001, approve=True)
    with pytest.raises(Forbidden):
        await platform.reviews.submit(SAM, _product())
    await platform.onboarding.decide(view.id, admin_telegram_id=ADMIN_A, approve=True)
    with pytest.raises(InvalidState):
        await platform.onboarding.apply(SAM, company_name="Sam", contact_note="")

    review = await platform.reviews.submit(SAM, _product())
    with pytest.raises(Forbidden):
        await platform.reviews.decide(review.id, admin_telegram_id=1001, approve=True)
    with pytest.raises(Forbidden):
        await platform.reviews.decide(review.id, admin_telegram_id=SAM, approve=True)
    with pytest.raises(InvalidInput):
        await platform.reviews.submit(SAM, _product(supply_price=101_00))
    with pytest.raises(InvalidInput):
        await platform.reviews.submit(SAM, _product(name="   "))


async def test_review_lifecycle_and_superseded_reviews(platform: Platform) -> None:
    await _admins(platform)
    await _supplier(platform)
    await make_reseller(platform, 1001, balance=1_000_00)
    first = await platform.reviews.submit(SAM, _product())
    assert first.sku_code == "S1-1" and first.sale_price == 84_00
    await platform.supplier_stock.upload(SAM, first.sku_code, ["A-1", "A-2"])
    with pytest.raises(SkuNotForSale):
        await platform.shop.buy_now(1001, first.sku_code, 1, idempotency_key="k0")

    # a change before any decision replaces the pending review
    second = await platform.reviews.edit(SAM, first.sku_code, ProductEdit(supply_price=90_00))
    assert second is not None and second.sale_price == 94_50
    stale = await platform.reviews.decide(first.id, admin_telegram_id=ADMIN_A, approve=True)
    assert stale.already_decided and stale.review.status.value == "superseded"
    assert (await platform.catalogue.sku(first.sku_code)).status is SkuStatus.PENDING_REVIEW

    decided = await platform.reviews.decide(second.id, admin_telegram_id=ADMIN_B, approve=True)
    assert not decided.already_decided
    sku = await platform.catalogue.sku(first.sku_code)
    assert (sku.status, sku.default_price, sku.supply_price) == (SkuStatus.ACTIVE, 94_50, 90_00)
    receipt = await platform.shop.buy_now(1001, first.sku_code, 1, idempotency_key="k1")
    assert receipt.total == 94_50

    assert await platform.reviews.edit(SAM, first.sku_code, ProductEdit(name="PSN 100 HKD")) is None
    await platform.catalogue.set_sku_status(first.sku_code, SkuStatus.SUSPENDED, actor="test")
    with pytest.raises(InvalidState):
        await platform.reviews.edit(SAM, first.sku_code, ProductEdit(name="Other"))
    assert (await audit.verify(platform.db)).ok


async def test_a_supplier_stocks_only_their_own_skus(platform: Platform) -> None:
    await _admins(platform)
    await make_sku(platform, "STEAM-100")  # another supplier's
    await _supplier(platform)
    for code in ("STEAM-100", "NOPE-1"):
        with pytest.raises(Forbidden):
            await platform.supplier_stock.upload(SAM, code, ["X-1"])
        with pytest.raises(Forbidden):
            await platform.reviews.edit(SAM, code, ProductEdit(name="mine now"))
    assert await platform.catalogue.stock_count("STEAM-100") == 0


async def test_concurrent_submissions_get_distinct_codes(platform: Platform) -> None:
    await _admins(platform)
    await _supplier(platform)
    views = await asyncio.gather(
        *(platform.reviews.submit(SAM, _product(name=f"Card {n}")) for n in range(5))
    )
    assert sorted(v.sku_code for v in views) == [f"S1-{n}" for n in range(1, 6)]

"""Scheduled promotions: one promotion and its jobs per key, prices follow the window with
no scheduler at all, the audience is the target resellers, results count what it sold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import Forbidden, InvalidInput, NotFound
from core.models import PromotionKind, Role, UserStatus
from core.orders import Receipt
from core.platform import Platform
from core.promotions import (
    ANNOUNCE,
    REMIND,
    REPORT,
    NewPromotion,
    local_time,
    parse_local_time,
    zone,
)
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

ADMIN_TID = 42
SHANGHAI = zone("Asia/Shanghai")


def fixed_88(clock: FakeClock, **overrides: object) -> NewPromotion:
    values: dict[str, object] = {
        "kind": PromotionKind.FIXED_PRICE,
        "fixed_price": 88_00,
        "sku_codes": ("STEAM-100",),
        "starts_at": clock.now() + timedelta(hours=1),
        "ends_at": clock.now() + timedelta(hours=3),
        "announcement": "Double eleven!\nSteam cards for less",
        "remind_hours": 1,
    }
    values.update(overrides)
    return NewPromotion(**values)  # type: ignore[arg-type]


async def test_times_are_typed_in_the_configured_timezone() -> None:
    moment = parse_local_time("2026-12-01 10:00", SHANGHAI)
    assert moment == datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    assert local_time(moment, SHANGHAI) == "2026-12-01 10:00"
    for bad in ("2026-13-01 10:00", "tomorrow", "2026-12-01", "2026-12-01 25:00"):
        with pytest.raises(InvalidInput):
            parse_local_time(bad, SHANGHAI)


async def test_a_promotion_and_its_jobs_are_made_once_per_key(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    new = fixed_88(clock)

    first = await platform.promotions.schedule(ADMIN_TID, new, idempotency_key="tok")
    again = await platform.promotions.schedule(ADMIN_TID, new, idempotency_key="tok")

    assert again.replayed and again.promotion == first.promotion
    assert first.promotion.name == "Double eleven!"
    assert [(j.kind, j.run_at - clock.now()) for j in first.jobs] == [
        (ANNOUNCE, timedelta(hours=1)),
        (REMIND, timedelta(hours=2)),
        (REPORT, timedelta(hours=3)),
    ]
    assert len(await platform.jobs.jobs()) == 3
    assert len(await platform.promotions.upcoming()) == 1


async def test_only_an_admin_schedules_and_nonsense_is_refused(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, 1001)
    with pytest.raises(Forbidden):
        await platform.promotions.schedule(1001, fixed_88(clock), idempotency_key="x")
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    for bad in (
        fixed_88(clock, remind_hours=5),  # before the start
        fixed_88(clock, ends_at=clock.now() - timedelta(hours=1)),
        fixed_88(clock, sku_codes=(), category=None),
    ):
        with pytest.raises(InvalidInput):
            await platform.promotions.schedule(ADMIN_TID, bad, idempotency_key="y")
    with pytest.raises(NotFound):
        await platform.promotions.schedule(
            ADMIN_TID, fixed_88(clock, sku_codes=(), category="Nope"), idempotency_key="z"
        )
    assert await platform.jobs.jobs() == []


async def test_the_price_follows_the_window_without_any_scheduler(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await make_reseller(platform, 1001)
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await platform.promotions.schedule(ADMIN_TID, fixed_88(clock), idempotency_key="w")

    prices = []
    for step in (0, 60, 60, 60):  # before, at the start, inside, at the end
        clock.advance(minutes=step)
        prices.append((await platform.quotes.quote(1001, "STEAM-100", 1)).unit_price)
    assert prices == [92_00, 88_00, 88_00, 92_00]


async def test_the_audience_is_the_target_levels_active_resellers(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=5)
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    for tid in (1001, 1002, 1003, 1004):
        await make_reseller(platform, tid)
    await platform.catalogue.set_level(1002, "gold", actor=ADMIN)
    await platform.catalogue.set_level(1003, "gold", actor=ADMIN)
    await platform.catalogue.set_level(1004, "silver", actor=ADMIN)
    await platform.catalogue.set_status(1003, UserStatus.BANNED, actor=ADMIN)
    everyone = await platform.promotions.schedule(ADMIN_TID, fixed_88(clock), idempotency_key="a")
    gold_silver = await platform.promotions.schedule(
        ADMIN_TID, fixed_88(clock, levels=("gold", "silver")), idempotency_key="b"
    )

    def ids(recipients: list) -> list[int]:  # type: ignore[type-arg]
        return [r.telegram_id for r in recipients]

    assert ids(await platform.promotions.audience(everyone.promotion.id)) == [1001, 1002, 1004]
    assert ids(await platform.promotions.audience(gold_silver.promotion.id)) == [1002, 1004]
    assert ids(await platform.promotions.audience(gold_silver.promotion.id, after=1002)) == [1004]


async def test_results_count_what_sold_under_the_promotion_net_of_refunds(
    platform: Platform, clock: FakeClock
) -> None:
    await make_sku(platform, stock=20)
    await make_sku(platform, "OTHER-1", stock=5, category="Other")
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor=ADMIN)
    await make_reseller(platform, 1001, balance=2000_00)
    await make_reseller(platform, 1002, balance=2000_00)
    scheduled = await platform.promotions.schedule(ADMIN_TID, fixed_88(clock), idempotency_key="r")
    await platform.shop.buy_now(1001, "STEAM-100", 1, idempotency_key="before")
    clock.advance(hours=1, minutes=5)
    inside = await platform.shop.buy_now(1001, "STEAM-100", 3, idempotency_key="in-1")
    await platform.shop.buy_now(1002, "STEAM-100", 2, idempotency_key="in-2")
    await platform.shop.buy_now(1002, "OTHER-1", 1, idempotency_key="other")
    assert isinstance(inside, Receipt)
    await platform.shop.refund(inside.order_id, units=1, idempotency_key="ref", actor=ADMIN)
    clock.advance(hours=2)
    await platform.shop.buy_now(1002, "STEAM-100", 1, idempotency_key="after")

    results = await platform.promotions.results(scheduled.promotion.id)
    assert (results.orders, results.units, results.refunded_units) == (2, 4, 1)
    assert results.gmv == 4 * 88_00 and results.resellers == 2

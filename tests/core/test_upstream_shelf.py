"""Shelving: where a synced upstream product goes (moved by an operator > mapped > the
upstream's default), against both fake upstreams over HTTP on a real database; moving a
SKU by hand (audited, refused into an unknown category); an emptied category is not shown
to resellers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from core.errors import Forbidden, NotFound
from core.models import AuditRecord
from core.platform import Platform
from core.upstreams.service import NewUpstream
from core.upstreams.shelf import shelve
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeKameng, FakeProduct
from sandbox.fake_upstream.base import FakeUpstream
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller, make_sku

RESELLER = 1001
CARDS = "游戏点卡 Game cards"

# current (the SKU's category now; None: a new product), the upstream's category, the
# map (category_key → ours), the upstream's default → where it goes
SHELVING = [
    (None, None, {}, 9, 9),  # names no category: the default
    (None, "Games", {}, 9, 9),  # unmapped: the default, never a category named "Games"
    (None, "Games", {"games": 3}, 9, 3),  # mapped
    (None, "  GAMES ", {"games": 3}, 9, 3),  # matched with spaces collapsed, case ignored
    (None, "Video", {"games": 3}, 9, 9),  # another category's mapping does not apply
    (5, "Games", {"games": 3}, 9, 5),  # listed already (maybe moved): stays where it is
    (5, None, {}, 9, 5),
]


@pytest.mark.parametrize(("current", "named", "mapping", "default", "expected"), SHELVING)
def test_shelve(
    current: int | None, named: str | None, mapping: dict[str, int], default: int, expected: int
) -> None:
    assert shelve(current, named, mapping, default) == expected


def _catalogue() -> Catalogue:
    c = Catalogue()
    c.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, category="Games"))
    c.add(FakeProduct(2, "Netflix 1M", cost=25_00, face_value=30_00, category="Video"))
    return c


@pytest.fixture(params=["dujiao", "kameng"])
async def fake(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[FakeUpstream]:
    server: FakeUpstream
    if request.param == "dujiao":
        server = FakeDujiao(_catalogue(), now=lambda: clock.now().timestamp())
    else:
        server = FakeKameng(_catalogue())
    async with server:
        yield server


async def _ready(platform: Platform, fake: FakeUpstream) -> None:
    await make_reseller(platform, RESELLER)
    secret = fake.secret if isinstance(fake, FakeDujiao) else ""
    protocol = "dujiao" if isinstance(fake, FakeDujiao) else "kameng"
    await platform.upstreams.add(
        NewUpstream("dj", protocol, fake.base_url, fake.key, secret, category="Imported"),
        actor=ADMIN,
    )


async def _where(platform: Platform) -> dict[str, str]:
    """Each upstream SKU's name → the category a reseller finds it in."""
    found = {}
    for line in await platform.storefront.categories():
        page = await platform.storefront.skus(RESELLER, category_id=line.id, limit=50)
        found.update({sku.name: line.name for sku in page.lines})
    return found


async def _code(platform: Platform, name: str) -> str:
    page = await platform.storefront.skus(RESELLER, search=name, limit=1)
    return page.lines[0].code


async def test_a_mapped_category_shelves_new_products_and_unmapped_go_to_the_default(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    await make_sku(platform, "LOCAL-1", category=CARDS)  # the suppliers' game cards
    await platform.upstreams.map_category("dj", "games", CARDS, actor=ADMIN)
    report = await platform.upstreams.sync("dj")
    assert report.created == 2
    assert await _where(platform) == {
        "LOCAL-1 card": CARDS,
        "Steam 100": CARDS,  # the upstream's "Games", mapped
        "Netflix 1M": "Imported",  # "Video", unmapped: the upstream's default
    }
    names = {line.name for line in await platform.storefront.categories()}
    assert "Games" not in names and "Video" not in names
    detail = await platform.upstreams.show("dj")
    assert detail.default_category == "Imported"
    assert [(s.upstream_category, s.category) for s in detail.shelves] == [("games", CARDS)]


async def test_a_moved_sku_stays_where_the_operator_put_it_through_syncs(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    await make_sku(platform, "LOCAL-1", category=CARDS)
    await platform.upstreams.sync("dj")
    steam = await _code(platform, "Steam 100")
    moved = await platform.pricing_admin.move_sku(None, steam, CARDS)
    assert moved.sku.category == CARDS
    # a later mapping elsewhere and a price change at the upstream: the sync re-prices and
    # keeps the SKU where the operator put it
    await platform.upstreams.map_category("dj", "Games", "Video streams", actor=ADMIN, create=True)
    fake.catalogue.set_price(1, 90_00)
    report = await platform.upstreams.sync("dj")
    assert report.repriced == 1
    where = await _where(platform)
    assert where["Steam 100"] == CARDS
    assert where["Netflix 1M"] == "Imported"
    # everything moved out of "Imported": resellers no longer see it
    netflix = await _code(platform, "Netflix 1M")
    await platform.pricing_admin.move_sku(None, netflix, CARDS)
    await platform.upstreams.sync("dj")
    assert [line.name for line in await platform.storefront.categories()] == [CARDS]


async def test_moving_a_sku_is_audited_once_and_refuses_an_unknown_category(
    platform: Platform,
) -> None:
    await make_reseller(platform, RESELLER)
    await make_sku(platform, "STEAM-100", category="Steam")
    await make_sku(platform, "PSN-50", category=CARDS)
    with pytest.raises(NotFound) as refused:
        await platform.pricing_admin.move_sku(None, "STEAM-100", "Gmaes")
    assert refused.value.params["known"] == f"Steam, {CARDS}"
    with pytest.raises(Forbidden):
        await platform.pricing_admin.move_sku(RESELLER, "STEAM-100", CARDS)
    await platform.pricing_admin.move_sku(None, "steam-100", CARDS)
    again = await platform.pricing_admin.move_sku(None, "STEAM-100", CARDS)  # no change
    assert again.sku.category == CARDS
    created = await platform.pricing_admin.move_sku(None, "PSN-50", "PlayStation", create=True)
    assert created.sku.category == "PlayStation"
    async with platform.db.reading() as session:
        rows = list(
            await session.execute(
                select(AuditRecord.subject, AuditRecord.payload).where(
                    AuditRecord.action == "sku.move"
                )
            )
        )
    assert len(rows) == 2
    assert rows[0][0] == "sku:STEAM-100" and "Steam" in rows[0][1] and CARDS in rows[0][1]
    # "Steam" is empty now: not shown to resellers
    assert {line.name for line in await platform.storefront.categories()} == {
        CARDS,
        "PlayStation",
    }


async def test_mapping_refuses_an_unknown_category_and_can_be_undone(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    with pytest.raises(NotFound):
        await platform.upstreams.map_category("dj", "Games", "Nowhere", actor=ADMIN)
    await platform.upstreams.map_category("dj", "Games", "Cards", actor=ADMIN, create=True)
    assert await platform.upstreams.map_category("dj", "GAMES", None, actor=ADMIN) is None
    assert (await platform.upstreams.show("dj")).shelves == []
    with pytest.raises(NotFound):
        await platform.upstreams.map_category("dj", "Games", None, actor=ADMIN)
    await platform.upstreams.sync("dj")
    assert set((await _where(platform)).values()) == {"Imported"}

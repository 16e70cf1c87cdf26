"""Upstream sync on a real database against fake upstreams over HTTP: SKUs created and
priced, re-priced (logged), stock mirrored, suspended and resumed, a failing sync that
changes nothing and alerts the admins once, and once more when it recovers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from core.checks import check_ledger
from core.decisions.account_fields import PERMISSIVE
from core.decisions.fulfilment import AccountField, make_field
from core.decisions.sale import MAX_QUANTITY
from core.errors import InvalidInput, NotFound, UnknownProtocol
from core.jobs import JobRunner
from core.models import AuditRecord, OutboxMessage, Role, Sku, SkuStatus, Upstream
from core.platform import Platform
from core.upstreams.service import UPSTREAM_ALERT, UPSTREAM_SYNC, NewUpstream
from core.vitals import read_vitals
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeKameng, FakeProduct
from sandbox.fake_upstream.base import FakeUpstream
from tests.conftest import FakeClock
from tests.factories import ADMIN, make_reseller
from tests.factories import make_sku as make_sku_local

RESELLER = 1001
ADMINS = (42, 43)


def _catalogue() -> Catalogue:
    c = Catalogue()
    c.add(FakeProduct(1, "Steam 100", cost=92_00, face_value=100_00, stock=40))
    c.add(FakeProduct(2, "iTunes 50", cost=45_00, face_value=50_00, stock=None))
    c.add(FakeProduct(3, "PSN 200", cost=185_00, face_value=200_00, stock=3))
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


def _new(fake: FakeUpstream, **extra: int) -> NewUpstream:
    if isinstance(fake, FakeDujiao):
        return NewUpstream("dj", "dujiao", fake.base_url, fake.key, fake.secret, **extra)  # type: ignore[arg-type]
    assert isinstance(fake, FakeKameng)
    return NewUpstream("dj", "kameng", fake.base_url, fake.key, "", **extra)  # type: ignore[arg-type]


async def _ready(platform: Platform, fake: FakeUpstream, markup_bps: int = 800) -> None:
    await make_reseller(platform, RESELLER)
    for admin in ADMINS:
        await platform.catalogue.grant_role(admin, Role.ADMIN, actor=ADMIN)
    await platform.upstreams.add(_new(fake, markup_bps=markup_bps), actor=ADMIN)


async def _shelf(platform: Platform) -> dict[str, tuple[int, int | None]]:
    page = await platform.storefront.skus(RESELLER, limit=50)
    return {line.name: (line.my_price, line.stock) for line in page.lines}


async def _alerts(platform: Platform) -> list[str]:
    async with platform.db.reading() as session:
        rows = await session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.kind == UPSTREAM_ALERT)
        )
        return list(rows)


async def test_sync_lists_the_upstream_products_priced_with_their_stock(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    report = await platform.upstreams.sync("dj")
    assert (report.ok, report.created, report.products) == (True, 3, 3)
    # 8 % over cost, held to the face value: 92.00 → 99.36; 45.00 → 48.60; 185.00 → 199.80
    assert await _shelf(platform) == {
        "Steam 100": (99_36, 40),
        "iTunes 50": (48_60, None),  # unlimited at the upstream
        "PSN 200": (199_80, 3),
    }
    detail = await platform.upstreams.show("dj")
    assert detail.upstream.skus == detail.upstream.on_sale == 3
    assert detail.upstream.last_error is None
    assert detail.upstream.last_balance == fake.catalogue.balance
    assert [c.kind for c in detail.changes] == ["created"] * 3
    # a second sync with nothing new changes nothing
    again = await platform.upstreams.sync("dj")
    assert (again.created, again.repriced, again.suspended) == (0, 0, 0)


async def test_a_price_change_reprices_and_is_logged_and_stock_follows(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    await platform.upstreams.sync("dj")
    fake.catalogue.set_price(1, 90_00)  # cheaper upstream: 90.00 + 8 % = 97.20
    fake.catalogue.set_price(3, 190_00)  # 205.20 would pass the face value: held to 200.00
    fake.catalogue.set_stock(1, 7)
    report = await platform.upstreams.sync("dj")
    assert report.repriced == 2
    shelf = await _shelf(platform)
    assert shelf["Steam 100"] == (97_20, 7)
    assert shelf["PSN 200"] == (200_00, 3)
    log = {
        (c.sku_code, c.old_value, c.new_value)
        for c in await platform.upstreams.changes("dj")
        if c.kind == "repriced"
    }
    codes = {c.sku_code for c in await platform.upstreams.changes("dj") if c.kind == "created"}
    assert {(old, new) for _, old, new in log} == {(99_36, 97_20), (199_80, 200_00)}
    assert {code for code, _, _ in log} <= codes
    async with platform.db.reading() as session:
        audits = await session.scalar(
            select(func.count()).where(AuditRecord.action == "upstream.sync")
        )
    assert audits == 2  # the first sync (created) and the re-pricing one


async def test_a_gone_or_stopped_product_is_suspended_then_resumed(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    await platform.upstreams.sync("dj")
    fake.catalogue.remove(2)
    fake.catalogue.products[3].selling = False
    report = await platform.upstreams.sync("dj")
    assert report.suspended == 2
    assert set(await _shelf(platform)) == {"Steam 100"}
    async with platform.db.reading() as session:
        statuses = set(await session.scalars(select(Sku.status)))
    assert statuses == {SkuStatus.ACTIVE, SkuStatus.SUSPENDED}  # suspended, not deleted
    fake.catalogue.add(FakeProduct(2, "iTunes 50", cost=45_00, face_value=50_00, stock=9))
    fake.catalogue.products[3].selling = True
    back = await platform.upstreams.sync("dj")
    assert (back.resumed, back.created) == (2, 0)
    assert (await _shelf(platform))["iTunes 50"] == (48_60, 9)


async def test_an_admin_suspension_is_not_undone_by_the_sync(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    await platform.upstreams.sync("dj")
    code = next(c.sku_code for c in await platform.upstreams.changes("dj") if c.kind == "created")
    assert code is not None
    await platform.catalogue.set_sku_status(code, SkuStatus.SUSPENDED, actor=ADMIN)
    report = await platform.upstreams.sync("dj")
    assert report.resumed == 0
    assert len(await _shelf(platform)) == 2


async def test_a_failing_sync_changes_nothing_and_alerts_once_then_recovery_once(
    platform: Platform, fake: FakeUpstream, clock: FakeClock
) -> None:
    await _ready(platform, fake)
    await platform.upstreams.sync("dj")
    before = await _shelf(platform)
    fake.catalogue.failing = 502
    fake.catalogue.set_price(1, 50_00)
    for _ in range(3):
        clock.advance(minutes=15)
        report = await platform.upstreams.sync("dj")
        assert not report.ok and report.error == "http 502"
    assert await _shelf(platform) == before
    alerts = await _alerts(platform)
    assert len(alerts) == len(ADMINS)  # once per admin, not once per run
    assert all('"failed"' in a for a in alerts)
    assert (await platform.upstreams.show("dj")).upstream.last_error == "http 502"
    fake.catalogue.failing = None
    clock.advance(minutes=15)
    report = await platform.upstreams.sync("dj")
    assert report.ok and report.alerted
    alerts = await _alerts(platform)
    assert len(alerts) == 2 * len(ADMINS)
    assert sum('"recovered"' in a for a in alerts) == len(ADMINS)
    kinds = [c.kind for c in await platform.upstreams.changes("dj")]
    assert kinds.count("failed") == 1 and kinds.count("recovered") == 1


async def test_an_unreachable_upstream_fails_the_sync(platform: Platform) -> None:
    await make_reseller(platform, RESELLER)
    await platform.upstreams.add(
        NewUpstream("gone", "kameng", "http://127.0.0.1:9", "k", ""), actor=ADMIN
    )
    report = await platform.upstreams.sync("gone")
    assert not report.ok and report.error
    assert await _shelf(platform) == {}


async def test_a_category_rule_wins_and_face_below_cost_is_not_sold(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake, markup_bps=0)
    fake.catalogue.products[1].category = "Steam"
    await platform.upstreams.set_rule(
        "dj", category="Steam", markup_bps=0, markup_fixed=3_00, round_to=100, actor=ADMIN
    )
    # both protocols name the product's category; mapped to ours, our category's rule applies
    await platform.upstreams.map_category("dj", "steam", "Steam", actor=ADMIN)
    fake.catalogue.add(FakeProduct(4, "Broken", cost=60_00, face_value=50_00))
    await platform.upstreams.sync("dj")
    shelf = await _shelf(platform)
    assert shelf["Steam 100"] == (95_00, 40)
    assert shelf["iTunes 50"] == (45_00, None)  # "Games", unmapped: the default, no markup
    assert "Broken" not in shelf
    suspended = [c for c in await platform.upstreams.changes("dj") if c.kind == "created"]
    assert len(suspended) == 4


async def test_secrets_are_encrypted_at_rest_and_refusals(platform: Platform) -> None:
    view = await platform.upstreams.add(
        NewUpstream("up1", "dujiao", "https://up.example", "KEY-PLAIN", "SECRET-PLAIN"),
        actor=ADMIN,
    )
    assert "SECRET" not in repr(NewUpstream("x", "dujiao", "https://u", "k", "SECRET"))
    async with platform.db.reading() as session:
        row = await session.scalar(select(Upstream).where(Upstream.id == view.id))
        assert row is not None
        assert b"KEY-PLAIN" not in row.key_cipher and b"SECRET-PLAIN" not in row.secret_cipher
    with pytest.raises(InvalidInput):
        await platform.upstreams.add(NewUpstream("up1", "dujiao", "https://u", "k"), actor=ADMIN)
    with pytest.raises(UnknownProtocol):
        await platform.upstreams.add(NewUpstream("up2", "soap", "https://u", "k"), actor=ADMIN)
    with pytest.raises(InvalidInput):
        await platform.upstreams.add(NewUpstream("up3", "kameng", "ftp://u", "k"), actor=ADMIN)
    with pytest.raises(NotFound):
        await platform.upstreams.sync("nobody")


async def test_the_scheduled_sync_runs_and_schedules_the_next(
    platform: Platform, fake: FakeUpstream, clock: FakeClock
) -> None:
    await _ready(platform, fake)
    jobs = await platform.jobs.jobs(kind_prefix=UPSTREAM_SYNC)
    assert len(jobs) == 1  # the first sync is scheduled when the upstream is added
    assert jobs[0].run_at == clock.now() + timedelta(minutes=15)
    clock.advance(minutes=15)
    runner = JobRunner(
        platform.jobs,
        {UPSTREAM_SYNC: platform.upstreams.run_sync_job},
        platform.clock,
        grace=timedelta(hours=1),
        lease=timedelta(minutes=5),
    )
    result = await runner.tick()
    assert result is not None
    assert len(await _shelf(platform)) == 3
    pending = [
        j for j in await platform.jobs.jobs(kind_prefix=UPSTREAM_SYNC) if j.status == "pending"
    ]
    assert len(pending) == 1 and pending[0].run_at > clock.now()


async def test_ledger_check_proves_upstream_prices_stay_within_cost_and_face(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    await platform.upstreams.sync("dj")
    fake.catalogue.set_price(1, 99_00)
    await platform.upstreams.sync("dj")
    assert (await check_ledger(platform.db)).ok
    async with platform.db.transaction() as session:  # a price written around the rule
        await session.execute(update(Sku).where(Sku.code == "U1-SKU1").values(default_price=101_00))
        await session.execute(update(Sku).where(Sku.code == "U1-1").values(default_price=101_00))
    report = await check_ledger(platform.db)
    assert list(report.problems) == [
        "upstream SKUs on sale below their upstream cost or above its face value"
    ]


async def test_a_skus_listing_names_its_upstream_product(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    fake.catalogue.add(FakeProduct(5, "MLBB 86", cost=18_40, direct_fields=("user_id", "zone")))
    await platform.upstreams.sync("dj")
    created = {c.detail: c.sku_code for c in await platform.upstreams.changes("dj")}
    steam = created.get("1") or created.get("SKU1")  # Dujiao-Next's SKU id; a Kameng's code
    assert steam is not None
    listing = await platform.upstreams.listing(steam)
    assert listing is not None
    assert (listing.upstream, listing.cost, listing.stock) == ("dj", 92_00, 40)
    if isinstance(fake, FakeDujiao):  # Dujiao-Next names a direct top-up's form fields
        direct = await platform.upstreams.listing(created["5"] or "")
        assert direct is not None
        names = tuple(f.name for f in direct.account_fields)
        assert (direct.kind.value, names) == ("direct", ("user_id", "zone"))
    await make_sku_local(platform)
    assert await platform.upstreams.listing("STEAM-100") is None
    with pytest.raises(NotFound):
        await platform.upstreams.listing("NOPE-1")


async def _direct_listing(platform: Platform, fake: FakeUpstream, product: FakeProduct):  # type: ignore[no-untyped-def]
    fake.catalogue.add(product)
    await platform.upstreams.sync("dj")
    created = {c.detail: c.sku_code for c in await platform.upstreams.changes("dj")}
    code = created.get(str(product.id)) or created.get(f"SKU{product.id}")
    listing = await platform.upstreams.listing(code or "")
    assert listing is not None and listing.kind.value == "direct"
    return listing


async def test_a_direct_top_ups_fields_keep_what_the_upstream_says_of_them(
    platform: Platform, fake: FakeUpstream
) -> None:
    """A Kameng sends each field's labels, pattern and whether it is required; Dujiao-Next
    its label (a locale map), regex and ``required``: both arrive as the field a local
    direct SKU would ask for."""
    await _ready(platform, fake)
    fields = (
        make_field("role", r"[0-9]{6,10}", "Role ID", "角色ID"),
        make_field("realm", r"(?:asia|eu)", "Realm", "大区"),
        AccountField("remark", r"\S.*", "Remark", "备注", required=False),
    )
    listing = await _direct_listing(
        platform, fake, FakeProduct(5, "Game", 1_00, direct_fields=fields)
    )
    assert listing.account_fields == fields


async def test_an_undescribed_field_is_labelled_from_the_well_known_fields(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    product = FakeProduct(5, "MLBB 86", cost=18_40, direct_fields=("user_id", "zone_id", "hero"))
    listing = await _direct_listing(platform, fake, product)
    labels = [(f.name, f.label_en, f.label_zh) for f in listing.account_fields]
    assert labels == [
        ("user_id", "Game user ID", "游戏用户ID"),
        ("zone_id", "Server (zone) ID", "区服ID"),
        ("hero", "hero", "hero"),  # unknown: its name
    ]


async def test_a_pattern_that_could_hang_us_accepts_any_value_and_is_logged_once(
    platform: Platform, fake: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    await _ready(platform, fake)
    risky = AccountField("uid", r"([0-9]+)+", "Player ID", "玩家ID")  # nested quantifier
    caplog.set_level(logging.WARNING, logger="kameng.upstreams")
    listing = await _direct_listing(
        platform, fake, FakeProduct(5, "G", 1_00, direct_fields=(risky,))
    )
    await platform.upstreams.sync("dj")  # the next sync says nothing more of it
    [field] = listing.account_fields
    assert (field.label_en, field.pattern) == ("Player ID", PERMISSIVE)
    said = [r.getMessage() for r in caplog.records if "unusable" in r.getMessage()]
    assert len(said) == 1 and "uid" in said[0]


async def test_two_syncs_at_once_create_each_sku_once(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    reports = await asyncio.gather(*(platform.upstreams.sync("dj") for _ in range(3)))
    assert all(r.ok for r in reports)
    assert sum(r.created for r in reports) == 3
    assert len(await _shelf(platform)) == 3


async def test_stock_counts_and_vitals_read_the_upstreams_stock(
    platform: Platform, fake: FakeUpstream
) -> None:
    await _ready(platform, fake)
    await platform.upstreams.sync("dj")
    await make_sku_local(platform, stock=2)
    codes = {c.new_value: c.sku_code for c in await platform.upstreams.changes("dj")}
    steam, itunes = codes[99_36], codes[48_60]
    assert steam is not None and itunes is not None
    assert await platform.catalogue.stock_count(steam) == 40
    assert await platform.catalogue.stock_count(itunes) is None  # unlimited there
    assert await platform.catalogue.stock_count("STEAM-100") == 2
    vitals = await read_vitals(platform.db, platform.clock, low_stock_below=5)
    left = {s.sku: s.available for s in vitals.stock}
    assert left == {steam: 40, codes[199_80]: 3, "STEAM-100": 2}
    # a quote counts by the same rule (``upstream_stock``); unlimited: as much as one order
    quoted = {sku: (await platform.quotes.quote(RESELLER, sku, 1)).stock for sku in left}
    assert quoted == left
    assert (await platform.quotes.quote(RESELLER, itunes, 1)).stock == MAX_QUANTITY


async def test_secrets_and_codes_stay_out_of_the_logs(
    platform: Platform, fake: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _ready(platform, fake)
    await platform.upstreams.sync("dj")
    adapter = await platform.upstreams.adapter("dj")
    order = await adapter.place_order("K-LOG", "1" if isinstance(fake, FakeDujiao) else "SKU1", 1)
    logging.getLogger("test").info("placed %r via %r", order, adapter)
    secret = fake.secret if isinstance(fake, FakeDujiao) else fake.key  # type: ignore[attr-defined]
    assert secret not in caplog.text
    assert "FAKE-K-LOG" not in caplog.text

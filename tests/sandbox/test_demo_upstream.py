"""The demo with its upstream: a fake Dujiao-Next running beside it is registered and
synced, so its products are on the shelves at the upstream's cost + 6 %, with the
upstream's stock, and the books and the audit chain still check out."""

from __future__ import annotations

from datetime import UTC, datetime

from core import audit
from core.checks import check_ledger
from core.db import Database
from core.platform import build_platform
from core.settings import Settings
from sandbox.demo import build_demo
from sandbox.demo_categories import GAMES
from sandbox.demo_upstream import NAME, DemoUpstream, demo_catalogue
from sandbox.fake_upstream import FakeDujiao
from sandbox.personas import RESELLER_GOLD

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


async def test_the_demo_lists_the_upstream_products(settings: Settings, db: Database) -> None:
    async with FakeDujiao(demo_catalogue(), now=NOW.timestamp) as fake:
        upstream = DemoUpstream(fake.base_url, fake.key, fake.secret)
        await build_demo(settings, now=NOW, upstream=upstream)
        platform = build_platform(settings, db=db)
        detail = await platform.upstreams.show(NAME)
        assert detail.upstream.on_sale == detail.upstream.skus == 4
        assert detail.upstream.last_error is None
        page = await platform.storefront.skus(RESELLER_GOLD.telegram_id, search="Google Play")
        (line,) = page.lines
        assert (line.my_price, line.stock) == (98_58, 120)  # 93.00 + 6 %, the upstream's 120
        genshin = await platform.storefront.skus(RESELLER_GOLD.telegram_id, search="Genshin")
        assert [line.stock for line in genshin.lines] == [None]  # unlimited there
        # shelved with the suppliers' game cards, not in a category named after the source
        shelves = await platform.storefront.categories()
        assert not [c.name for c in shelves if "Upstream" in c.name]
        (games,) = [c for c in shelves if c.name == GAMES]
        on_games = await platform.storefront.skus(
            RESELLER_GOLD.telegram_id, category_id=games.id, limit=50
        )
        assert {"Google Play 100", "Razer Gold 50"} <= {line.name for line in on_games.lines}
        assert (await check_ledger(db)).ok
        assert (await audit.verify(db)).ok
        views = await platform.upstreams.all()
        assert [v.name for v in views] == [NAME]
        assert {c.kind for c in detail.changes} == {"created"}  # no failure, no alert

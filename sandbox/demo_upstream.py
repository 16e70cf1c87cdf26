"""The sandbox's upstream: a fake Dujiao-Next (``sandbox/fake_upstream``) running inside
``kameng sandbox``, registered and synced in the demo so its products show in the
catalogue beside the suppliers' own, marked up by the upstream's price rule."""

from __future__ import annotations

from dataclasses import dataclass

from core.decisions.fulfilment import make_field
from core.platform import Platform
from core.upstreams.service import NewUpstream, SyncReport
from sandbox.demo_categories import GAMES
from sandbox.fake_upstream import Catalogue, FakeDujiao, FakeProduct

NAME = "demo-dujiao"
KEY = "demo-dujiao-key"
SECRET = "demo-dujiao-secret"  # a fake's, in the open: nothing real is behind it
MARKUP_BPS = 600  # 6 % over the upstream's cost
OPERATOR = "operator:sandbox"


@dataclass(frozen=True)
class DemoUpstream:
    base_url: str
    key: str = KEY
    secret: str = SECRET


#: the demo's direct top-up asks for the ids a Mobile Legends top-up needs, described as a
#: Dujiao-Next upstream describes its form fields
GAME_USER_ID = make_field(
    "user_id", r"[0-9]{5,12}", "Game user ID", "游戏用户ID",
    hint_en="5 to 12 digits", hint_zh="5-12位数字",
)  # fmt: skip
ZONE_ID = make_field("zone_id", r"[0-9]{1,6}", "Server (zone) ID", "区服ID")


def demo_catalogue() -> Catalogue:
    catalogue = Catalogue(balance=50_000_00)
    catalogue.add(FakeProduct(101, "Google Play 100", cost=93_00, face_value=100_00, stock=120))
    catalogue.add(FakeProduct(102, "Razer Gold 50", cost=46_50, face_value=50_00, stock=35))
    catalogue.add(
        FakeProduct(103, "Genshin Impact 60 Crystals", cost=28_00, face_value=30_00, stock=None)
    )
    catalogue.add(
        FakeProduct(
            104, "Mobile Legends 86 diamonds", cost=18_40, face_value=20_00, stock=None,
            direct_fields=(GAME_USER_ID, ZONE_ID),
        )
    )  # fmt: skip
    return catalogue


def fake_upstream(port: int = 0) -> FakeDujiao:
    return FakeDujiao(demo_catalogue(), key=KEY, secret=SECRET, port=port)


async def add_demo_upstream(platform: Platform, upstream: DemoUpstream | None) -> SyncReport | None:
    """Registers the running fake upstream and syncs it (nothing without one)."""
    if upstream is None:
        return None
    new = NewUpstream(
        NAME, "dujiao", upstream.base_url, upstream.key, upstream.secret,
        category=GAMES, markup_bps=MARKUP_BPS,
    )  # fmt: skip
    await platform.upstreams.add(new, actor=OPERATOR)
    return await platform.upstreams.sync(NAME, actor=OPERATOR)


async def point_at(platform: Platform, upstream: DemoUpstream) -> None:
    """A kept sandbox's fake upstream listens on a new port each start."""
    names = {view.name for view in await platform.upstreams.all()}
    if NAME in names:
        await platform.upstreams.set_url(NAME, upstream.base_url, actor=OPERATOR)

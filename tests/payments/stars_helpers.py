"""What the Stars tests share: settings with Stars on at ¥0.20 a star, the ledger proof."""

from __future__ import annotations

from core.checks import check_ledger
from core.platform import Platform
from core.settings import Settings
from tests.conftest import TEST_SECRET

FEN_PER_STAR = 20


def stars_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        stars_enabled=True,
        stars_fen_per_star=FEN_PER_STAR,
        _env_file=None,
    )


async def ledger_ok(platform: Platform) -> None:
    report = await check_ledger(platform.db)
    assert report.ok, report.problems

"""Importing codes: exact counts, encrypted at rest, never in the database file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.delivery.importer import RejectedLine
from core.platform import Platform
from tests.conftest import POSTGRES_URL
from tests.factories import make_sku


async def test_counts_are_exact_and_rejected_lines_come_back(platform: Platform) -> None:
    await make_sku(platform, "GAME-50", stock=0)
    await platform.stock.import_codes("GAME-50", ["ALREADY-1", "ALREADY-2"], actor="t")
    lines = [
        "  CODE-A  ",
        "CODE-B",
        "",
        "   ",
        "CODE-A",
        "ALREADY-1",
        "x" * 1001,
        "bad\x07bell",
        "CODE-C\n",
        "code-c",
        "CODE-B",
    ]
    rejected: list[RejectedLine] = []

    report = await platform.stock.import_codes(
        "GAME-50", lines, actor="t", batch_size=3, on_rejected=rejected.append
    )

    assert (
        report.added,
        report.duplicate_in_file,
        report.duplicate_on_platform,
        report.invalid,
    ) == (4, 2, 1, 2)
    assert sorted((r.line_no, r.reason) for r in rejected) == [
        (5, "duplicate_in_file"),
        (6, "duplicate_on_platform"),
        (7, "too_long"),
        (8, "control_chars"),
        (11, "duplicate_in_file"),
    ]
    assert "CODE" not in repr(rejected)  # codes stay out of anything that gets logged
    assert await platform.catalogue.stock_count("GAME-50") == 6


async def test_a_code_on_another_sku_is_a_platform_duplicate(platform: Platform) -> None:
    await make_sku(platform, "GAME-50", stock=0)
    await make_sku(platform, "GAME-100", stock=0)
    await platform.stock.import_codes("GAME-50", ["SHARED-CODE"], actor="t")
    report = await platform.stock.import_codes("GAME-100", [" SHARED-CODE "], actor="t")
    assert report.added == 0 and report.duplicate_on_platform == 1


@pytest.mark.skipif(bool(POSTGRES_URL), reason="reads the SQLite file's raw bytes")
async def test_the_database_file_holds_no_plaintext_code(
    platform: Platform, tmp_path: Path
) -> None:
    codes = await make_sku(platform, stock=50)
    await platform.db.dispose()  # flush the WAL into the main file
    raw = await asyncio.to_thread(_database_bytes, tmp_path)
    assert len(raw) > 0
    for code in codes:
        assert code.encode() not in raw
        assert code.split("-SECRET")[0].encode() not in raw


def _database_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("kameng.db*")))

"""Helpers shared by the benchmarks: fresh databases, the seed data, small printing aids.

The benches run as scripts (``python bench/checkout.py``), so this module is imported as
``_common`` from the script's own directory.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from core import schema
from core.catalogue import NewSku
from core.db import Database
from core.models import Role, SkuStatus
from core.platform import Platform, build_platform
from core.settings import Settings

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
BENCH_SECRET = "bench-secret-key-0123456789abcdef0123456789"
ADMIN = "bench:admin"
SUPPLIER_TID = 900
SKU = "BENCH-100"
SUPPLY_PRICE = 85_00
PRICE = 92_00


def sqlite_url(directory: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{directory / name}"


def asyncpg_dsn(url: str) -> str:
    """``postgresql+asyncpg://…`` → the plain DSN asyncpg itself accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_name(url: str) -> str:
    return make_url(url).database or ""


async def prepare_postgres(url: str, *, allow_any: bool = False) -> None:
    """Create the database if missing, then wipe and recreate its ``public`` schema.

    Refuses a database whose name does not contain "bench" (the test suite uses ``test``
    concurrently) unless ``allow_any``."""
    name = database_name(url)
    if not allow_any and "bench" not in name:
        sys.exit(f"refusing to wipe database {name!r}: its name lacks 'bench' (--allow-wipe)")
    admin_dsn = asyncpg_dsn(str(make_url(url).set(database="postgres")))
    admin = await asyncpg.connect(admin_dsn)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        await connection.execute("CREATE SCHEMA public")
    finally:
        await connection.close()


async def fresh_platform(url: str, *, pool_size: int = 10) -> Platform:
    """A freshly migrated database (the caller has emptied a PostgreSQL one first)."""
    settings = Settings(
        database_url=url,
        secret_key=BENCH_SECRET,
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings init-only option
    )
    db = Database(url, pool_size=pool_size)
    await schema.upgrade(db)
    return build_platform(settings, db=db)


async def seed_sku(platform: Platform) -> None:
    """A supplier and one active, unique-stock SKU (92.00 for 85.00 supply), no codes yet."""
    await platform.catalogue.grant_role(SUPPLIER_TID, Role.SUPPLIER, actor=ADMIN)
    await platform.catalogue.add_sku(
        NewSku(
            code=SKU,
            name="Bench 100 card",
            category="Bench",
            supplier_telegram_id=SUPPLIER_TID,
            face_value=100_00,
            supply_price=SUPPLY_PRICE,
            default_price=PRICE,
        ),
        actor=ADMIN,
    )
    await platform.catalogue.set_sku_status(SKU, SkuStatus.ACTIVE, actor=ADMIN)


def codes(count: int, prefix: str = "BENCH") -> Iterator[str]:
    """Distinct, realistic-looking code lines, made one at a time (never a list)."""
    for n in range(count):
        yield f"{prefix}-{n:09d}-{(n * 2_654_435_761) % 4_294_967_296:08X}"


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)

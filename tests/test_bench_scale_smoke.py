"""The scale bench runs end to end at a tiny size (PostgreSQL and Redis, as it needs: one
instance, then two). Nothing asserts a time."""

from __future__ import annotations

import asyncio
import os

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from tests.conftest import drop_postgres, recreate_postgres
from tests.test_bench_smoke import run_bench

POSTGRES = os.environ.get(
    "KAMENG_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test_twoinst"
)
REDIS = "redis://127.0.0.1:6379/1"


async def _why_not(url: str) -> str | None:
    try:
        await recreate_postgres(url)
    except Exception as error:
        return f"no PostgreSQL: {type(error).__name__}"
    client = Redis.from_url(REDIS)
    try:
        await client.ping()
    except (OSError, RedisError) as error:
        return f"no Redis at {REDIS}: {type(error).__name__}"
    finally:
        await client.aclose()
    return None


def test_scale_bench_runs_and_prints_its_ratios() -> None:
    name = f"bench_scale_smoke_{os.getpid()}"
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    why = asyncio.run(_why_not(url))
    if why is not None:
        if os.environ.get("CI"):
            raise RuntimeError(why)
        pytest.skip(why)
    try:
        out = run_bench(
            "scale.py", "--seconds", "0.3", "--clients", "2", "--postgres", url, "--redis", REDIS
        )
    finally:
        asyncio.run(drop_postgres(url))
    for line in (
        "ratio api: two/one =",
        "ratio bot: two/one =",
        "1 instance ",
        "2 instances",
        "OK: the ledger balances",
    ):
        assert line in out, out
    assert "ERROR line" not in out, out

"""Telegram Stars' pre-checkout answer under load: how long ``Stars.pre_checkout`` (what the
bot does before answering Telegram, which wants the answer within 10 seconds) takes alone,
and while resellers buy at once on the same database.

    .venv/bin/python bench/stars_checkout.py [--queries 200] [--buyers 8] [--purchases 50]

A fresh SQLite file: ``--queries`` open Stars payments; their pre-checkout reads timed one
after another (idle), then again while ``--buyers`` resellers each make ``--purchases``
one-code purchases concurrently. Printed: medians, the slowest answer, ratios to idle and to
Telegram's deadline, and the ledger check. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import SKU, codes, fresh_platform, seed_sku, sqlite_url, table

from core.checks import check_ledger
from core.decisions.stars import Accept
from core.platform import Platform, build_platform

DEADLINE_SECONDS = 10.0
PAYER_BASE = 50_000
BUYER_BASE = 60_000


async def _open_payments(platform: Platform, count: int) -> list[tuple[str, int, int]]:
    opened = []
    for n in range(count):
        telegram_id = PAYER_BASE + n
        await platform.catalogue.ensure_user(telegram_id, username=f"p{n}", language="en")
        created = await platform.payments.create(telegram_id, "stars", 100_00)
        opened.append((created.payment.id, telegram_id, int(created.payment.provider_amount or 0)))
    return opened


async def _answer_times(platform: Platform, opened: list[tuple[str, int, int]]) -> list[float]:
    times = []
    for payment_id, payer, stars in opened:
        began = time.perf_counter()
        answer = await platform.stars.pre_checkout(
            payment_id, payer=payer, currency="XTR", total_amount=stars
        )
        times.append(time.perf_counter() - began)
        if answer != Accept():
            sys.exit(f"pre-checkout refused {payment_id}: {answer}")
    return times


async def _buy(platform: Platform, telegram_id: int, purchases: int) -> None:
    for n in range(purchases):
        await platform.shop.buy_now(telegram_id, SKU, 1, idempotency_key=f"b{telegram_id}-{n}")


async def bench(url: str, queries: int, buyers: int, purchases: int) -> list[str]:
    base = await fresh_platform(url)
    platform = build_platform(
        base.settings.model_copy(update={"stars_enabled": True, "stars_fen_per_star": 20}),
        db=base.db,
    )
    await seed_sku(platform)
    await platform.stock.import_codes(SKU, codes(buyers * purchases), actor="bench")
    for n in range(buyers):
        await platform.catalogue.ensure_user(BUYER_BASE + n, username=f"b{n}", language="en")
        await platform.balances.top_up(
            BUYER_BASE + n,
            purchases * 100_00,
            idempotency_key=f"seed-{n}",
            note="bench",
            actor="bench",
        )
    opened = await _open_payments(platform, queries)
    await _answer_times(platform, opened)  # warm: connections opened, pages cached
    idle = await _answer_times(platform, opened)
    results = await asyncio.gather(
        _answer_times(platform, opened),
        *(_buy(platform, BUYER_BASE + n, purchases) for n in range(buyers)),
    )
    loaded = results[0]
    report = await check_ledger(platform.db)
    await platform.close()
    idle_median, loaded_median = statistics.median(idle), statistics.median(loaded)
    worst = max(loaded)
    rows = [
        ["idle", f"{idle_median * 1000:.2f}", f"{max(idle) * 1000:.2f}"],
        [f"{buyers} buyers buying", f"{loaded_median * 1000:.2f}", f"{worst * 1000:.2f}"],
    ]
    return [
        table(["pre-checkout", "median ms", "slowest ms"], rows),
        f"ratio sqlite: pre-checkout median under load/idle = {loaded_median / idle_median:.2f}",
        f"ratio sqlite: slowest answer/Telegram's deadline = {worst / DEADLINE_SECONDS:.5f}",
        "OK: the ledger balances" if report.ok else f"LEDGER PROBLEMS: {report.problems}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--purchases", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = sqlite_url(Path(directory), "stars.db")
        lines = asyncio.run(bench(url, args.queries, args.buyers, args.purchases))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

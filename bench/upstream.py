"""Purchases per second of an upstream's SKU, beside local-stock purchases in the same run.

    .venv/bin/python bench/upstream.py [--seconds 5] [--upstream-buyers 16]
                                       [--local-buyers 4] [--delays 0,0.2]

One fresh SQLite database, seeded through the core: a supplier's SKU with codes in stock
(local), and a fake Kameng upstream (``sandbox/fake_upstream``, in this process, over HTTP
on 127.0.0.1) added with ``kameng upstream add`` 's use case and synced. For each delay (the
upstream answering at once, then after 200 ms):

* local alone - ``--local-buyers`` tasks buy one local code after another (``buy_now``);
* mixed - the same local buyers while ``--upstream-buyers`` tasks buy the upstream's SKU
  (each purchase: the sale, then the order placed upstream and its codes stored).

Printed: purchases/s of each, the ratio local-while-upstream / local-alone, and how late a
5 ms timer wakes during the mixed run (the event loop's lag: a few ms means the loop keeps
serving other buyers while upstream calls wait in worker threads, ``core/upstreams/http.py``).
On SQLite the ratio falls below 1 because every writer shares one lock: each upstream
purchase writes twice (the sale with its hold, then the delivery settled) and reads three
times, and the upstream buyers outnumber the local ones. Then the ledger check
must hold. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import ADMIN, SKU, codes, fresh_platform, seed_sku, sqlite_url, table

from core.checks import check_ledger
from core.orders import Receipt
from core.platform import Platform
from core.upstreams.service import NewUpstream
from sandbox.fake_upstream import Catalogue, FakeKameng, FakeProduct

LOCAL_BASE = 10_000  # telegram ids of local buyers
UPSTREAM_BASE = 20_000  # and of upstream buyers


@dataclass
class Count:
    purchases: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.purchases / self.seconds if self.seconds else 0.0


async def _loop(
    buyers: int, base: int, sku: str, seconds: float, tag: str, platform: Platform
) -> Count:
    """``buyers`` tasks buying one unit after another for ``seconds``."""
    count = Count()
    stop = time.perf_counter() + seconds

    async def one(buyer: int) -> None:
        n = 0
        while time.perf_counter() < stop:
            n += 1
            key = f"{tag}-{buyer}-{n}"
            result = await platform.shop.buy_now(base + buyer, sku, 1, idempotency_key=key)
            assert isinstance(result, Receipt) and result.codes, result
            count.purchases += 1

    began = time.perf_counter()
    await asyncio.gather(*(one(b) for b in range(buyers)))
    count.seconds = time.perf_counter() - began
    return count


async def _lag(until: asyncio.Event) -> list[float]:
    """How late a 5 ms sleep wakes, over and over until ``until``: the event loop's lag."""
    lags: list[float] = []
    while not until.is_set():
        began = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append(time.perf_counter() - began - 0.005)
    return lags


async def _seed(platform: Platform, args: argparse.Namespace, fake: FakeKameng) -> str:
    await seed_sku(platform)
    await platform.stock.import_codes(SKU, codes(args.codes), actor=ADMIN)
    for tid in [
        *(LOCAL_BASE + b for b in range(args.local_buyers)),
        *(UPSTREAM_BASE + b for b in range(args.upstream_buyers)),
    ]:
        await platform.catalogue.ensure_user(tid)
        await platform.balances.top_up(
            tid, 10_000_000_00, idempotency_key=f"seed-{tid}", note="seed", actor=ADMIN
        )
    new = NewUpstream("up", "kameng", fake.base_url, fake.key, "", markup_bps=500)  # type: ignore[arg-type]
    await platform.upstreams.add(new, actor=ADMIN)
    await platform.upstreams.sync("up")
    page = await platform.storefront.skus(LOCAL_BASE, limit=10)
    return next(line.code for line in page.lines if line.code != SKU)


async def run(args: argparse.Namespace) -> int:
    catalogue = Catalogue(balance=10**15)
    catalogue.add(FakeProduct(1, "Upstream 50", cost=45_00, face_value=50_00, stock=None))
    rows: list[list[str]] = []
    ratios: list[str] = []
    with tempfile.TemporaryDirectory() as directory:
        platform = await fresh_platform(sqlite_url(Path(directory), "upstream.db"))
        async with FakeKameng(catalogue) as fake:
            upstream_sku = await _seed(platform, args, fake)
            for delay in args.delays:
                fake.answer_delay = delay
                tag = f"d{int(delay * 1000)}"
                alone = await _loop(
                    args.local_buyers, LOCAL_BASE, SKU, args.seconds, f"{tag}-alone", platform
                )
                done = asyncio.Event()
                lag = asyncio.create_task(_lag(done))
                local, upstream = await asyncio.gather(
                    _loop(args.local_buyers, LOCAL_BASE, SKU, args.seconds, f"{tag}-l", platform),
                    _loop(
                        args.upstream_buyers,
                        UPSTREAM_BASE,
                        upstream_sku,
                        args.seconds,
                        f"{tag}-u",
                        platform,
                    ),
                )
                done.set()
                lags = sorted(await lag)
                ratio = local.rate / alone.rate if alone.rate else 0.0
                label = f"{int(delay * 1000)} ms"
                rows.append([label, "local alone", str(alone.purchases), f"{alone.rate:.1f}"])
                rows.append([label, "local (mixed)", str(local.purchases), f"{local.rate:.1f}"])
                rows.append(
                    [label, "upstream (mixed)", str(upstream.purchases), f"{upstream.rate:.1f}"]
                )
                ratios.append(f"ratio local mixed/alone at {label} = {ratio:.2f}")
                ratios.append(
                    f"event loop lag while upstream calls are in flight at {label}: "
                    f"p50 {lags[len(lags) // 2] * 1000:.1f} ms, max {lags[-1] * 1000:.1f} ms"
                )
        print(table(["upstream answers", "buyers", "purchases", "purchases/s"], rows))
        for line in ratios:
            print(line)
        print(f"upstream orders taken: {len(catalogue.orders)}")
        report = await check_ledger(platform.db)
        await platform.db.dispose()
    if not report.ok:
        print("FAILED: the ledger check", file=sys.stderr)
        return 1
    print("OK: the ledger balances")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--local-buyers", type=int, default=4)
    parser.add_argument("--upstream-buyers", type=int, default=16)
    parser.add_argument("--codes", type=int, default=50_000)
    parser.add_argument(
        "--delays", type=lambda text: [float(x) for x in text.split(",")], default=[0.0, 0.2]
    )
    args = parser.parse_args(argv)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())

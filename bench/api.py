"""Orders per second through the reseller HTTP API, beside the core's own quote+buy.

    .venv/bin/python bench/api.py [--db sqlite|postgres] [--seconds 20] [--clients 64]
                                  [--rounds 2] [--postgres URL] [--allow-wipe]
                                  [--profile FILE]

One migrated database (a fresh SQLite file in a temp dir, or PostgreSQL's ``--postgres``
database, default ``bench_api``, whose ``public`` schema is wiped) is seeded through the
core: a supplier, one unique-stock SKU and its codes, and per mode ``--clients`` resellers
with a balance; each API reseller gets its own API key. Then:

* api - ``kameng api serve`` runs as a subprocess on a free port (its own process, as an
  operator runs it); ``--clients`` concurrent aiohttp clients, one reseller and key each,
  place orders one after another for ``--seconds`` / ``--rounds`` a round:
  ``POST /api/v1/orders {"sku", "quantity": 1}`` with a fresh ``Idempotency-Key``, each
  answered 201 with one code (a 429 is waited out and retried with the same key, and
  counted). CPU is the server process's (``/proc/<pid>/stat``).
* core quote+buy - the same number of tasks in this process, each ``Quotes.quote`` then
  ``Shop.buy`` (what ``bench/checkout.py`` times) on this process's Platform, same database;
  CPU is this process's (``resource``), while the server sits idle.

The two alternate in ``--rounds`` rounds so that drift (other processes, disk cache) hits
both alike; a warm-up order per client and mode is never timed. Printed: orders/s of
wall-clock time, p50/p99 latency, CPU ms per order, and the ratio api/core (target:
api >= 0.5 x core). Afterwards ``kameng ledger check``'s proofs and the audit chain must hold
for the whole database. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from _common import (
    ADMIN,
    BENCH_SECRET,
    PRICE,
    SKU,
    codes,
    fresh_platform,
    prepare_postgres,
    seed_sku,
    sqlite_url,
    table,
)
from checkout import Timing

from core import audit
from core.checks import check_ledger
from core.orders import Receipt
from core.platform import Platform
from web.openapi import OPENAPI_PATH

TARGET = 0.5
API, CORE = "api", "core quote+buy"
FIRST_TID = {API: 10_000, CORE: 20_000}
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_api"
MAX_RATE = 500  # orders/s per mode the stock is sized for; more would run out of codes
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    timing: Timing
    cpu_seconds: float = 0.0
    rate_limited: int = 0  # 429s (waited out and retried with the same key)

    def add(self, other: Measured) -> None:
        self.timing.add(other.timing)
        self.cpu_seconds += other.cpu_seconds
        self.rate_limited += other.rate_limited

    @property
    def cpu_ms_per_order(self) -> float:
        return self.cpu_seconds * 1000 / self.timing.purchases


async def for_a_while(
    clients: int, seconds: float, one: Callable[[int, int], Awaitable[None]]
) -> Timing:
    """``one(client, n)`` again and again in each of ``clients`` tasks until ``seconds`` pass
    (at least once each; an order under way when they do still finishes and counts)."""
    latencies: list[float] = []
    began = time.perf_counter()
    deadline = began + seconds

    async def task(client: int) -> None:
        n = 0
        while n == 0 or time.perf_counter() < deadline:
            start = time.perf_counter()
            await one(client, n)
            latencies.append(time.perf_counter() - start)
            n += 1

    await asyncio.gather(*(task(c) for c in range(clients)))
    return Timing(len(latencies), time.perf_counter() - began, latencies)


# the server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far, from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.asynccontextmanager
async def api_server(url: str, profile: Path | None) -> AsyncIterator[tuple[int, str]]:
    """``kameng api serve`` on a free port until the block ends (then SIGTERM): its pid and
    base URL. Whatever it logged at ERROR is printed. With ``profile``, the server runs
    under pyinstrument (installed by hand: not a dependency), which writes its text report there."""
    port = free_port()
    profiler = ("-m", "pyinstrument", "-r", "text", "-o", str(profile)) if profile else ()
    env = {**os.environ, "KAMENG_DATABASE_URL": url, "KAMENG_SECRET_KEY": BENCH_SECRET}
    server = await asyncio.create_subprocess_exec(
        *(sys.executable, *profiler, "-m", "cli.main", "api", "serve", "--port", str(port)),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            while True:
                if server.returncode is not None:
                    raise RuntimeError("kameng api serve exited before it answered")
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with http.get(base + OPENAPI_PATH) as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.05)
        yield server.pid, base
    finally:
        if server.returncode is None:
            server.send_signal(signal.SIGTERM)
        _, errors = await asyncio.wait_for(server.communicate(), timeout=60)
        if b"ERROR" in errors:
            print("the server logged errors:\n" + errors.decode(errors="replace")[-4000:])


# one mode, one round --------------------------------------------------------------------------


async def api_round(
    http: aiohttp.ClientSession,
    base: str,
    pid: int,
    keys: list[str],
    seconds: float,
    tag: str,
) -> Measured:
    limited = 0

    async def order(client: int, n: int) -> None:
        nonlocal limited
        headers = {
            "Authorization": f"Bearer {keys[client]}",
            "Idempotency-Key": f"{tag}-{client}-{n}",
        }
        while True:
            async with http.post(
                base + "/api/v1/orders", json={"sku": SKU, "quantity": 1}, headers=headers
            ) as response:
                body = await response.json(content_type=None)
                if response.status == 429:  # what a well-behaved client does
                    limited += 1
                    await asyncio.sleep(int(response.headers.get("Retry-After", "1")))
                    continue
                if response.status != 201 or len(body["codes"]) != 1:
                    raise RuntimeError(f"order refused: {response.status} {body}")
                return

    cpu = process_cpu_seconds(pid)
    timing = await for_a_while(len(keys), seconds, order)
    return Measured(timing, process_cpu_seconds(pid) - cpu, limited)


async def core_round(platform: Platform, clients: int, seconds: float) -> Measured:
    async def quote_and_buy(client: int, _n: int) -> None:
        tid = FIRST_TID[CORE] + client
        quote = await platform.quotes.quote(tid, SKU, 1)
        receipt = await platform.shop.buy(tid, quote.id)
        assert isinstance(receipt, Receipt) and len(receipt.codes) == 1, receipt

    cpu = own_cpu_seconds()
    timing = await for_a_while(clients, seconds, quote_and_buy)
    return Measured(timing, own_cpu_seconds() - cpu)


# the run --------------------------------------------------------------------------------------


async def seed(platform: Platform, clients: int, seconds: float) -> list[str]:
    """The SKU, codes for both modes, funded resellers; the API resellers' keys."""
    await seed_sku(platform)
    stock = 2 * (int(MAX_RATE * seconds) + 4 * clients)
    added = await platform.stock.import_codes(SKU, codes(stock), actor=ADMIN)
    assert added.added == stock, added
    keys = []
    for mode in (API, CORE):
        for c in range(clients):
            tid = FIRST_TID[mode] + c
            await platform.catalogue.ensure_user(tid, username=f"bench{tid}")
            await platform.balances.top_up(
                tid, PRICE * stock, idempotency_key=f"seed-{tid}", note="seed", actor=ADMIN
            )
            if mode == API:
                keys.append((await platform.api_keys.issue(tid, actor=ADMIN)).token)
    return keys


async def bench(
    url: str, clients: int, seconds: float, rounds: int, profile: Path | None = None
) -> bool:
    platform = await fresh_platform(url)
    keys = await seed(platform, clients, seconds)
    measured = {API: Measured(Timing()), CORE: Measured(Timing())}
    limit = aiohttp.TCPConnector(limit=clients)
    async with (
        api_server(url, profile) as (pid, base),
        aiohttp.ClientSession(connector=limit) as http,
    ):
        # round 0: one warm-up order per client and mode, never counted
        await api_round(http, base, pid, keys, 0, "warm")
        await core_round(platform, clients, 0)
        for r in range(1, rounds + 1):
            measured[API].add(await api_round(http, base, pid, keys, seconds / rounds, f"r{r}"))
            measured[CORE].add(await core_round(platform, clients, seconds / rounds))
    ledger = await check_ledger(platform.db)
    verdict = await audit.verify(platform.db)
    await platform.close()
    return report(url, clients, seconds, rounds, measured, ledger.render(), verdict)


def report(
    url: str,
    clients: int,
    seconds: float,
    rounds: int,
    measured: dict[str, Measured],
    ledger: str,
    verdict: audit.AuditVerdict,
) -> bool:
    database = "sqlite" if url.startswith("sqlite") else "postgresql"
    print(
        f"\n{database}: {clients} concurrent clients per mode, {seconds:g} s per mode in"
        f" {rounds} alternating rounds; orders of 1 code, orders/s of wall-clock time.\n"
        "  api:            POST /api/v1/orders {sku, quantity} to `kameng api serve` (its own\n"
        "                  process; CPU is that process's)\n"
        "  core quote+buy: Quotes.quote + Shop.buy in this process (CPU: this process's)\n"
    )
    rows = [
        [
            mode,
            str(m.timing.purchases),
            f"{m.timing.rate:,.0f}",
            f"{m.timing.ms(50):.1f}",
            f"{m.timing.ms(99):.1f}",
            f"{m.cpu_ms_per_order:.2f}",
        ]
        for mode, m in measured.items()
    ]
    print(table(["mode", "orders", "orders/s", "p50 ms", "p99 ms", "CPU ms/order"], rows))
    if measured[API].rate_limited:
        print(f"\nrate limited: {measured[API].rate_limited} answers 429 (waited out, retried)")
    print("\nledger check (both modes' sales):\n  " + ledger.replace("\n", "\n  "))
    ok = verdict.ok and "OK: the ledger balances" in ledger
    print(f"audit chain: {f'OK, {verdict.records} records' if verdict.ok else f'BROKEN {verdict}'}")
    api, core = measured[API], measured[CORE]
    ratio = api.timing.rate / core.timing.rate
    cpu = api.cpu_ms_per_order / core.cpu_ms_per_order
    print(
        f"\nratio {database}: api/core = {ratio:.2f} orders/s ({'yes' if ratio >= TARGET else 'NO'}"
        f", target >= {TARGET}); CPU per order api/core = {cpu:.2f}"
    )
    return ok


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="API orders/s vs the core's quote+buy.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=20.0, help="per mode, all rounds")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients per mode")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="database to wipe and use")
    parser.add_argument(
        "--allow-wipe", action="store_true", help="allow a --postgres name lacking 'bench'"
    )
    parser.add_argument(
        "--profile", type=Path, help="run the server under pyinstrument, its text report here"
    )
    args = parser.parse_args(argv)
    if args.db == "postgres":
        await prepare_postgres(args.postgres, allow_any=args.allow_wipe)
        return (
            0
            if await bench(args.postgres, args.clients, args.seconds, args.rounds, args.profile)
            else 1
        )
    with tempfile.TemporaryDirectory(prefix="kameng-bench-api-") as tmp:
        url = sqlite_url(Path(tmp), "bench.db")
        return 0 if await bench(url, args.clients, args.seconds, args.rounds, args.profile) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Order latency with two ``kameng api serve`` processes on one SQLite file, beside one.

    .venv/bin/python bench/two_writers.py [--clients 64] [--seconds 20]

One fresh SQLite file, seeded through the core (a supplier, one unique-stock SKU and its
codes, a reseller and API key per client). Then three phases, each ``--seconds`` long,
``--clients`` HTTP clients placing one-code orders back to back (a fresh
``Idempotency-Key`` each), every server a real process started for its phase:

* one server        - all clients on one process: the reference.
* two, busy handler - the clients split over two processes, the cross-process writer
  queue switched off (``KAMENG_SQLITE_WRITER_LOCK=off``): the processes meet in SQLite's
  busy handler, whose sleeps grow to 100 ms a try (what the issue measured).
* two, writer queue - the same with the queue on (the default, ``core/writer_lock.py``):
  a waiting writer sleeps in ``flock`` and wakes when the holder lets go.

Prints orders/s, p50 and p99 of the orders' latency per phase and each two-process p99
as a ratio of the one-server p99 in the same run; then ``core.checks.check_ledger`` must
hold. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from _common import ADMIN, BENCH_SECRET, PRICE, SKU, codes, fresh_platform, seed_sku, table

from core.checks import check_ledger

ROOT = Path(__file__).resolve().parent.parent
FIRST_TID = 70_000


@dataclass
class Phase:
    name: str
    servers: int
    writer_lock: bool
    latencies: list[float] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def start_server(url: str, port: int, writer_lock: bool) -> asyncio.subprocess.Process:
    env = {**os.environ, "KAMENG_DATABASE_URL": url, "KAMENG_SECRET_KEY": BENCH_SECRET}
    env["PYTHONPATH"] = str(ROOT)
    env["KAMENG_SQLITE_WRITER_LOCK"] = "on" if writer_lock else "off"
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli.main", "api", "serve", "--host", "127.0.0.1"),
        *("--port", str(port)),
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(600):  # until it listens
            try:
                async with http.get(f"http://127.0.0.1:{port}/api/v1/openapi.json"):
                    return process
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise SystemExit("kameng api serve did not start")


async def run_phase(phase: Phase, url: str, keys: list[str], seconds: float) -> None:
    ports = [free_port() for _ in range(phase.servers)]
    servers = await asyncio.gather(*(start_server(url, port, phase.writer_lock) for port in ports))
    deadline = time.perf_counter() + seconds

    async def client(http: aiohttp.ClientSession, n: int) -> None:
        base = f"http://127.0.0.1:{ports[n % len(ports)]}/api/v1/orders"
        headers = {"Authorization": f"Bearer {keys[n]}"}
        sent = 0
        while time.perf_counter() < deadline:
            sent += 1
            started = time.perf_counter()
            async with http.post(
                base,
                json={"sku": SKU, "quantity": 1},
                headers={**headers, "Idempotency-Key": f"{phase.name}-{n}-{sent}"},
            ) as response:
                await response.read()
            if response.status == 201:
                phase.latencies.append(time.perf_counter() - started)
            else:
                phase.refused[response.status] = phase.refused.get(response.status, 0) + 1

    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            started = time.perf_counter()
            await asyncio.gather(*(client(http, n) for n in range(len(keys))))
            phase.seconds = time.perf_counter() - started
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            await server.wait()


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stock", type=int, default=0, help="codes (default: enough)")
    args = parser.parse_args()
    phases = [
        Phase("one server", 1, True),
        Phase("two, busy handler", 2, False),
        Phase("two, writer queue", 2, True),
    ]
    with tempfile.TemporaryDirectory(prefix="kameng-two-writers-") as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        platform = await fresh_platform(url)
        await seed_sku(platform)
        stock = args.stock or int(len(phases) * args.seconds * 400) + 100
        await platform.stock.import_codes(SKU, codes(stock), actor=ADMIN)
        keys = []
        for n in range(args.clients):
            tid = FIRST_TID + n
            await platform.catalogue.ensure_user(tid, username=f"bench{tid}")
            await platform.balances.top_up(
                tid, PRICE * stock, idempotency_key=f"seed-{tid}", note="seed", actor=ADMIN
            )
            keys.append((await platform.api_keys.issue(tid, actor=ADMIN)).token)
        await platform.close()

        for phase in phases:
            await run_phase(phase, url, keys, args.seconds)

        platform = await fresh_platform(url)  # migrated already: upgrade is a no-op
        ledger = await check_ledger(platform.db)
        await platform.close()

    reference = percentile(phases[0].latencies, 99)
    rows = []
    for phase in phases:
        p99 = percentile(phase.latencies, 99)
        rows.append(
            [
                phase.name,
                f"{len(phase.latencies) / phase.seconds:.1f}",
                f"{percentile(phase.latencies, 50) * 1000:.0f}",
                f"{p99 * 1000:.0f}",
                f"{p99 / reference:.2f}",
                ", ".join(f"{s}: {c}" for s, c in sorted(phase.refused.items())) or "-",
            ]
        )
    print(f"SQLite, {args.clients} clients, {args.seconds:g} s a phase")
    print(table(["phase", "orders/s", "p50 ms", "p99 ms", "p99 / one", "not 201"], rows))
    for phase in phases[1:]:
        ratio = percentile(phase.latencies, 99) / reference
        print(f"ratio p99 {phase.name} / one server = {ratio:.2f}")
    if not ledger.ok:
        raise SystemExit(f"FAILED: {ledger}")
    print("OK: the ledger balances")


if __name__ == "__main__":
    asyncio.run(main())

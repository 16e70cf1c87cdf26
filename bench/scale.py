"""Orders/s with one ``kameng serve`` and with two, on PostgreSQL and Redis: does a second
instance add capacity?

    .venv/bin/python bench/scale.py [--seconds 10] [--clients 16] [--postgres URL]
                                    [--redis redis://127.0.0.1:6379/1] [--allow-wipe]

One PostgreSQL database (``--postgres``, default ``bench_scale``, its ``public`` schema
wiped) is seeded through the core: a supplier, one unique-stock SKU and its codes,
``--clients`` API resellers with a key each and ``--clients`` bot resellers, all with a
balance. Then, with one instance and then with two (real processes, ``sandbox/instances.py``,
the same harness ``tests/production`` uses; Redis holds FSM state, throttling, the update
dedupe and the send budget under a prefix of the run's own):

* api - ``--clients`` concurrent clients, client ``c`` on instance ``c mod n``, each placing
  orders one after another for ``--seconds``: ``POST /api/v1/orders {"sku", "quantity": 1}``
  with a fresh ``Idempotency-Key``, each answered 201 with one code.
* bot - ``--clients`` resellers of the fake Telegram (in this process) buying through the
  webhook, posted to a balancer (round robin over the instances): ``/buy SKU 1``, wait for
  the quote, press "✅ Confirm", wait for the codes; one after another for ``--seconds``.

Printed: orders/s of wall-clock time, p50/p99 latency, the CPU seconds each process used
(instances, this process: the fake Telegram, the balancer and the clients; PostgreSQL's
backends), and the two/one ratio per mode (target >= 1.6 where the database and this
machine's cores are not the limit; the CPU lines say which is). Afterwards the ledger
proofs must hold. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
from _common import (
    ADMIN,
    BENCH_SECRET,
    PRICE,
    SKU,
    asyncpg_dsn,
    codes,
    fresh_platform,
    prepare_postgres,
    seed_sku,
    table,
)
from api import for_a_while, own_cpu_seconds, process_cpu_seconds
from checkout import Timing
from redis.asyncio import Redis

from core.checks import check_ledger
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.user import FakeUser
from sandbox.instances import Balancer, Deployment, Instance

TARGET = 1.6
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench_scale"
DEFAULT_REDIS = "redis://127.0.0.1:6379/1"
TOKEN = "123456789:BENCH-scale"
WEBHOOK_SECRET = "bench-scale-secret"
MAX_RATE = 400  # orders/s per mode and run the stock is sized for
API_TID, BOT_TID = 10_000, 20_000
MODES = ("api", "bot")


@dataclass
class Run:
    timing: Timing
    cpu: dict[str, float]
    waits: dict[str, int]  # what PostgreSQL's active backends were doing, sampled


class WaitSampler:
    """Samples ``pg_stat_activity`` every 0.1 s while a mode runs: of the backends busy with
    a statement, how many wait on a lock (a hot row), on the WAL (a commit's flush), on
    something else, or run (no wait event) - where the database's time goes."""

    def __init__(self, url: str) -> None:
        self._url = url
        self.waits: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> WaitSampler:
        connection = await asyncpg.connect(asyncpg_dsn(self._url))

        async def sample() -> None:
            try:
                while True:
                    rows = await connection.fetch(
                        "SELECT wait_event_type, wait_event FROM pg_stat_activity"
                        " WHERE datname = current_database() AND state = 'active'"
                        " AND pid <> pg_backend_pid()"
                    )
                    for row in rows:
                        kind = _wait_kind(row["wait_event_type"], row["wait_event"])
                        self.waits[kind] = self.waits.get(kind, 0) + 1
                    await asyncio.sleep(0.1)
            finally:
                await connection.close()

        self._task = asyncio.create_task(sample())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _wait_kind(kind: str | None, event: str | None) -> str:
    if kind is None:
        return "running"
    if kind == "Lock":
        return f"lock ({event})"
    if (event or "").startswith("WAL"):
        return "WAL flush"
    return f"{kind} ({event})"


async def seed(platform: Platform, clients: int, seconds: float) -> list[str]:
    await seed_sku(platform)
    stock = 2 * len(MODES) * (int(MAX_RATE * seconds) + 4 * clients)
    added = await platform.stock.import_codes(SKU, codes(stock), actor=ADMIN)
    assert added.added == stock, added
    keys = []
    for first in (API_TID, BOT_TID):
        for c in range(clients):
            tid = first + c
            await platform.catalogue.ensure_user(tid, username=f"bench{tid}", language="en")
            await platform.balances.top_up(
                tid, PRICE * stock, idempotency_key=f"seed-{tid}", note="seed", actor=ADMIN
            )
            if first == API_TID:
                keys.append((await platform.api_keys.issue(tid, actor=ADMIN)).token)
    return keys


def postgres_cpu_seconds() -> float:
    """CPU of PostgreSQL's backends on this machine so far (its processes, from /proc)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                total += process_cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


def cpu_now(instances: list[Instance]) -> dict[str, float]:
    used = {f"instance {i.index + 1}": process_cpu_seconds(i.pid) for i in instances}
    used["bench process"] = own_cpu_seconds()
    return used


async def api_mode(
    http: aiohttp.ClientSession, instances: list[Instance], keys: list[str], seconds: float
) -> Timing:
    tag = uuid.uuid4().hex[:6]

    async def order(client: int, n: int) -> None:
        base = instances[client % len(instances)].url
        headers = {
            "Authorization": f"Bearer {keys[client]}",
            "Idempotency-Key": f"{tag}-{client}-{n}",
        }
        while True:
            async with http.post(
                base + "/api/v1/orders", json={"sku": SKU, "quantity": 1}, headers=headers
            ) as response:
                body = await response.json(content_type=None)
                if response.status == 429:
                    await asyncio.sleep(int(response.headers.get("Retry-After", "1")))
                    continue
                if response.status != 201 or len(body["codes"]) != 1:
                    raise RuntimeError(f"order refused: {response.status} {body}")
                return

    return await for_a_while(len(keys), seconds, order)


async def bot_mode(users: list[FakeUser], seconds: float) -> Timing:
    async def buy(client: int, _n: int) -> None:
        user = users[client]
        await user.send_text(f"/buy {SKU} 1")
        quote = await user.wait_for_message(lambda m: "Total:" in m.content, timeout=60)
        await user.press("✅ Confirm", message=quote)
        receipt = await user.wait_for_message(lambda m: "Order #" in m.content, timeout=60)
        if len(receipt.codes) != 1:
            raise RuntimeError(f"no code in {receipt.content!r}")

    return await for_a_while(len(users), seconds, buy)


async def webhook_set(server: FakeTelegramServer) -> None:
    for _ in range(600):
        if server.state.webhook is not None:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("no instance set the webhook")


async def commit_ms(url: str) -> float:
    """The median time of one committed one-row INSERT: the disk's flush, what every
    order waits for at least once."""
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await connection.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (x int)")
        took = []
        for _ in range(21):
            began = time.perf_counter()
            await connection.execute("INSERT INTO bench_commit_probe VALUES (1)")
            took.append(time.perf_counter() - began)
        await connection.execute("DROP TABLE bench_commit_probe")
    finally:
        await connection.close()
    return sorted(took)[10] * 1000


def logged_errors(directory: Path) -> list[str]:
    return [
        line
        for log in directory.glob("serve-*.log")
        for line in log.read_text(errors="replace").splitlines()
        if "ERROR" in line
    ]


async def one_size(
    count: int,
    url: str,
    deployment: Deployment,
    server: FakeTelegramServer,
    platform: Platform,
    keys: list[str],
    users: list[FakeUser],
    seconds: float,
) -> dict[str, Run]:
    runs: dict[str, Run] = {}
    server.state.webhook = None  # each deployment sets it again when ready
    async with (
        Balancer() as balancer,
        deployment.instances(count, balancer) as instances,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=len(keys))) as http,
    ):
        await webhook_set(server)
        # warm-up: one order per client and mode, never counted
        await api_mode(http, instances, keys, 0)
        await bot_mode(users, 0)
        for mode in MODES:
            cpu = cpu_now(instances)
            database = postgres_cpu_seconds()
            async with WaitSampler(url) as sampler:
                if mode == "api":
                    timing = await api_mode(http, instances, keys, seconds)
                else:
                    timing = await bot_mode(users, seconds)
            used = {name: value - cpu[name] for name, value in cpu_now(instances).items()}
            used["postgresql"] = postgres_cpu_seconds() - database
            runs[mode] = Run(timing, used, sampler.waits)
    return runs


async def bench(url: str, redis_url: str, clients: int, seconds: float) -> bool:
    platform = await fresh_platform(url)
    prefix = f"bench-scale-{uuid.uuid4().hex[:8]}"
    async with FakeTelegramServer(token=TOKEN) as server:
        keys = await seed(platform, clients, seconds)
        users = [server.user(BOT_TID + c, started=True) for c in range(clients)]
        with tempfile.TemporaryDirectory(prefix="kameng-bench-scale-") as tmp:
            deployment = Deployment(
                Path(tmp),
                {
                    "KAMENG_DATABASE_URL": url,
                    "KAMENG_SECRET_KEY": BENCH_SECRET,
                    "KAMENG_BOT_TOKEN": TOKEN,
                    "KAMENG_TELEGRAM_API_BASE": server.base_url,
                    "KAMENG_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "KAMENG_REDIS_URL": redis_url,
                    "KAMENG_REDIS_PREFIX": prefix,
                    "KAMENG_LOG_LEVEL": "WARNING",
                },
            )
            results = {}
            for count in (1, 2):
                results[count] = await one_size(
                    count, url, deployment, server, platform, keys, users, seconds
                )
            errors = logged_errors(Path(tmp))
    redis = Redis.from_url(redis_url)
    stale = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
    if stale:
        await redis.delete(*stale)
    await redis.aclose()
    ledger = await check_ledger(platform.db)
    await platform.close()
    return report(clients, seconds, results, ledger.render(), errors, await commit_ms(url))


def report(
    clients: int,
    seconds: float,
    results: dict[int, dict[str, Run]],
    ledger: str,
    errors: list[str],
    commit: float,
) -> bool:
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    print(
        f"\npostgresql + redis: {clients} concurrent clients, {seconds:g} s per mode and size;"
        f" orders of 1 code, orders/s of wall-clock time; this machine has {os.cpu_count()}"
        " cores.\n"
        "  api: POST /api/v1/orders straight to an instance (client c on instance c mod n)\n"
        "  bot: /buy, the quote, Confirm, the codes - updates posted by the fake Telegram\n"
        "       (in this process) through a round-robin balancer\n"
    )
    rows = []
    for count, runs in results.items():
        for mode, run in runs.items():
            t = run.timing
            cpu = "  ".join(f"{name} {value:.1f}" for name, value in run.cpu.items())
            rows.append(
                [
                    f"{count} instance{'s' if count > 1 else ''}",
                    mode,
                    str(t.purchases),
                    f"{t.rate:,.0f}",
                    f"{t.ms(50):.1f}",
                    f"{t.ms(99):.1f}",
                    cpu,
                ]
            )
    print(table(["size", "mode", "orders", "orders/s", "p50 ms", "p99 ms", "CPU s used"], rows))
    print("\nledger check:\n  " + ledger.replace("\n", "\n  "))
    if errors:
        print(f"\nthe instances logged {len(errors)} ERROR line(s), the first: {errors[0]}")
    for mode in MODES:
        one, two = results[1][mode], results[2][mode]
        ratio = two.timing.rate / one.timing.rate
        busy = sum(two.cpu.values()) / (two.timing.seconds * cores)
        waits = sorted(two.waits.items(), key=lambda item: -item[1])
        sampled = sum(count for _, count in waits) or 1
        print(
            f"PostgreSQL with two ({mode}), active backends sampled: "
            + (", ".join(f"{kind} {count / sampled:.0%}" for kind, count in waits[:4]) or "none")
        )
        locked = sum(count for kind, count in waits if kind.startswith("lock")) / sampled
        if locked > 0.5:
            limit = (
                f"PostgreSQL row locks ({locked:.0%} of busy backends wait on another"
                " transaction: every order updates the same rows, so orders queue for them"
                " whatever the number of instances)"
            )
        elif load > cores:
            limit = f"a shared machine (load average {load:.1f} on {cores} cores)"
        elif busy > 0.85:
            limit = "this machine's cores (all busy)"
        elif two.cpu["postgresql"] / two.timing.seconds > 0.8:
            limit = "PostgreSQL's CPU"
        else:
            limit = f"waiting, not CPU: a commit takes {commit:.1f} ms here"
        print(
            f"ratio {mode}: two/one = {ratio:.2f} orders/s ({'yes' if ratio >= TARGET else 'NO'}"
            f", target >= {TARGET}); CPU busy with two: {busy:.0%} of the machine; limit: {limit}"
        )
    return "OK: the ledger balances" in ledger and not errors


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Orders/s with one kameng serve and with two.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per mode and size")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients per mode")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="database to wipe and use")
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="Redis (a prefix of the run's own)")
    parser.add_argument(
        "--allow-wipe", action="store_true", help="allow a --postgres name lacking 'bench'"
    )
    args = parser.parse_args(argv)
    await prepare_postgres(args.postgres, allow_any=args.allow_wipe)
    began = time.perf_counter()
    ok = await bench(args.postgres, args.redis, args.clients, args.seconds)
    print(f"\n(the whole run took {time.perf_counter() - began:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

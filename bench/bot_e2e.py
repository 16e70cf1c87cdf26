"""Storefront purchases through the real bot, beside the core purchase rate, on SQLite.

    .venv/bin/python bench/bot_e2e.py [--resellers 200] [--purchases-each 2] [--rounds 2]
                                      [--arrivals-per-second 25 40]

One fresh SQLite file (WAL, synchronous=FULL, as ``core.db``) is seeded through the core
(a supplier, one unique-stock SKU and its codes, resellers with a balance). The real bot
(aiogram ``Bot`` over HTTP, long polling through ``bot.app.run_polling``, as
``tests/bot/conftest.py`` does) runs in this process; Telegram's side - the fake Bot API
server (``sandbox.fake_telegram``) and the simulated resellers - runs in another
(``telegram_side.py``), as Telegram runs on other machines: its CPU is reported, not
charged to the bot. A bot purchase is what a reseller does: send ``/buy SKU 1``, wait for
the quote, press "✅ Confirm", wait for the codes. Two phases:

1. Capacity: all ``--resellers`` at once, each making ``--purchases-each`` purchases, in
   ``--rounds`` rounds interleaved with the same purchases made straight through the core
   (``Quotes.quote`` then ``Shop.buy``, one asyncio task per reseller: what
   ``bench/checkout.py`` times as "core quote+buy"), so drift hits both alike. Orders/s is
   purchases over each round's wall-clock time. Target: the bot keeps >= 1/3 of the core
   rate. Latency here is queueing: the last of N buyers pressing at once waits for the N-1
   before it.
2. Latency at a steady pace: each reseller buys once per round, arriving at random
   (Poisson) at ``--arrivals-per-second`` in all (default 25 and 40: every reseller buying
   every 8 s, then every 5 s), two rounds per pace. Target: p99 of Confirm press → codes
   message under 100 ms.

A warm-up round is never timed. Afterwards the ledger proofs and the audit chain must
hold, and every buyer must have received distinct codes. Targets are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import ADMIN, PRICE, SKU, codes, fresh_platform, seed_sku, sqlite_url, table
from checkout import Timing, shares, timed
from telegram_side import REPLY_TIMEOUT

from bot.app import create_bot, run_polling
from core import audit
from core.checks import CheckReport, check_ledger
from core.orders import Receipt
from core.platform import Platform

TOKEN = "123456789:BENCH-kameng-bot"
RATIO_TARGET = 1 / 3
P99_TARGET_MS = 100.0
CORE, BOT, TELEGRAM = "core quote+buy", "bot (Telegram)", "Telegram's side"
FIRST_TID = {CORE: 50_000, BOT: 60_000}
WARM_UP = 4  # resellers per mode making one untimed purchase first
PACED_ROUNDS = 2  # rounds of the latency phase: each reseller buys once per round


class TelegramSide:
    """``telegram_side.py`` in its own process: the fake Bot API server and the resellers."""

    def __init__(self, process: asyncio.subprocess.Process, base_url: str) -> None:
        self.process = process
        self.base_url = base_url

    @classmethod
    async def start(cls, resellers: int) -> TelegramSide:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).with_name("telegram_side.py")),
            f"--token={TOKEN}",
            f"--first-tid={FIRST_TID[BOT]}",
            f"--resellers={resellers}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=2**24,  # a round's answer is one line with every latency and code
        )
        side = cls(process, "")
        side.base_url = (await side._read())["base_url"]
        return side

    async def ask(self, cmd: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"cmd": cmd, **fields}).encode() + b"\n")
        await self.process.stdin.drain()
        return await self._read()

    async def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"telegram_side.py exited ({await self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        await self.process.wait()


async def start_bot(platform: Platform, telegram: TelegramSide) -> asyncio.Task[None]:
    """The real bot polling the fake server (as tests/bot/conftest.py starts it)."""
    settings = platform.settings.model_copy(
        update={"bot_token": TOKEN, "telegram_api_base": telegram.base_url}
    )
    task = asyncio.create_task(run_polling(platform, create_bot(settings), handle_signals=False))
    await asyncio.wait_for(telegram.ask("polled"), timeout=5)
    return task


async def stop_bot(task: asyncio.Task[None]) -> None:
    # Stopping mid long-poll makes aiogram log a reconnect attempt: expected, not news.
    logging.getLogger("aiogram.dispatcher").setLevel(logging.CRITICAL)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@dataclass
class BotOutcome:
    received: list[str] = field(default_factory=list)  # every code the buyers were shown
    lost: int = 0  # Confirms whose codes message never came (the buyer must open Orders)
    unanswered: int = 0  # button presses the bot never answered
    calls: Counter[str] = field(default_factory=Counter)  # Bot API calls in timed rounds

    def add(self, seen: dict[str, Any]) -> None:
        self.received += seen["codes"]
        self.lost += seen["lost"]


async def run(
    resellers: int, purchases_each: int, rounds: int, directory: Path, paces: list[float]
) -> bool:
    platform = await fresh_platform(sqlite_url(directory, "bot_e2e.db"))
    total = resellers * purchases_each
    paced = PACED_ROUNDS * len(paces)
    await seed_sku(platform)
    stock = 2 * (total + WARM_UP) + paced * resellers
    added = await platform.stock.import_codes(SKU, codes(stock), actor=ADMIN)
    assert added.added == stock, added
    for mode in (CORE, BOT):
        for b in range(resellers):
            tid = FIRST_TID[mode] + b
            # as the fake users introduce themselves: known users, unchanged (steady state)
            await platform.catalogue.ensure_user(tid, display_name=f"R{b}", language="en")
            await platform.balances.top_up(
                tid,
                PRICE * (purchases_each + rounds + 1 + paced),  # share rounding + warm-up
                idempotency_key=f"seed-{tid}",
                note="seed",
                actor=ADMIN,
            )

    async def directly(buyer: int, _n: int) -> None:
        tid = FIRST_TID[CORE] + buyer
        quote = await platform.quotes.quote(tid, SKU, 1)
        receipt = await platform.shop.buy(tid, quote.id)
        assert isinstance(receipt, Receipt) and len(receipt.codes) == 1, receipt

    outcome = BotOutcome()
    timings = {CORE: Timing(), BOT: Timing()}
    at_pace = {pace: Timing() for pace in paces}
    cpu = {CORE: 0.0, BOT: 0.0, TELEGRAM: 0.0}  # CPU seconds (all threads) in each mode
    telegram = await TelegramSide.start(resellers)
    try:
        polling = await start_bot(platform, telegram)
        try:
            at_once = [0.0] * resellers
            per_round = [shares(part, resellers) for part in shares(total, rounds)]
            warm_up = [1 if b < WARM_UP else 0 for b in range(resellers)]
            for r, counts in enumerate([warm_up, *per_round]):
                cpu_began = time.process_time()
                core = await timed(resellers, counts, directly)
                core_cpu = time.process_time() - cpu_began

                cpu_began = time.process_time()
                seen = await telegram.ask("round", counts=counts, starts=at_once)
                bot_cpu = time.process_time() - cpu_began
                # Confirm → codes, not the whole /buy round trip
                bot = Timing(seen["purchases"], seen["seconds"], seen["latencies"])
                outcome.add(seen)
                if r:
                    timings[CORE].add(core)
                    timings[BOT].add(bot)
                    cpu[CORE] += core_cpu
                    cpu[BOT] += bot_cpu
                    cpu[TELEGRAM] += seen["cpu"]
                    outcome.calls.update(seen["calls"])
            for pace in paces:
                for r in range(PACED_ROUNDS):
                    starts = poisson_starts(resellers, pace, random.Random(r))
                    seen = await telegram.ask("round", counts=[1] * resellers, starts=starts)
                    at_pace[pace].add(Timing(seen["purchases"], seen["seconds"], seen["latencies"]))
                    outcome.add(seen)
            outcome.unanswered = (await telegram.ask("unanswered"))["unanswered"]
        finally:
            await stop_bot(polling)
    finally:
        await telegram.stop()
    ledger = await check_ledger(platform.db)
    verdict = await audit.verify(platform.db)
    await platform.close()
    shape = (resellers, purchases_each, rounds)
    return report(shape, timings, at_pace, cpu, outcome, ledger, verdict)


def poisson_starts(resellers: int, per_second: float, rng: random.Random) -> list[float]:
    """When each reseller arrives: independent arrivals at ``per_second`` in all."""
    starts, at = [], 0.0
    for _ in range(resellers):
        at += rng.expovariate(per_second)
        starts.append(at)
    return starts


def report(
    shape: tuple[int, int, int],  # resellers, purchases each, rounds
    timings: dict[str, Timing],
    at_pace: dict[float, Timing],  # arrivals per second → Confirm → codes at that pace
    cpu: dict[str, float],
    outcome: BotOutcome,
    ledger: CheckReport,
    verdict: audit.AuditVerdict,
) -> bool:
    resellers, purchases_each, rounds = shape
    core, bot = timings[CORE], timings[BOT]
    print(
        f"\n{resellers} resellers buying {purchases_each} x 1 code each per mode, concurrently,"
        f" {rounds} interleaved rounds, SQLite (WAL, synchronous=FULL); orders/s of"
        " wall-clock time.\n"
        "  core quote+buy: Quotes.quote + Shop.buy per purchase, one task per reseller\n"
        "  bot (Telegram): /buy -> quote -> Confirm -> codes message, real bot polling the"
        " fake Telegram server\n"
        "  latency: core = one quote+buy; bot = Confirm press -> codes message arrives\n"
    )
    rows = [
        [mode, f"{t.rate:,.1f}", f"{t.ms(50):.1f}", f"{t.ms(99):.1f}", f"{1000 * c:.1f}"]
        for mode, t, c in (
            (CORE, core, cpu[CORE] / core.purchases),
            (BOT, bot, cpu[BOT] / bot.purchases),
        )
    ]
    print(table(["mode", "orders/s", "p50 ms", "p99 ms", "CPU ms/order"], rows))
    telegram_ms = 1000 * cpu[TELEGRAM] / bot.purchases
    print(
        "  CPU ms/order: the platform's process, all threads. Telegram's side (the fake server"
        f" and the simulated users, in their own process) used {telegram_ms:.1f} ms/order more"
    )
    per_purchase = ", ".join(
        f"{method} {count / bot.purchases:.2f}" for method, count in outcome.calls.most_common()
    )
    print(f"  Bot API calls per purchase: {per_purchase}")
    received = outcome.received
    distinct = len(set(received)) == len(received)
    print(f"\ncodes received through the bot: {len(received)}, all distinct: {distinct}")
    if outcome.lost:
        print(
            f"LOST: {outcome.lost} Confirm press(es) charged but no codes message within"
            f" {REPLY_TIMEOUT:.0f} s (the buyer has to open Orders)"
        )
    if outcome.unanswered:  # overload, not loss: the codes still came (counted above)
        print(
            "presses answered too late for Telegram (spinner until it gave up):"
            f" {outcome.unanswered}"
        )
    print("ledger check:\n  " + ledger.render().replace("\n", "\n  "))
    print(
        "audit chain: " + (f"OK, {verdict.records} records" if verdict.ok else f"BROKEN {verdict}")
    )
    ok = distinct and not outcome.lost and ledger.ok and verdict.ok
    ratio = bot.rate / core.rate
    verdict_ratio = "met" if ratio >= RATIO_TARGET else "NOT met"
    print(
        f"\nratio sqlite: bot/core = {ratio:.2f} ({bot.rate:,.1f} / {core.rate:,.1f} orders/s);"
        f" target >= {RATIO_TARGET:.2f}: {verdict_ratio}"
    )
    print(
        f"bot Confirm -> codes (all at once): p50 {bot.ms(50):.1f} ms, p99 {bot.ms(99):.1f} ms:"
        f" queueing, {resellers} buyers at {bot.rate:,.1f} orders/s take"
        f" {resellers / bot.rate * 1000:,.0f} ms to serve"
    )
    for pace, paced in at_pace.items():
        p99 = paced.ms(99)
        print(
            f"bot Confirm -> codes at a steady pace ({pace:g} arrivals/s, Poisson: each reseller"
            f" buys every {resellers / pace:.0f} s; {paced.purchases} purchases):"
            f" p50 {paced.ms(50):.1f} ms, p99 {p99:.1f} ms;"
            f" target p99 < {P99_TARGET_MS:.0f} ms: {'met' if p99 < P99_TARGET_MS else 'NOT met'}"
        )
    if ok:
        print("OK: the ledger balances and every code reached exactly one buyer")
    return ok


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Bot storefront orders/s and Confirm->codes latency vs the core rate.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--resellers", type=int, default=200, help="concurrent simulated users")
    parser.add_argument("--purchases-each", type=int, default=2, help="per reseller and mode")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument(
        "--arrivals-per-second",
        type=float,
        nargs="*",
        default=[25.0, 40.0],
        help="the latency phase's paces, purchases per second in all (none: skip it)",
    )
    args = parser.parse_args(argv)
    if args.resellers < WARM_UP or args.purchases_each < 1 or args.rounds < 1:
        parser.error(f"--resellers must be >= {WARM_UP}; --purchases-each, --rounds >= 1")
    if any(pace <= 0 for pace in args.arrivals_per_second):
        parser.error("--arrivals-per-second must be > 0")
    with tempfile.TemporaryDirectory(prefix="kameng-bench-bot-") as tmp:
        ok = await run(
            args.resellers, args.purchases_each, args.rounds, Path(tmp), args.arrivals_per_second
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

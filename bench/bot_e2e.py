"""Storefront purchases through the real bot, beside the core purchase rate, on SQLite.

    .venv/bin/python bench/bot_e2e.py [--resellers 200] [--purchases-each 2] [--rounds 2]

One fresh SQLite file (WAL, synchronous=FULL, as ``core.db``) is seeded through the core
(a supplier, one unique-stock SKU and its codes, resellers with a balance). The real bot
(aiogram ``Bot`` over HTTP, long polling through ``bot.app.run_polling``, as
``tests/bot/conftest.py`` does) runs in this process; Telegram's side - the fake Bot API
server (``sandbox.fake_telegram``) and the simulated resellers - runs in another
(``telegram_side.py``), as Telegram runs on other machines: its CPU is reported, not
charged to the bot. Two modes, interleaved in ``--rounds`` rounds so drift hits both alike:

* core quote+buy - ``Quotes.quote`` then ``Shop.buy`` per purchase, one asyncio task per
  reseller (the same concurrency as the bot mode): what ``bench/checkout.py`` times as
  "core quote+buy", reusing its timing helpers.
* bot           - each of ``--resellers`` simulated users, concurrently, sends
  ``/buy SKU 1``, waits for the quote, presses "✅ Confirm" and waits for the message with
  the code. Orders/s is purchases over the wall-clock time of the whole round; the
  latency is from the Confirm press to the codes message arriving at the fake server.

A warm-up round (a few purchases per mode) is never timed. Afterwards the ledger proofs
and the audit chain must hold, and every bot buyer must have received distinct codes.
Targets (printed, never asserted): the bot keeps >= 1/3 of the core rate (all resellers
at once: capacity); bot p99 < 100 ms. With N buyers pressing at once the last one waits
for the N-1 before it, so p99 is about N / rate there; the latency target is meant for a
load below capacity: ``--arrivals-per-second R`` (R below the bot's rate) staggers the
resellers' starts, and the output says which target was met at which load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
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


async def run(
    resellers: int, purchases_each: int, rounds: int, directory: Path, arrivals: float = 0.0
) -> bool:
    stagger = 1 / arrivals if arrivals else 0.0  # seconds between resellers' first purchases

    platform = await fresh_platform(sqlite_url(directory, "bot_e2e.db"))
    total = resellers * purchases_each
    await seed_sku(platform)
    stock = 2 * (total + WARM_UP)
    added = await platform.stock.import_codes(SKU, codes(stock), actor=ADMIN)
    assert added.added == stock, added
    for mode in (CORE, BOT):
        for b in range(resellers):
            tid = FIRST_TID[mode] + b
            # as the fake users introduce themselves: known users, unchanged (steady state)
            await platform.catalogue.ensure_user(tid, display_name=f"R{b}", language="en")
            await platform.balances.top_up(
                tid,
                PRICE * (purchases_each + rounds + 1),  # share rounding + warm-up
                idempotency_key=f"seed-{tid}",
                note="seed",
                actor=ADMIN,
            )

    async def core_purchase(buyer: int, n: int, latencies: list[float]) -> None:
        if n == 0 and stagger:
            await asyncio.sleep(buyer * stagger)
        began = time.perf_counter()
        tid = FIRST_TID[CORE] + buyer
        quote = await platform.quotes.quote(tid, SKU, 1)
        receipt = await platform.shop.buy(tid, quote.id)
        assert isinstance(receipt, Receipt) and len(receipt.codes) == 1, receipt
        latencies.append(time.perf_counter() - began)

    outcome = BotOutcome()
    timings = {CORE: Timing(), BOT: Timing()}
    cpu = {CORE: 0.0, BOT: 0.0, TELEGRAM: 0.0}  # CPU seconds (all threads) in each mode
    telegram = await TelegramSide.start(resellers)
    try:
        polling = await start_bot(platform, telegram)
        try:
            per_round = [shares(part, resellers) for part in shares(total, rounds)]
            warm_up = [1 if b < WARM_UP else 0 for b in range(resellers)]
            for r, counts in enumerate([warm_up, *per_round]):
                core_latencies: list[float] = []

                async def directly(buyer: int, n: int, out: list[float] = core_latencies) -> None:
                    await core_purchase(buyer, n, out)

                cpu_began = time.process_time()
                core = await timed(resellers, counts, directly)
                core_cpu = time.process_time() - cpu_began
                core.latencies = core_latencies  # without the arrival stagger

                cpu_began = time.process_time()
                seen = await telegram.ask("round", counts=counts, stagger=stagger)
                bot_cpu = time.process_time() - cpu_began
                # Confirm → codes, not the whole /buy round trip
                bot = Timing(seen["purchases"], seen["seconds"], seen["latencies"])
                outcome.received += seen["codes"]
                outcome.lost += seen["lost"]
                if r:
                    timings[CORE].add(core)
                    timings[BOT].add(bot)
                    cpu[CORE] += core_cpu
                    cpu[BOT] += bot_cpu
                    cpu[TELEGRAM] += seen["cpu"]
                    outcome.calls.update(seen["calls"])
            outcome.unanswered = (await telegram.ask("unanswered"))["unanswered"]
        finally:
            await stop_bot(polling)
    finally:
        await telegram.stop()
    ledger = await check_ledger(platform.db)
    verdict = await audit.verify(platform.db)
    await platform.close()
    print(
        "arrivals: all resellers start at once (closed loop: orders/s is capacity, latency"
        " is queueing behind the other buyers)"
        if not arrivals
        else f"arrivals: reseller k starts its round at k/{arrivals:g} s (offered load;"
        " orders/s is bounded by it)"
    )
    return report(
        (resellers, purchases_each, rounds, arrivals), timings, cpu, outcome, ledger, verdict
    )


def report(
    shape: tuple[int, int, int, float],  # resellers, purchases each, rounds, arrivals/s
    timings: dict[str, Timing],
    cpu: dict[str, float],
    outcome: BotOutcome,
    ledger: CheckReport,
    verdict: audit.AuditVerdict,
) -> bool:
    resellers, purchases_each, rounds, arrivals = shape
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
    p99 = bot.ms(99)
    load = "all at once" if not arrivals else f"{arrivals:g} arrivals/s"
    if not arrivals:
        ratio_line = "target met" if ratio >= RATIO_TARGET else "target NOT met"
    else:
        ratio_line = (
            "not measured: the arrival rate bounds both (run without --arrivals-per-second)"
        )
    print(
        f"\nratio sqlite: bot/core = {ratio:.2f} ({bot.rate:,.1f} / {core.rate:,.1f} orders/s);"
        f" target >= {RATIO_TARGET:.2f}: {ratio_line}"
    )
    print(
        f"bot Confirm -> codes ({load}): p50 {bot.ms(50):.1f} ms, p99 {p99:.1f} ms;"
        f" target p99 < {P99_TARGET_MS:.0f} ms: {'met' if p99 < P99_TARGET_MS else 'NOT met'}"
    )
    if not arrivals:
        # A closed loop: a Confirm waits behind the purchases pressed before it.
        span = resellers / bot.rate * 1000
        print(
            f"  all at once is a queue: {resellers} buyers at {bot.rate:,.1f} orders/s take"
            f" {span:,.0f} ms to serve, and a Confirm waits behind the buys pressed before it;"
            f" p99 < {P99_TARGET_MS:.0f} ms at this load would need about"
            f" {resellers / P99_TARGET_MS * 1000:,.0f} orders/s. The latency target is for a"
            f" load below capacity: rerun with --arrivals-per-second below {bot.rate:,.0f}"
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
        default=0.0,
        help="stagger resellers' starts at this rate (0: all at once) to see latency at a"
        " load below capacity",
    )
    args = parser.parse_args(argv)
    if args.resellers < WARM_UP or args.purchases_each < 1 or args.rounds < 1:
        parser.error(f"--resellers must be >= {WARM_UP}; --purchases-each, --rounds >= 1")
    with tempfile.TemporaryDirectory(prefix="kameng-bench-bot-") as tmp:
        ok = await run(
            args.resellers, args.purchases_each, args.rounds, Path(tmp), args.arrivals_per_second
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

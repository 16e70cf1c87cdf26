"""The outbox sender's throughput, and what running it costs a purchase.

    .venv/bin/python bench/outbox.py [--sales 400] [--purchases 200] [--buyers 8]
                                     [--postgres URL --allow-wipe]

On a fresh SQLite file (and a PostgreSQL database when given; its ``public`` schema is
wiped), with the real aiogram ``Bot`` talking HTTP to the fake Telegram server:

* drain - ``--sales`` purchases are made first (untimed), each leaving one ``sale`` outbox
  row; then TIMED: the ``OutboxSender`` claims, routes, renders, sends (through the bot's
  ``Sender``, its budget lifted: Telegram's limits are not what is measured) and marks them all.
  BASELINE: the same number of ``bot.send_message`` calls of a similar text in a loop, no
  database at all. The ratio says what the lease, the routing and the bookkeeping cost.
  A burst of one supplier's sales goes out as one summary (``core/decisions/sale_burst.py``):
  notices/s counts the sales told, and the last line how many messages told them.
* purchases - ``--purchases`` purchases by ``--buyers`` tasks, TIMED, once with no sender
  and once with the sender draining their notifications at the same time (poll 10 ms).
  The ratio says how much a running sender slows buying (on SQLite it shares the writer).
* burst - ``--burst`` sales made at once, then TIMED: the sender at Telegram's real pace
  (one message a second into a private chat) until the supplier's chat has caught up.
  BASELINE: one notice per sale at that pace, ``burst - 1`` seconds at least.

Speed is printed as ratios; nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import (
    ADMIN,
    SKU,
    SUPPLIER_TID,
    codes,
    fresh_platform,
    prepare_postgres,
    seed_sku,
    sqlite_url,
    table,
)

from bot.app import create_bot
from bot.i18n import make_i18n
from bot.outbox_sender import OutboxSender
from bot.sender import Rates, Sender
from core.checks import check_ledger
from core.platform import Platform
from sandbox.fake_telegram import FakeTelegramServer

TOKEN = "123456789:BENCH-outbox"
#: a budget that never waits: the bench times the sender's work, not Telegram's limits
UNLIMITED = Rates(per_second=1e9, private_chat_per_second=1e9, group_chat_per_minute=10**9)


def _outbox_sender(platform: Platform, bot: Any) -> OutboxSender:
    sender = Sender(bot, UNLIMITED)
    return OutboxSender(platform, sender, make_i18n(), poll_seconds=0.01, batch=50)


async def _buyers(platform: Platform, count: int, start: int) -> list[int]:
    ids = [start + n for n in range(count)]
    for telegram_id in ids:
        await platform.catalogue.ensure_user(telegram_id, language="en")
        await platform.balances.top_up(
            telegram_id,
            10_000_000_00,
            idempotency_key=f"seed-{telegram_id}",
            note="seed",
            actor=ADMIN,
        )
    return ids


async def _buy(platform: Platform, buyers: list[int], purchases: int, tag: str) -> float:
    """Wall-clock seconds for ``purchases`` one-code purchases spread over the buyers."""
    per_task = purchases // len(buyers)

    async def task(telegram_id: int) -> None:
        for n in range(per_task):
            await platform.shop.buy_now(
                telegram_id, SKU, 1, idempotency_key=f"{tag}-{telegram_id}-{n}"
            )

    began = time.perf_counter()
    await asyncio.gather(*(task(t) for t in buyers))
    return time.perf_counter() - began


async def _pending(platform: Platform) -> int:
    return (await platform.outbox.stats()).pending


async def _drained(platform: Platform) -> None:
    while True:  # polls the database: the sender has no "all done" event to await
        if not await _pending(platform):
            return
        await asyncio.sleep(0.005)


async def run(url: str, sales: int, purchases: int, buyers: int, burst: int) -> list[str]:
    base = await fresh_platform(url)
    await seed_sku(base)
    await base.stock.import_codes(SKU, codes(sales + 2 * purchases + burst + 10), actor=ADMIN)
    await base.catalogue.set_language(SUPPLIER_TID, "en")
    async with FakeTelegramServer(token=TOKEN) as server:
        server.user(SUPPLIER_TID, started=True)
        settings = base.settings.model_copy(
            update={"bot_token": TOKEN, "telegram_api_base": server.base_url}
        )
        platform = base
        bot = create_bot(settings)
        try:
            # drain
            (buyer,) = await _buyers(platform, 1, 5000)
            await _buy(platform, [buyer], sales, "drain")
            sender = _outbox_sender(platform, bot)
            began = time.perf_counter()
            sender.start()
            await _drained(platform)
            drain = time.perf_counter() - began
            await sender.stop()
            began = time.perf_counter()
            for n in range(sales):
                await bot.send_message(SUPPLIER_TID, f"💰 Sold: 1 × Bench {n}\nYour earning: 85.84")
            raw = time.perf_counter() - began

            # purchases with and without the sender
            tasks = await _buyers(platform, buyers, 6000)
            alone = await _buy(platform, tasks, purchases, "alone")
            await _drained_by_new_sender(platform, bot)
            sender = _outbox_sender(platform, bot)
            sender.start()
            beside = await _buy(platform, tasks, purchases, "beside")
            await _drained(platform)
            await sender.stop()

            # a burst at Telegram's pace
            await _buy(platform, [buyer], burst, "burst")
            earlier = len(server.user(SUPPLIER_TID).messages)
            sender = OutboxSender(platform, Sender(bot, Rates()), make_i18n(), poll_seconds=0.01)
            began = time.perf_counter()
            sender.start()
            await _drained(platform)
            paced = time.perf_counter() - began
            await sender.stop()
            paced_messages = len(server.user(SUPPLIER_TID).messages) - earlier
        finally:
            await bot.session.close()
        messages = [m.content for m in server.user(SUPPLIER_TID).messages]
        told = sum(_sales_told(text) for text in messages)
    report = await check_ledger(platform.db)
    await platform.close()
    done = (purchases // buyers) * buyers
    one_by_one = max(burst - 1, 1)  # seconds: a notice a second, the first at once
    name = "sqlite" if url.startswith("sqlite") else "postgresql"
    rows = [
        ["sender drain", f"{sales / drain:,.0f} notices/s", f"{sales / raw:,.0f} sends/s"],
        ["purchases", f"{done / beside:,.0f}/s with sender", f"{done / alone:,.0f}/s without"],
        [
            "burst, 1/s a chat",
            f"{burst} sales, {paced_messages} message(s), {paced:.1f} s",
            f"{burst} messages, {one_by_one:.0f} s",
        ],
    ]
    return [
        f"== {name} ==",
        table(["measure", "timed", "baseline"], rows),
        f"ratio {name}: sender/raw-send = {raw / drain:.2f}",
        f"ratio {name}: purchases with/without sender = {alone / beside:.2f}",
        f"ratio {name}: burst caught up in / one by one = {paced / one_by_one:.3f}",
        f"sales the supplier was told of: {told} in {len(messages)} messages "
        f"(sales made: {sales + 2 * done + burst})",
        "OK: the ledger balances" if report.ok else report.render(),
    ]


def _sales_told(text: str) -> int:
    """One for a sale notice; a burst's summary tells its orders (``Orders: N · …``)."""
    if "Sales since your last notice" in text:
        return int(text.split("Orders: ")[1].split(" ")[0])
    return int("Stock left" in text)


async def _drained_by_new_sender(platform: Platform, bot: object) -> None:
    """Send what the untimed purchases left, so the timed run starts from an empty outbox."""
    sender = _outbox_sender(platform, bot)
    sender.start()
    await _drained(platform)
    await sender.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=400)
    parser.add_argument("--purchases", type=int, default=200)
    parser.add_argument("--buyers", type=int, default=8)
    parser.add_argument("--burst", type=int, default=40)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--allow-wipe", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        urls = [sqlite_url(Path(directory), "outbox.db")]
        if args.postgres:
            await prepare_postgres(args.postgres, allow_any=args.allow_wipe)
            urls.append(args.postgres)
        for url in urls:
            lines = await run(url, args.sales, args.purchases, args.buyers, args.burst)
            print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""A supplier's stock upload through the real bot, and what resellers feel meanwhile.

    .venv/bin/python bench/supplier_upload.py [--lines 200000] [--batch 1000] [--postgres URL]

The real aiogram bot polls the fake Telegram server (``sandbox/fake_telegram``) on a fresh
SQLite database (or PostgreSQL with ``--postgres URL``; its ``public`` schema is wiped).
A supplier sends a ``--lines`` file with ``/upload``; while it is imported a reseller keeps
buying one code at a time through the bot (``/buy`` → Confirm → receipt). Printed: the
upload's codes/s, how often the progress message was edited, the purchases completed
during the upload and their latency against the same purchases with no upload running
(as a ratio), and the longest stall of the event loop. ``--batch`` is how many codes the
importer commits at a time (the bot's default: ``core.suppliers.UPLOAD_BATCH``); smaller
batches hold SQLite's write lock and the event loop for less time. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    BENCH_SECRET,
    SKU,
    codes,
    fresh_platform,
    peak_rss_mb,
    prepare_postgres,
    seed_sku,
    sqlite_url,
)

from bot.app import create_bot, run_polling
from core.models import Role, StockKind
from core.platform import Platform, build_platform
from core.reviews import NewProduct
from core.settings import Settings
from core.suppliers import UPLOAD_BATCH, SupplierStock
from sandbox.fake_telegram import FakeTelegramServer
from sandbox.fake_telegram.user import FakeUser

TOKEN = "123456789:BENCH-kameng-bot"
ADMIN_ID, SUPPLIER_ID, RESELLER_ID = 42, 2001, 1001


async def buy_one(ann: FakeUser, sku: str) -> float:
    started = time.perf_counter()
    await ann.send_text(f"/buy {sku} 1")
    quote = await ann.wait_for_message(lambda m: "✅ Confirm" in m.buttons, timeout=60)
    await ann.press("✅ Confirm", message=quote)
    await ann.wait_for_message(lambda m: "Order #" in m.content, timeout=60)
    return time.perf_counter() - started


async def loop_lag(stop: asyncio.Event, worst: list[float]) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        worst[0] = max(worst[0], time.perf_counter() - before - 0.005)


async def run(url: str, lines: int, batch: int, label: str) -> None:
    base = await fresh_platform(url)
    async with FakeTelegramServer(token=TOKEN) as server:
        settings = Settings(
            database_url=url,
            secret_key=BENCH_SECRET,
            bot_token=TOKEN,
            telegram_api_base=server.base_url,
            admin_ids=str(ADMIN_ID),
            _env_file=None,  # type: ignore[call-arg]
        )
        built = build_platform(settings, db=base.db)
        platform: Platform = dataclasses.replace(
            built, supplier_stock=SupplierStock(built.db, built.stock, batch_size=batch)
        )
        await seed_sku(platform)
        await platform.stock.import_codes(SKU, codes(2_000, "IDLE"), actor="bench")
        await platform.catalogue.grant_role(ADMIN_ID, Role.ADMIN, actor="bench")
        await platform.catalogue.ensure_user(SUPPLIER_ID, language="en")
        application = await platform.onboarding.apply(
            SUPPLIER_ID, company_name="Bench supplier", contact_note=""
        )
        await platform.onboarding.decide(application.id, admin_telegram_id=ADMIN_ID, approve=True)
        review = await platform.reviews.submit(
            SUPPLIER_ID,
            NewProduct("Bench upload", "Bench", 100_00, 85_00, StockKind.UNIQUE, False, "bench"),
        )
        await platform.reviews.decide(review.id, admin_telegram_id=ADMIN_ID, approve=True)
        await platform.catalogue.ensure_user(RESELLER_ID, language="en")
        await platform.balances.top_up(
            RESELLER_ID, 10_000_000_00, idempotency_key="bench", note="bench", actor="bench"
        )
        task = asyncio.create_task(
            run_polling(platform, create_bot(settings), handle_signals=False)
        )
        for _ in range(1_000):  # until the bot polls
            if server.calls("getUpdates"):
                break
            await asyncio.sleep(0.01)
        sam = server.user(SUPPLIER_ID, language_code="en")
        ann = server.user(RESELLER_ID, language_code="en")

        idle = [await buy_one(ann, SKU) for _ in range(20)]

        body = ("\n".join(codes(lines, "UPLOAD")) + "\n").encode()
        await sam.send_text(f"/upload {review.sku_code}")
        await sam.wait_for_message(lambda m: "Send the codes" in m.content)
        stop, worst = asyncio.Event(), [0.0]
        lag = asyncio.create_task(loop_lag(stop, worst))
        started = time.perf_counter()
        await sam.send_document("codes.txt", body)
        progress = await sam.wait_for_message(lambda m: "Uploading to" in m.content)
        report = asyncio.create_task(
            sam.wait_for_message(lambda m: "Duplicates in the file" in m.content, timeout=3600)
        )
        busy: list[float] = []
        while not report.done():
            busy.append(await buy_one(ann, SKU))
        elapsed = time.perf_counter() - started
        stop.set()
        await lag
        edits = [
            c for c in server.calls("editMessageText") if c["message_id"] == progress.message_id
        ]
        print(f"{label}: {batch:,} codes per commit")
        print(
            f"{label}: {lines:,} lines uploaded in {elapsed:.2f}s = {lines / elapsed:,.0f} codes/s"
        )
        print(f"{label}: progress message edited {len(edits)} times (never re-sent)")
        print(f"{label}: {len(busy)} purchases completed during the upload")
        if busy:
            ratio = statistics.median(busy) / statistics.median(idle)
            print(
                f"{label}: purchase latency median idle {statistics.median(idle) * 1000:.0f} ms, "
                f"during upload {statistics.median(busy) * 1000:.0f} ms "
                f"(ratio {ratio:.2f}), worst {max(busy) * 1000:.0f} ms"
            )
        print(f"{label}: longest event-loop stall {worst[0] * 1000:.0f} ms")
        added = [line for line in report.result().content.splitlines() if "Added" in line]
        print(f"{label}: {added[0]}")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await base.close()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=UPLOAD_BATCH)
    parser.add_argument("--postgres", default="")
    parser.add_argument("--allow-wipe", action="store_true", help="wipe a non-bench database")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        await run(sqlite_url(Path(directory), "upload.db"), args.lines, args.batch, "sqlite")
    if args.postgres:
        await prepare_postgres(args.postgres, allow_any=args.allow_wipe)
        await run(args.postgres, args.lines, args.batch, "postgres")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

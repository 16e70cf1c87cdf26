"""Broadcast throughput against Telegram's limit, with exactly-once delivery checked.

    .venv/bin/python bench/broadcast.py [--recipients 20000] [--rate 30] [--limit 30]
                                        [--random-429 0.001] [--blocked 0.01]
                                        [--progress-seconds 3] [--stop-at 0.5]

One process: a fake Telegram Bot API server (127.0.0.1) enforcing ``--limit`` message calls
per second overall (429 with ``retry_after`` beyond it) and answering a random share
``--random-429`` of them with a 429 (retry_after 1 s); a fresh SQLite database with
``--recipients`` resellers, a share ``--blocked`` of whom blocked the bot; the real
``BroadcastWorker`` sending one campaign through the bot's ``Sender`` with a budget of
``--rate`` messages/s (``KAMENG_TELEGRAM_SENDS_PER_SECOND``, production default 30), with a
progress message that it edits every ``--progress-seconds``.

With ``--stop-at F`` the worker is stopped gracefully after a share F of the recipients got
the message and a new worker (a new owner, as after a restart) finishes the campaign.

Printed: achieved messages/s — every message call the server accepted (copies, 403s to users
who blocked the bot, the admin's progress edits: all count against Telegram's limit) ÷ the
time from the first to the last copy — as a ratio of the limit, against the target 0.8;
the same for delivered copies alone; the ceiling the rate allows; the 429s;
duplicates (a recipient with two copies) and lost (a recipient that did not block the bot
yet got nothing) — both must be 0. Nothing asserts a time.

About the target: the sender keeps every window a tenth longer than Telegram's
(``bot.sender.SAFETY``), so 30/s reaches at most 30/33 = 0.909 of the limit; every 429
stops all sends for its retry_after (1 s = 30 messages), and progress edits take slots too.
The budget therefore never sleeps per message (slots are evenly spaced, and a slot a little
late does not push the next back), DB claims and outcome writes happen between slots, and
sends overlap while in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import BENCH_SECRET, sqlite_url
from aiogram.utils.i18n import I18n
from sqlalchemy import insert, select

from bot.app import create_bot
from bot.broadcast_worker import BroadcastWorker
from bot.i18n import make_i18n
from bot.sender import SAFETY, Sender
from core import schema
from core.broadcasts import Audience, CampaignMessage
from core.db import Database
from core.models import Level, Role, User, UserStatus
from core.platform import Platform, build_platform
from core.settings import Settings
from sandbox.fake_telegram import ChatMessage, FakeTelegramServer
from sandbox.fake_telegram.methods import SENDING_METHODS
from sandbox.fake_telegram.state import Chat

TOKEN = "123456789:BENCH-broadcast"
ADMIN_TID = 7
FIRST_TID = 1_000_000
TARGET = 0.8
TEXT = "<b>Bench sale</b> — 10% off all <i>Steam</i> cards today"
MARKER = "Bench sale"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=30.0, help="sender messages/s")
    parser.add_argument("--limit", type=int, default=30, help="fake server messages/s")
    parser.add_argument("--random-429", type=float, default=0.001, help="share of calls")
    parser.add_argument("--blocked", type=float, default=0.01, help="share of recipients")
    parser.add_argument("--progress-seconds", type=float, default=3.0)
    parser.add_argument("--stop-at", type=float, default=0.0, help="restart after this share")
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


async def seed(platform: Platform, recipients: int) -> None:
    await platform.catalogue.grant_role(ADMIN_TID, Role.ADMIN, actor="bench")
    await platform.catalogue.set_language(ADMIN_TID, "en")
    async with platform.db.transaction() as session:
        level = await session.scalar(select(Level.id).order_by(Level.rank).limit(1))
        now = platform.clock.now()
        await session.execute(
            insert(User),
            [
                {
                    "telegram_id": FIRST_TID + n,
                    "display_name": "",
                    "is_reseller": True,
                    "is_supplier": False,
                    "is_admin": False,
                    "level_id": level,
                    "language": "en",
                    "status": UserStatus.ACTIVE,
                    "credit_limit": 0,
                    "created_at": now,
                    "started_at": now,  # they wrote to the bot: broadcasts reach them
                }
                for n in range(recipients)
            ],
        )


class Watch:
    """Every copy of the broadcast a recipient receives, timed, as the fake server stores it."""

    def __init__(self, server: FakeTelegramServer, stop_after: int, stop: asyncio.Event) -> None:
        self.copies: Counter[int] = Counter()
        self.times: list[float] = []
        state = server.state
        original = state.add_message

        def recording(chat: Chat, *, from_bot: bool, **fields: Any) -> ChatMessage:
            message = original(chat, from_bot=from_bot, **fields)
            if from_bot and chat.id != ADMIN_TID and MARKER in message.content:
                self.copies[chat.id] += 1
                self.times.append(time.monotonic())
                if stop_after and len(self.times) >= stop_after:
                    stop.set()
            return message

        state.add_message = recording  # type: ignore[method-assign]


async def run_worker_until(
    worker: BroadcastWorker, done: asyncio.Event, stop_when: asyncio.Event | None
) -> None:
    await worker.start()
    waits = [asyncio.create_task(done.wait())]
    if stop_when is not None:
        waits.append(asyncio.create_task(stop_when.wait()))
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in waits:
        task.cancel()
    await worker.stop()


async def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kameng-bench-broadcast-"))
    settings = Settings(
        database_url=sqlite_url(workdir, "broadcast.db"),
        secret_key=BENCH_SECRET,
        bot_token=TOKEN,
        telegram_sends_per_second=args.rate,
        broadcast_progress_seconds=args.progress_seconds,
        _env_file=None,  # type: ignore[call-arg]
    )
    db = Database(settings.database_url)
    await schema.upgrade(db)
    platform = build_platform(settings, db=db)
    await seed(platform, args.recipients)
    ids = [FIRST_TID + n for n in range(args.recipients)]

    async with FakeTelegramServer(token=TOKEN, seed=args.seed) as server:
        admin = server.user(ADMIN_TID, started=True)
        for telegram_id in ids:
            server.user(telegram_id, started=True)
        step = round(1 / args.blocked) if args.blocked > 0 else 0
        blocked = set(ids[::step]) if step else set()
        for telegram_id in blocked:
            server.block_user(telegram_id, notify_bot=False)
        server.flood_limit_per_second = args.limit
        server.random_429_rate = args.random_429

        live = build_platform(
            settings.model_copy(update={"telegram_api_base": server.base_url}), db=db
        )
        i18n: I18n = make_i18n()
        campaign = await live.broadcasts.draft(
            ADMIN_TID, CampaignMessage("text", TEXT), Audience("resellers")
        )
        started = await live.broadcasts.start(campaign.id, ADMIN_TID)
        bot = create_bot(live.settings)
        progress = await bot.send_message(ADMIN_TID, f"Broadcast #{campaign.id} is being sent.")
        await live.broadcasts.set_progress_message(campaign.id, progress.message_id)

        done = asyncio.Event()
        stop_now = asyncio.Event()
        target_recipients = started.campaign.recipients - len(blocked)
        stop_after = int(args.stop_at * target_recipients) if args.stop_at else 0
        watch = Watch(server, stop_after, stop_now)

        async def observe() -> None:
            """The end: the admin's report arrives."""
            while not done.is_set():
                if any("finished" in m.content for m in admin.messages):
                    done.set()
                await asyncio.sleep(0.2)

        observer = asyncio.create_task(observe())
        workers = 0
        try:
            worker = BroadcastWorker(live, Sender.for_settings(bot, live.settings), i18n)
            workers += 1
            await run_worker_until(worker, done, stop_now if stop_after else None)
            stats = [worker.stats]
            if not done.is_set():
                print(f"stopped the worker after {len(watch.times)} copies; a new worker resumes")
                worker = BroadcastWorker(live, Sender.for_settings(bot, live.settings), i18n)
                workers += 1
                await run_worker_until(worker, done, None)
                stats.append(worker.stats)
        finally:
            done.set()
            await observer
            await bot.session.close()

        counts = await live.broadcasts.counts(campaign.id)
        copies = {telegram_id: watch.copies[telegram_id] for telegram_id in ids}
        duplicates = sum(max(0, n - 1) for n in copies.values())
        lost = sum(1 for t, n in copies.items() if n == 0 and t not in blocked)
        floods = sum(1 for e in server.errors if e.error_code == 429)
        elapsed = watch.times[-1] - watch.times[0] if len(watch.times) > 1 else 0.0
        accepted = sum(1 for r in server.requests if r.method in SENDING_METHODS) - floods
        achieved = accepted / elapsed if elapsed > 0 else 0.0
        ratio = achieved / args.limit
        delivered = (len(watch.times) - 1) / elapsed if elapsed > 0 else 0.0
        ceiling = args.rate / SAFETY / args.limit

    await db.dispose()
    print(f"recipients: {args.recipients} ({len(blocked)} blocked the bot), workers: {workers}")
    print(f"worker rate {args.rate:g}/s, fake limit {args.limit}/s, random 429 {args.random_429}")
    print(
        f"report: sent {counts.sent}, blocked {counts.blocked}, failed {counts.failed}, "
        f"not sent {counts.pending}"
    )
    print(f"429 answers: {floods}; worker pauses: {sum(s.retry_afters for s in stats)}")
    print(f"time from first to last copy: {elapsed:.1f} s")
    print(
        f"achieved: {achieved:.2f} msg/s = {ratio:.3f} of the {args.limit}/s limit "
        f"(target ≥ {TARGET}; the {args.rate:g}/s rate allows at most {ceiling:.3f})"
    )
    print(f"delivered copies alone: {delivered:.2f} msg/s = {delivered / args.limit:.3f}")
    print(f"duplicates: {duplicates}")
    print(f"lost: {lost}")
    ok = duplicates == 0 and lost == 0 and counts.failed == 0
    print("OK: every recipient got exactly one copy" if ok else "FAIL: see duplicates/lost")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

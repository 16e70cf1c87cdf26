"""Telegram's side of ``bench/bot_e2e.py``, in a process of its own: the fake Bot API server
and the simulated resellers pressing its buttons.

In production Telegram runs on Telegram's machines; measured in the bot's own process, the
fake server's HTTP handling and the simulated users' waiting would be charged to the bot.
``bot_e2e.py`` starts this script, reads one JSON line with the server's address, then
sends one JSON command per line on stdin and reads one JSON answer per line on stdout:

* ``{"cmd": "polled"}`` - waits until the bot has called getUpdates.
* ``{"cmd": "round", "counts": [...], "starts": [...]}`` - reseller ``b`` makes
  ``counts[b]`` purchases (``/buy SKU 1`` → the quote → Confirm → the codes message), one
  after the other, the first ``starts[b]`` seconds into the round. Answers the round's
  wall-clock seconds, each purchase's Confirm → codes latency, the codes shown, the
  purchases whose codes never came, this process's CPU seconds and the Bot API calls
  the bot made, by method.
* ``{"cmd": "unanswered"}`` - how many button presses the bot left unanswered.

End of input stops the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

from _common import SKU, SUPPLIER_TID

from sandbox.fake_telegram import FakeTelegramServer, FakeUser

REPLY_TIMEOUT = 60.0  # seconds a simulated user waits for a reply


class Purchases:
    """What the simulated resellers saw in one round."""

    def __init__(self) -> None:
        self.latencies: list[float] = []  # Confirm press → codes message, seconds
        self.codes: list[str] = []  # every code the buyers were shown
        self.lost = 0  # Confirms whose codes message never came (the buyer must open Orders)

    async def make(self, user: FakeUser) -> None:
        """One purchase as a reseller makes it in Telegram: /buy, the quote, Confirm, the
        code."""
        await user.send_text(f"/buy {SKU} 1")
        quote = await user.wait_for_message(
            lambda m: "✅ Confirm" in m.buttons and "Total:" in m.content, timeout=REPLY_TIMEOUT
        )
        pressed = time.perf_counter()
        await user.press("✅ Confirm", message=quote)
        try:
            receipt = await user.wait_for_message(
                lambda m: "Order #" in m.content, timeout=REPLY_TIMEOUT
            )
        except TimeoutError:
            self.lost += 1
            return
        self.latencies.append(time.perf_counter() - pressed)
        if len(receipt.codes) != 1:
            raise AssertionError(f"expected one code in {receipt.short()}")
        self.codes.extend(receipt.codes)
        # The purchase is done when the bot has finished with it: the quote loses its buttons.
        await user.wait_for_message(
            lambda m: m.message_id == quote.message_id and not m.buttons, timeout=REPLY_TIMEOUT
        )


async def run_round(
    server: FakeTelegramServer, users: list[FakeUser], counts: list[int], starts: list[float]
) -> dict[str, Any]:
    purchases = Purchases()
    calls_before = len(server.requests)

    async def reseller(b: int) -> None:
        if starts[b]:
            await asyncio.sleep(starts[b])
        for _ in range(counts[b]):
            await purchases.make(users[b])

    cpu_began, began = time.process_time(), time.perf_counter()
    await asyncio.gather(*(reseller(b) for b in range(len(users))))
    return {
        "purchases": sum(counts),
        "seconds": time.perf_counter() - began,
        "latencies": purchases.latencies,
        "codes": purchases.codes,
        "lost": purchases.lost,
        "cpu": time.process_time() - cpu_began,
        "calls": Counter(r.method for r in server.requests[calls_before:]),
    }


async def serve(token: str, first_tid: int, resellers: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    async with FakeTelegramServer(token=token) as server:
        users = [
            server.user(first_tid + b, first_name=f"R{b}", language_code="en")
            for b in range(resellers)
        ]
        server.user(
            SUPPLIER_TID, first_name="Supplier", language_code="en", started=True
        )  # sale notices
        answer({"base_url": server.base_url})
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "polled":
                # the fake signals chats, not calls: poll, once, at start-up
                while not server.calls("getUpdates"):  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                answer({"ok": True})
            elif command["cmd"] == "round":
                answer(await run_round(server, users, command["counts"], command["starts"]))
            elif command["cmd"] == "unanswered":
                answer({"unanswered": len(await server.wait_callbacks_answered())})
            else:
                raise ValueError(f"unknown command {command!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True)
    parser.add_argument("--first-tid", type=int, required=True)
    parser.add_argument("--resellers", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.token, args.first_tid, args.resellers))


if __name__ == "__main__":
    main()

"""A writer process for the backup tests: a reseller buys one code at a time and the id of
each order is printed once its transaction has committed, so whoever reads a line knows
that order is in the database. Runs on ``KAMENG_DATABASE_URL`` / ``KAMENG_SECRET_KEY``.

    python -m tests.backup_writer TELEGRAM_ID SKU COUNT
"""

from __future__ import annotations

import asyncio
import sys

from core.orders import Requoted
from core.platform import build_platform
from core.settings import Settings


async def buy(telegram_id: int, sku: str, count: int) -> None:
    platform = build_platform(Settings())
    try:
        for n in range(count):
            receipt = await platform.shop.buy_now(
                telegram_id, sku, 1, idempotency_key=f"backup-writer-{n}"
            )
            assert not isinstance(receipt, Requoted)
            print(receipt.order_id, flush=True)
    finally:
        await platform.close()


if __name__ == "__main__":
    asyncio.run(buy(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))

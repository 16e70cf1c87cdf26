"""``kameng payments list / check / credit`` against the fake epay gateway, and ``kameng
ledger check`` after them (the commands run in-process, in a thread of their own, while the
gateway and the notification endpoint serve in the test's loop)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from core.models import PaymentStatus
from tests.cli_runner import Done, run_kameng
from tests.conftest import TEST_SECRET
from tests.payments.conftest import OTHER, RESELLER, Paying


async def _kameng(paying: Paying, tmp_path: Path, *args: str) -> Done:
    settings = paying.platform.settings
    env = {
        "KAMENG_DATABASE_URL": settings.database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_EPAY_GATEWAY": settings.epay_gateway,
        "KAMENG_EPAY_PID": settings.epay_pid,
        "KAMENG_EPAY_KEY": settings.epay_key,
        "KAMENG_PAYMENTS_PUBLIC_URL": settings.payments_public_url,
    }
    return await asyncio.to_thread(run_kameng, *args, env=env, cwd=tmp_path)


async def test_the_operator_lists_checks_and_credits_payments(
    paying: Paying, tmp_path: Path
) -> None:
    paying.clock.current = datetime.now(UTC)  # the commands read the system clock
    lost = await paying.open(40_00)
    paying.gateway.faults.lose = 1 + len(paying.gateway.retry_delays)
    await paying.pay(lost)
    short = await paying.open(60_00, telegram_id=OTHER)
    paying.gateway.orders[short].money = "6.00"
    await paying.pay(short)

    listed = await _kameng(paying, tmp_path, "payments", "list", "--status", "created")
    assert listed.returncode == 0, listed.stderr
    assert lost in listed.stdout and short not in listed.stdout
    assert f"user {RESELLER}  40.00 CNY  created" in listed.stdout

    checked = await _kameng(paying, tmp_path, "payments", "check", lost)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("credited: ") and "balance now 40.00" in checked.stdout
    assert (await paying.platform.payments.get(lost)).status is PaymentStatus.CREDITED

    credit = ("payments", "credit", short, "--to", str(OTHER), "--note", "paid 6.00 by mistake")
    done = await _kameng(paying, tmp_path, *credit)
    assert done.returncode == 0, done.stderr
    assert "balance now 6.00" in done.stdout
    again = await _kameng(paying, tmp_path, *credit)
    assert again.returncode == 1 and "status credited" in again.stderr
    assert (await paying.balance(OTHER)) == 6_00

    unknown = await _kameng(paying, tmp_path, "payments", "check", "nope")
    assert unknown.returncode == 1 and "no payment nope" in unknown.stderr
    proof = await _kameng(paying, tmp_path, "ledger", "check")
    assert proof.returncode == 0, proof.stdout + proof.stderr

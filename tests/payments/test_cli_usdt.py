"""``kameng usdt``: an operator sets the rate, runs the watcher, and sees what paid nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from core.audit import verify
from core.checks import check_ledger
from core.platform import Platform
from core.settings import Settings
from sandbox.fake_tron import FakeTronServer
from tests.cli_runner import Done, run_kameng
from tests.conftest import TEST_SECRET, FakeClock
from tests.factories import make_reseller
from tests.tron_helpers import OURS, usdt_settings


def _kameng(
    settings: Settings, api_url: str, tmp_path: Path, group: str = "usdt"
) -> Callable[..., Awaitable[Done]]:
    """``kameng <group> …`` in its own process, on the test's database, with USDT watching
    ``OURS`` on the node at ``api_url``."""
    env = {
        "KAMENG_DATABASE_URL": settings.database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_USDT_DEPOSIT_ADDRESS": OURS,
        "KAMENG_USDT_API_URL": api_url,
    }

    async def kameng(*args: str) -> Done:
        return await asyncio.to_thread(run_kameng, group, *args, env=env, cwd=tmp_path)

    return kameng


@pytest.fixture
def settings(database_url: str, node: FakeTronServer) -> Settings:
    return usdt_settings(database_url, node)


async def test_rate_watch_and_transfers_from_the_command_line(
    platform: Platform, node: FakeTronServer, clock: FakeClock, settings: Settings, tmp_path: Path
) -> None:
    kameng = _kameng(settings, node.base_url, tmp_path)

    assert (await kameng("rate")).stdout.startswith("no rate set")
    await make_reseller(platform, 5001)
    refused = await kameng("watch")  # nothing to read yet is fine; a bad rate is not
    assert refused.returncode == 0, refused.stderr
    assert (await kameng("rate", "set", "-7")).returncode == 2
    done = await kameng("rate", "set", "7.25", "--note", "market")
    assert (done.returncode, done.stdout) == (0, "1 USDT = 7.25 from now on\n")
    assert "1 USDT = 7.25 (set by cli" in (await kameng("rate")).stdout
    typo = await kameng("rate", "set", "72.5")  # a slipped decimal point
    assert typo.returncode == 1 and "Traceback" not in typo.stderr
    assert "72.50 CNY is outside 5.00–10.00 CNY, the sane range for CNY" in typo.stderr
    jump = await kameng("rate", "set", "9")
    assert jump.returncode == 1
    assert "moves the rate in force (7.25 CNY) by 24.13%: check it and run again with --yes" in (
        jump.stderr
    )
    assert "1 USDT = 7.25 (set by cli" in (await kameng("rate")).stdout
    sure = await kameng("rate", "set", "9", "--yes", "--note", "the market moved")
    assert (sure.returncode, sure.stdout) == (0, "1 USDT = 9.00 from now on\n")

    node.chain.pay(OURS, 1_234_000)  # pays nothing: there is no payment
    node.chain.mine(19)
    ran = await kameng("watch")
    assert ran.stdout.startswith("1 listed, 1 new, 0 credited, 0 too late, 1 paying nothing")
    listed = (await kameng("transfers", "--status", "mismatched")).stdout
    assert "1.234000 USDT" in listed and "mismatched (amount)" in listed
    assert (await kameng("transfers", "--status", "credited")).stdout == "no transfers\n"
    assert (await check_ledger(platform.db)).ok
    assert (await verify(platform.db)).ok


async def test_a_node_that_is_down_is_one_line(
    platform: Platform, settings: Settings, tmp_path: Path
) -> None:
    done = await _kameng(settings, "http://127.0.0.1:9", tmp_path)("watch")
    assert done.returncode == 1
    assert done.stderr.startswith("error: the TRON API did not answer")
    assert "Traceback" not in done.stderr


async def test_an_operator_credits_a_transfer_that_paid_nothing_once(
    platform: Platform, node: FakeTronServer, clock: FakeClock, settings: Settings, tmp_path: Path
) -> None:
    kameng = _kameng(settings, node.base_url, tmp_path)

    await make_reseller(platform, 5001)
    await platform.usdt.set_rate(725)
    kept = node.chain.pay(OURS, 13_793_103, at=clock.now())  # 13.793103 USDT: no payment
    node.chain.mine(19)
    await platform.usdt.watch()

    no_note = await kameng("credit", kept.tx_id, "--to", "5001", "--note", " ")
    assert no_note.returncode == 1 and "Traceback" not in no_note.stderr
    done = await kameng("credit", kept.tx_id, "--to", "5001", "--note", "paid without a top-up")
    assert done.returncode == 0, done.stderr
    assert "credited: payment" in done.stdout and "99.99 to 5001" in done.stdout  # rounded down
    again = await kameng("credit", kept.tx_id, "--to", "5001", "--note", "twice?")
    assert again.returncode == 1  # once only
    assert (await platform.balances.balance(5001)).balance == 99_99
    assert (await kameng("transfers", "--status", "mismatched")).stdout == "no transfers\n"
    assert (await check_ledger(platform.db)).ok
    assert (await verify(platform.db)).ok


async def test_payments_list_shows_each_providers_amount_in_its_own_unit(
    platform: Platform, node: FakeTronServer, clock: FakeClock, settings: Settings, tmp_path: Path
) -> None:
    kameng = _kameng(settings, node.base_url, tmp_path, group="payments")
    await make_reseller(platform, 5001)
    await platform.usdt.set_rate(725)
    created = await platform.payments.create(5001, "usdt", 100_00)
    node.chain.pay(OURS, 13_801_000, at=clock.now())
    node.chain.mine(19)
    await platform.usdt.watch()
    done = await kameng("list")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert created.payment.id in line
    assert "100.00 CNY (13.801000 USDT)  credited  paid 13.801000 USDT" in line
    assert "138,010.00" not in line and "138010.00" not in line  # not units read as fen

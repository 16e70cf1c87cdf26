"""``kameng stars``: the rate shown and set (audited), refunds still owed listed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from core.audit import verify
from core.platform import Platform, build_platform
from tests.cli_runner import run_kameng
from tests.conftest import TEST_SECRET


def stars_cli(platform: Platform, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {
        "KAMENG_DATABASE_URL": platform.settings.database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_STARS_ENABLED": "1",
    }
    done = run_kameng("stars", *args, env=env, cwd=tmp_path)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


async def test_the_rate_is_shown_set_and_audited(platform: Platform, tmp_path: Path) -> None:
    code, out, _ = await asyncio.to_thread(stars_cli, platform, tmp_path, "rate")
    assert (code, out) == (0, "no Stars rate is set: kameng stars rate FEN_PER_STAR")
    code, out, _ = await asyncio.to_thread(
        stars_cli, platform, tmp_path, "rate", "15", "--note", "new week"
    )
    assert (code, out) == (0, "1 star = 0.15 from now on")
    code, out, _ = await asyncio.to_thread(stars_cli, platform, tmp_path, "rate")
    assert out == "1 star = 0.15"
    assert await platform.stars.rate() == 15
    assert (await verify(platform.db)).ok
    code, _, err = await asyncio.to_thread(stars_cli, platform, tmp_path, "rate", "0")
    assert code == 2 and "0 is not in the range" in err


async def test_a_typo_is_refused_and_a_big_move_needs_yes(
    platform: Platform, tmp_path: Path
) -> None:
    """200 fen for 20 would credit ten times too much: refused; 30 after 15 doubles every
    Stars top-up's credit: only with --yes."""
    await asyncio.to_thread(stars_cli, platform, tmp_path, "rate", "15")
    code, _, err = await asyncio.to_thread(stars_cli, platform, tmp_path, "rate", "200")
    assert code == 1 and "Traceback" not in err
    assert "1 star = 2.00 CNY is outside 0.03–0.30 CNY, the sane range for CNY" in err
    code, _, err = await asyncio.to_thread(stars_cli, platform, tmp_path, "rate", "30")
    assert code == 1
    assert "1 star = 0.30 CNY moves the rate in force (0.15 CNY) by 100%: check it and run " \
        "again with --yes" in err  # fmt: skip
    assert await platform.stars.rate() == 15
    code, out, _ = await asyncio.to_thread(
        stars_cli, platform, tmp_path, "rate", "30", "--yes", "--note", "Telegram's price"
    )
    assert (code, out) == (0, "1 star = 0.30 from now on")
    assert await platform.stars.rate() == 30


async def test_no_refund_pending(platform: Platform, tmp_path: Path) -> None:
    code, out, _ = await asyncio.to_thread(stars_cli, platform, tmp_path, "refunds")
    assert (code, out) == (0, "no refunds pending")


async def test_payments_list_shows_stars_paid_in_stars(platform: Platform, tmp_path: Path) -> None:
    from tests.factories import make_reseller

    stars_platform = build_platform(
        platform.settings.model_copy(update={"stars_enabled": True, "stars_fen_per_star": 20}),
        clock=platform.clock,
        db=platform.db,
    )
    await make_reseller(stars_platform, 1001)
    created = await stars_platform.payments.create(1001, "stars", 100_00)
    await stars_platform.payments.notify(
        "stars",
        {
            "currency": "XTR",
            "total_amount": "500",
            "invoice_payload": created.payment.id,
            "telegram_payment_charge_id": "stx-1",
        },
        via="telegram",
    )
    env = {
        "KAMENG_DATABASE_URL": platform.settings.database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_STARS_ENABLED": "1",
    }
    done = await asyncio.to_thread(
        run_kameng, "payments", "list", "--status", "credited", env=env, cwd=tmp_path
    )
    assert (
        "stars  user 1001  100.00 CNY (500 XTR)  credited  paid 500 XTR  ref stx-1" in done.stdout
    )

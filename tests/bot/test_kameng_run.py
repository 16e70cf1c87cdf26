"""``kameng run``: the operator starts the bot from the command line; it registers its
command menu in both languages, serves users, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import TOKEN
from tests.cli_runner import run_kameng
from tests.conftest import TEST_SECRET


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "KAMENG_DATABASE_URL": database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        **extra,
    }


async def test_kameng_run_serves_users_and_stops_on_sigterm(
    server: FakeTelegramServer, database_url: str, tmp_path: Path
) -> None:
    env = _environment(
        database_url, KAMENG_BOT_TOKEN=TOKEN, KAMENG_TELEGRAM_API_BASE=server.base_url
    )
    upgraded = await asyncio.to_thread(run_kameng, "db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    bot = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli.main", "run"),
        env=env,
        cwd=tmp_path,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        reseller = server.user(5150, language_code="en", started=True)
        await reseller.send_text("/start")
        welcome = await reseller.wait_for_message(timeout=30)
        assert "Welcome" in welcome.content
        menus = {call.get("language_code") for call in server.calls("setMyCommands")}
        assert {"en", "zh"} <= menus
    finally:
        bot.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(bot.communicate(), timeout=30)
    assert bot.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr


def test_kameng_run_without_a_token_says_what_is_missing(database_url: str, tmp_path: Path) -> None:
    env = _environment(database_url, KAMENG_BOT_TOKEN="")
    done = run_kameng("run", env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert "KAMENG_BOT_TOKEN" in done.stderr

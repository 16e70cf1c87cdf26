"""``kameng sandbox`` started as a subprocess, the way a developer runs it, for the tests
that look at it from outside (tests/sandbox/test_sandbox_command.py, test_sandbox_browser.py)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

READY_SECONDS = 120  # a fresh demo on a busy two-core machine
STOP_SECONDS = 10

READY = re.compile(r"Kameng sandbox ready in [\d.]+ s: open (http://127\.0\.0\.1:\d+/)")
API = re.compile(r"reseller API: (http://127\.0\.0\.1:\d+)\s+key: (\S+)")
EMULATOR = re.compile(r"Telegram Bot API emulator: (http://127\.0\.0\.1:\d+)")


@dataclass
class Sandbox:
    process: asyncio.subprocess.Process
    page_url: str
    api_url: str
    api_key: str
    telegram_url: str
    printed: str
    started: float  # time.monotonic() when the command was started


def misleading_environment(tmp_path: Path) -> dict[str, str]:
    """A developer's environment pointing at a real bot and database: the sandbox ignores it."""
    return {
        **os.environ,
        "KAMENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'developer.db'}",
        "KAMENG_BOT_TOKEN": "123:the-developers-real-bot",
        "KAMENG_TELEGRAM_API_BASE": "http://127.0.0.1:9",
        "KAMENG_SECRET_KEY": "",
    }


@asynccontextmanager
async def sandbox_process(
    tmp_path: Path, *args: str, stop: signal.Signals = signal.SIGINT
) -> AsyncIterator[Sandbox]:
    """``kameng sandbox --port 0 --dir data ARGS`` until it is ready; leaving sends ``stop``
    (Ctrl-C's SIGINT by default) and checks the clean stop: exit 0 within seconds, no
    traceback, nothing logged at ERROR."""
    log = tmp_path / "sandbox.stderr"  # a file, not a pipe nobody reads while it runs
    started = time.monotonic()
    with log.open("wb") as stderr:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "cli.main", "sandbox", "--port", "0", "--dir", "data", *args),
            env=misleading_environment(tmp_path),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=stderr,
        )
    assert process.stdout is not None
    printed = ""
    try:
        async with asyncio.timeout(READY_SECONDS):
            while "Ctrl-C to stop" not in printed:
                line = await process.stdout.readline()
                assert line, f"the sandbox exited before it was ready: {log.read_text()}"
                printed += line.decode()
        page, api, telegram = READY.search(printed), API.search(printed), EMULATOR.search(printed)
        assert page and api and telegram, printed
        yield Sandbox(process, page[1], api[1], api[2], telegram[1], printed, started)
    finally:
        if process.returncode is None:
            process.send_signal(stop)
        await asyncio.wait_for(process.communicate(), timeout=STOP_SECONDS)
    errors = log.read_text()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    assert " ERROR " not in errors

"""``kameng sandbox`` as a developer runs it: a process that prints where to go, serves the
chat page, the reseller API and the Telegram emulator, stops cleanly on Ctrl-C, and with
``--keep`` comes back on the same data.

The sandbox always runs on its own SQLite file in ``--dir``, whatever the environment says
(the suite's PostgreSQL run runs this test too)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from sandbox.run import BOT_TOKEN
from tests.cli_runner import run_kameng

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


def _misleading_environment(tmp_path: Path) -> dict[str, str]:
    """A developer's environment pointing at a real bot and database: the sandbox ignores it."""
    return {
        **os.environ,
        "KAMENG_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'developer.db'}",
        "KAMENG_BOT_TOKEN": "123:the-developers-real-bot",
        "KAMENG_TELEGRAM_API_BASE": "http://127.0.0.1:9",
        "KAMENG_SECRET_KEY": "",
    }


@asynccontextmanager
async def sandbox(tmp_path: Path, *args: str) -> AsyncIterator[Sandbox]:
    """``kameng sandbox --port 0 --dir data ARGS`` until it is ready; leaving sends SIGINT and
    checks the clean stop: exit 0 within seconds, no traceback, nothing logged at ERROR."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli.main", "sandbox", "--port", "0", "--dir", "data", *args),
        env=_misleading_environment(tmp_path),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    printed = ""
    try:
        async with asyncio.timeout(READY_SECONDS):
            while "Ctrl-C to stop" not in printed:
                line = await process.stdout.readline()
                assert line, f"the sandbox exited before it was ready: {printed}"
                printed += line.decode()
        page, api, telegram = READY.search(printed), API.search(printed), EMULATOR.search(printed)
        assert page and api and telegram, printed
        yield Sandbox(process, page[1], api[1], api[2], telegram[1], printed)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=STOP_SECONDS)
    errors = stderr.decode()
    assert process.returncode == 0, errors
    assert "Traceback" not in errors
    assert " ERROR " not in errors


async def _api(
    http: aiohttp.ClientSession, box: Sandbox, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    """One call with the printed key; a POST carries a fresh Idempotency-Key."""
    headers = {"Authorization": f"Bearer {box.api_key}", "Accept-Language": "en"}
    if method == "POST":
        headers["Idempotency-Key"] = str(uuid.uuid4())
    async with http.request(method, box.api_url + path, headers=headers, json=body) as response:
        return response.status, await response.json(content_type=None)


async def test_the_sandbox_serves_the_page_the_api_and_the_emulator_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    async with aiohttp.ClientSession() as http:
        async with sandbox(tmp_path) as box:
            async with http.get(box.page_url) as page:
                assert page.status == 200
                assert "text/html" in page.content_type
            status, me = await _api(http, box, "GET", "/api/v1/me")
            assert status == 200, me
            status, listing = await _api(http, box, "GET", "/api/v1/skus?limit=100")
            assert status == 200, listing
            sku = next(s["code"] for s in listing["items"] if s["in_stock"])
            order = {"sku": sku, "quantity": 1}
            status, bought = await _api(http, box, "POST", "/api/v1/orders", order)
            assert status == 201, bought
            async with http.get(f"{box.telegram_url}/bot{BOT_TOKEN}/getMe") as emulator:
                assert emulator.status == 200
                assert (await emulator.json())["result"]["is_bot"] is True

        # the developer's environment pointed elsewhere: nothing was written there
        assert not (tmp_path / "developer.db").exists()
        assert (tmp_path / "data" / "kameng.db").exists()

        async with sandbox(tmp_path, "--keep") as kept:
            assert "(kept)" in kept.printed
            assert kept.api_key == box.api_key  # the stored key still opens the API
            status, order = await _api(http, kept, "GET", f"/api/v1/orders/{bought['id']}")
            assert status == 200, order
            assert order["codes"] == bought["codes"]


def test_a_port_in_use_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = run_kameng(
            "sandbox",
            "--port",
            str(port),
            "--dir",
            "data",
            env=_misleading_environment(tmp_path),
            cwd=tmp_path,
        )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: port {port} is already in use (another sandbox?); "
        "choose another with --port, or --port 0 for any free one"
    )
    assert not (tmp_path / "data").exists()  # nothing was built for a sandbox that cannot run

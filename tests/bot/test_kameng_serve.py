"""``kameng serve`` as the operator runs it: a real process taking updates by webhook from
the fake Telegram, each update once; a wrong secret is refused; without Redis a second
instance on the same database is refused."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from sandbox.fake_telegram import FakeTelegramServer
from tests.bot.conftest import TOKEN
from tests.bot.helpers import eventually
from tests.cli_runner import run_kameng
from tests.conftest import TEST_SECRET

SECRET = "serve-test_secret-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(database_url: str, server: FakeTelegramServer, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "KAMENG_DATABASE_URL": database_url,
        "KAMENG_SECRET_KEY": TEST_SECRET,
        "KAMENG_BOT_TOKEN": TOKEN,
        "KAMENG_TELEGRAM_API_BASE": server.base_url,
        "KAMENG_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram/webhook",
        "KAMENG_WEBHOOK_SECRET": SECRET,
        "KAMENG_API_PORT": str(port),
        "KAMENG_REDIS_URL": "",
    }


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli.main", "serve"),
        env=env,
        cwd=cwd,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    return stderr.decode()


async def _webhook_set(server: FakeTelegramServer) -> None:
    async def is_set() -> bool:
        return server.state.webhook is not None

    await eventually(is_set, "setWebhook", timeout=30)


async def test_kameng_serve_takes_each_update_once_and_refuses_a_wrong_secret(
    server: FakeTelegramServer, database_url: str, tmp_path: Path
) -> None:
    port = _free_port()
    env = _environment(database_url, server, port)
    upgraded = await asyncio.to_thread(run_kameng, "db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    process = await _start(env, tmp_path)
    try:
        await _webhook_set(server)
        setting = server.calls("setWebhook")[-1]
        assert setting["secret_token"] == SECRET
        assert {"message", "callback_query"} <= set(setting["allowed_updates"])
        reseller = server.user(5150, language_code="en")
        await reseller.send_text("/start")
        welcome = await reseller.wait_for_message(timeout=30)
        assert "Welcome" in welcome.content
        # Telegram redelivers it, and a second instance behind the balancer gets it too:
        first_update = server.webhook.posts[0].update_id
        assert await server.webhook.redeliver(first_update) == 200
        assert await server.webhook.redeliver(first_update) == 200
        # a stranger posting with a wrong secret: refused, nothing processed
        stranger = {
            "update_id": 990001,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 6160, "type": "private"},
                "from": {"id": 6160, "is_bot": False, "first_name": "Eve"},
                "text": "/start",
            },
        }
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
                async with http.post(url, data=json.dumps(stranger), headers=headers) as answer:
                    assert answer.status == 403
            # the reseller API is served by the same application
            async with http.get(f"http://127.0.0.1:{port}/api/v1/openapi.json") as answer:
                assert answer.status == 200
        await reseller.send_text("/start")  # handled in order after the duplicates
        await reseller.wait_for_message(timeout=30)
        sent = [call for call in server.calls("sendMessage") if call["chat_id"] == 5150]
        assert len(sent) == 2  # one welcome per /start, none for the redeliveries
        assert not [call for call in server.calls("sendMessage") if call["chat_id"] == 6160]
    finally:
        stderr = await _stop(process)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "2 duplicates dropped" in stderr
    assert server.state.webhook is not None  # left set: other instances keep serving it


async def test_without_redis_a_second_instance_on_the_same_database_is_refused(
    server: FakeTelegramServer, database_url: str, tmp_path: Path
) -> None:
    env = _environment(database_url, server, _free_port())
    upgraded = await asyncio.to_thread(run_kameng, "db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    first = await _start(env, tmp_path)
    try:
        await _webhook_set(server)
        second = await _start(_environment(database_url, server, _free_port()), tmp_path)
        _, stderr_bytes = await asyncio.wait_for(second.communicate(), timeout=30)
        refusal = stderr_bytes.decode()
        assert second.returncode == 2
        lines = [line for line in refusal.splitlines() if line.strip()]
        assert len(lines) == 1, refusal
        assert "another kameng serve" in lines[0] and "KAMENG_REDIS_URL" in lines[0]
    finally:
        stderr = await _stop(first)
    assert first.returncode == 0, stderr
    # a clean stop gave the lease back: the next instance starts at once
    server.state.webhook = None
    again = await _start(env, tmp_path)
    try:
        await _webhook_set(server)
    finally:
        await _stop(again)
    assert again.returncode == 0

"""``kameng sandbox`` as a developer runs it: a process that prints where to go, serves the
chat page, the reseller API and the Telegram emulator, stops cleanly on Ctrl-C, and with
``--keep`` comes back on the same data.

The sandbox always runs on its own SQLite file in ``--dir``, whatever the environment says
(the suite's PostgreSQL run runs this test too)."""

from __future__ import annotations

import signal
import socket
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from sandbox.run import BOT_TOKEN
from tests.cli_runner import run_kameng
from tests.sandbox.sandbox_process import Sandbox, misleading_environment, sandbox_process


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
        async with sandbox_process(tmp_path) as box:
            async with http.get(box.page_url) as page:
                assert page.status == 200
                assert "text/html" in page.content_type
            status, me = await _api(http, box, "GET", "/api/v1/me")
            assert status == 200, me
            status, listing = await _api(http, box, "GET", "/api/v1/skus?limit=100")
            assert status == 200, listing
            # a local SKU: an upstream's (U<id>-…) is bought through procurement (fulfilment)
            local = [s for s in listing["items"] if not s["code"].startswith("U1-")]
            assert len(local) < len(listing["items"])  # the demo's upstream is on the shelves
            sku = next(s["code"] for s in local if s["in_stock"])
            order = {"sku": sku, "quantity": 1}
            status, bought = await _api(http, box, "POST", "/api/v1/orders", order)
            assert status == 201, bought
            async with http.get(f"{box.telegram_url}/bot{BOT_TOKEN}/getMe") as emulator:
                assert emulator.status == 200
                assert (await emulator.json())["result"]["is_bot"] is True

        # the developer's environment pointed elsewhere: nothing was written there
        assert not (tmp_path / "developer.db").exists()
        assert (tmp_path / "data" / "kameng.db").exists()

        async with sandbox_process(tmp_path, "--keep", stop=signal.SIGTERM) as kept:
            assert "(kept)" in kept.printed
            assert kept.api_key == box.api_key  # the stored key still opens the API
            status, order = await _api(http, kept, "GET", f"/api/v1/orders/{bought['id']}")
            assert status == 200, order
            assert order["codes"] == bought["codes"]

        # a lost key file: the kept sandbox issues a new key to the same reseller
        (tmp_path / "data" / "api-key.json").unlink()
        async with sandbox_process(tmp_path, "--keep") as reissued:
            assert reissued.api_key != box.api_key
            status, order = await _api(http, reissued, "GET", f"/api/v1/orders/{bought['id']}")
            assert status == 200, order


def test_a_port_in_use_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = run_kameng(
            "sandbox",
            "--port",
            str(port),
            "--dir",
            "data",
            env=misleading_environment(tmp_path),
            cwd=tmp_path,
        )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: port {port} is already in use (another sandbox?); "
        "choose another with --port, or --port 0 for any free one"
    )
    assert not (tmp_path / "data").exists()  # nothing was built for a sandbox that cannot run


def test_a_kept_database_without_its_secret_key_is_refused_in_one_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "kameng.db").write_bytes(b"")
    done = run_kameng(
        "sandbox", "--keep", "--port", "0", "--dir", "data",
        env=misleading_environment(tmp_path), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: data/secret.key is missing, so data/kameng.db cannot be kept; "
        "start without --keep for a fresh sandbox"
    )
    assert (data / "kameng.db").exists()  # refused, not deleted

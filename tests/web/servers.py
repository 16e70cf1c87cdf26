"""``kameng api serve`` as a real process, for the tests that need one (a read-only disk,
two servers on one file, the operator's CLI stories): start it, wait until it answers, stop
it with SIGTERM; and the operator's short commands beside it (``operator_cli``)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from sandbox.instances import free_port
from tests.cli_runner import Done, run_kameng
from tests.conftest import TEST_SECRET

# Root ignores file permissions through these capabilities; without them (uid 0 still,
# so the interpreter under /root stays reachable) a file's mode bits hold as for anyone.
_PERMISSION_CAPS = "-dac_override,-dac_read_search,-fowner"
UNPRIVILEGED = ("setpriv", f"--bounding-set={_PERMISSION_CAPS}", f"--inh-caps={_PERMISSION_CAPS}")


def why_privileges_cannot_drop(scratch: Path) -> str | None:
    """None when a process started under ``UNPRIVILEGED`` is refused a read-only file;
    else why not (no setpriv, or this sandbox may not drop capabilities)."""
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    probe = scratch / "read-only-probe"
    probe.write_text("")
    probe.chmod(0o444)
    try:
        done = subprocess.run(
            [*UNPRIVILEGED, sys.executable, "-c", f"open({str(probe)!r}, 'a')"],
            capture_output=True,
            check=False,
        )
    finally:
        probe.unlink()
    if done.returncode == 0:
        return "a process without CAP_DAC_OVERRIDE could still write a read-only file"
    if b"PermissionError" not in done.stderr:
        return f"setpriv could not drop capabilities: {done.stderr.decode()[-200:]}"
    return None


class ServerProcess:
    """One ``kameng api serve`` on ``database_url``, on a free port."""

    def __init__(
        self,
        database_url: str,
        cwd: Path,
        *,
        prefix: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        port_as_setting: bool = False,
    ) -> None:
        """``port_as_setting``: the port is given as an operator would in production
        (``KAMENG_API_PORT``) rather than with ``--port``."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/api/v1"
        port = () if port_as_setting else ("--port", str(self.port))
        self._command = [
            *prefix,
            *(sys.executable, "-m", "cli.main", "api", "serve"),
            *("--host", "127.0.0.1", *port),
        ]
        self._env = {
            **os.environ,
            "KAMENG_DATABASE_URL": database_url,
            "KAMENG_SECRET_KEY": TEST_SECRET,
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            **({"KAMENG_API_PORT": str(self.port)} if port_as_setting else {}),
            **(env or {}),
        }
        self._cwd = cwd
        self._process: asyncio.subprocess.Process | None = None
        self.stderr = ""

    async def start(self, key: str) -> None:
        self._process = await asyncio.create_subprocess_exec(
            *self._command,
            env=self._env,
            cwd=self._cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        async with aiohttp.ClientSession() as http:
            for _ in range(400):  # until it listens (a process start, not a correctness wait)
                try:
                    async with http.get(
                        f"{self.base_url}/openapi.json", headers={"Authorization": key}
                    ):
                        return
                except aiohttp.ClientConnectionError:
                    assert self._process.returncode is None, await self.stop()
                    await asyncio.sleep(0.05)
        raise AssertionError(f"kameng api serve did not start listening: {await self.stop()}")

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        assert self._process is not None
        return self._process.returncode

    async def stop(self) -> str:
        """SIGTERM, wait, and the server's log (stderr)."""
        assert self._process is not None
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(self._process.communicate(), timeout=60)
        self.stderr = err.decode()
        return self.stderr


def operator_cli(database_url: str, cwd: Path) -> Callable[..., Awaitable[Done]]:
    """The operator's short ``kameng`` commands on ``database_url`` (in-process, see
    ``tests.cli_runner``); each must exit 0 unless called with ``ok=False``."""
    env = {"KAMENG_DATABASE_URL": database_url, "KAMENG_SECRET_KEY": TEST_SECRET}

    async def kameng(*args: str, ok: bool = True) -> Done:
        done = await asyncio.to_thread(run_kameng, *args, env=env, cwd=cwd)
        assert done.returncode == 0 or not ok, done.stderr
        return done

    return kameng

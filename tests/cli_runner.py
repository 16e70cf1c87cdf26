"""The ``kameng`` command run in-process through click's ``CliRunner``.

Starting a Python process per command costs about a second of imports; in-process the same
command line goes through the same click group, reads its settings from the same
environment variables (``env`` is laid over ``os.environ``, ``None`` removes a variable)
and from ``.env`` in ``cwd``, and exits with the same code. The answer has the shape of
``subprocess.CompletedProcess``, stdout and stderr kept apart. ``tests/test_cli.py`` keeps
one test that runs the installed ``kameng`` entry point as a real process.

The commands run their own event loop (``asyncio.run``): from an async test, call
``await asyncio.to_thread(run_kameng, ...)``.
"""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from cli.main import main


@dataclass(frozen=True)
class Done:
    returncode: int
    stdout: str
    stderr: str


def run_kameng(
    *args: str, env: Mapping[str, str | None], cwd: Path, stdin: str | None = None
) -> Done:
    with contextlib.chdir(cwd):
        result = CliRunner().invoke(main, list(args), input=stdin, env=dict(env))
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        # what the interpreter would have printed before exiting with 1
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return Done(result.exit_code, result.stdout, stderr)

"""The `winback` command run in the test's own process (typer's CliRunner), for the CLI tests that are about
what a command prints and returns rather than about the process: the same entry point (`winback.cli.main`,
which turns user errors into one line and exit status 2), with its own argv, environment, working folder,
stdout and stderr, and nothing of it left behind (umask, log levels, cached settings).

Tests about the process itself (the ask daemon, a killed send, the umask of files written, log lines on
stderr, the exit status a shell sees) start `python -m winback.cli` as a subprocess instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from winback.config import get_settings


@dataclass
class CliResult:
    """What `subprocess.run(..., capture_output=True, text=True)` returns, for the fields the tests read."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """The CLI sets the umask and winback's log level for its process: put both back afterwards."""
    umask = os.umask(0o022)
    os.umask(umask)
    winback_logger = logging.getLogger("winback")
    level = winback_logger.level
    argv = sys.argv
    get_settings.cache_clear()
    try:
        yield
    finally:
        os.umask(umask)
        winback_logger.setLevel(level)
        sys.argv = argv
        get_settings.cache_clear()


def invoke(args: list[str], env: Mapping[str, str] | None = None, cwd: Path | None = None) -> CliResult:
    """Run `winback ARGS` in-process with exactly the WINBACK_* variables in `env` (the test's own are
    removed, as a subprocess given only `env` would see), COLUMNS=200 and `cwd` as the working folder."""
    from winback.cli import main

    environment: dict[str, str | None] = {key: None for key in os.environ if key.startswith("WINBACK_")}
    environment.update({"COLUMNS": "200", **(env or {})})
    runner = CliRunner()
    code = 0
    with (
        _restored_process_state(),
        contextlib.chdir(cwd or Path.cwd()),
        runner.isolation(env=environment) as (out, err, _),
    ):
        sys.argv = ["winback", *args]
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except Exception:  # what a crashing process shows: its traceback and status 1
            traceback.print_exc(file=sys.stderr)
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        stdout, stderr = out.getvalue().decode(), err.getvalue().decode("utf-8", "backslashreplace")
    return CliResult(list(args), code, stdout, stderr)

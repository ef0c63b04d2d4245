"""A PostgreSQL server for a benchmark run: WINBACK_BENCH_POSTGRES_URL if set, else one started with
scripts/postgres.sh on 127.0.0.1 (a free port) and stopped when the run ends."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"


@contextmanager
def postgres_url() -> Iterator[str]:
    given = os.environ.get("WINBACK_BENCH_POSTGRES_URL")
    if given:
        yield given
        return
    folder = Path(tempfile.mkdtemp(prefix="winback-bench-pg-"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    try:
        out = subprocess.run([str(SCRIPT), "start", str(folder), str(port)], check=True, capture_output=True, text=True)
        yield out.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(SCRIPT), "stop", str(folder)], capture_output=True)


def database_url(name: str, sqlite_file: Path, stack: ExitStack) -> str:
    """The URL of a benchmark's database by name: a SQLite file, or a PostgreSQL server held by `stack`."""
    if name == "sqlite":
        return f"sqlite:///{sqlite_file}"
    if name == "postgres":
        return stack.enter_context(postgres_url())
    raise SystemExit(f"unknown database {name!r}")

"""`winback ask` through the warm per-folder process: same answers as in-process, a private socket, a
fresh process for other settings, stopped on request and when idle."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from winback.cli.daemon import socket_path
from winback.config import Settings

pytestmark = pytest.mark.slow  # background processes started, waited for and stopped
QUESTION = "top 3 customers at risk in each segment? just the top 3"


def ask(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "winback.cli", "ask", "--json", *args, QUESTION],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "winback.cli", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def env(shop_dir: Path) -> Iterator[dict[str, str]]:
    values = {
        **os.environ,
        "WINBACK_DATA_DIR": str(shop_dir),
        "WINBACK_LLM_PORT": "9",
        "WINBACK_ASSISTANT_PLANNER": "router",
    }
    yield values
    subprocess.run([sys.executable, "-m", "winback.cli", "daemon", "stop"], env=values, capture_output=True)


def pid_of(env: dict[str, str]) -> int:
    return json.loads(cli(env, "daemon", "status", "--json"))["pid"]


def test_the_daemon_answers_as_the_process_would(env: dict[str, str], shop_dir: Path) -> None:
    assert "not running" in cli(env, "daemon", "status")
    warm = ask(env)
    cold = ask(env, "--no-daemon")
    assert warm["answer"] == cold["answer"] and warm["data"]["customer_ids"] == cold["data"]["customer_ids"]
    socket = socket_path(Settings(data_dir=shop_dir))  # in the data folder, or a short private one if too deep
    assert stat.S_IMODE(socket.stat().st_mode) == 0o600 and stat.S_IMODE(socket.parent.stat().st_mode) == 0o700
    first = pid_of(env)
    again = ask(env, "--session", warm["session_id"])  # the conversation continues through the daemon
    assert again["session_id"] == warm["session_id"] and pid_of(env) == first
    other = {**env, "WINBACK_ASSISTANT_TIE_MARGIN": "0.05"}  # other settings: a fresh process, not a stale one
    assert ask(other)["answer"] == warm["answer"] and pid_of(other) != first
    assert "stopped" in cli(other, "daemon", "stop") and not socket.exists()


def test_an_idle_daemon_stops(env: dict[str, str], shop_dir: Path) -> None:
    idle = {**env, "WINBACK_ASK_DAEMON_IDLE_S": "1"}
    ask(idle)
    socket = socket_path(Settings(data_dir=shop_dir))  # in the data folder, or a short private one if too deep
    deadline = time.monotonic() + 30
    while socket.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not socket.exists() and "not running" in cli(idle, "daemon", "status")


def test_newer_code_means_a_new_fingerprint(tmp_path: Path) -> None:
    """A daemon started before an upgrade (or an edit of the router's examples) is not asked again."""
    from winback.cli.daemon import code_mark

    (tmp_path / "planning.py").write_text("x = 1\n")
    (tmp_path / "notes.bin").write_bytes(b"\0")
    before = code_mark(tmp_path)
    os.utime(tmp_path / "notes.bin", ns=(time.time_ns() + 10**10,) * 2)  # not code: ignored
    assert code_mark(tmp_path) == before
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "router_intents.v1.toml").write_text("[intents]\n")
    os.utime(tmp_path / "prompts" / "router_intents.v1.toml", ns=(time.time_ns() + 10**10,) * 2)
    assert code_mark(tmp_path) != before

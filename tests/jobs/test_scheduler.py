"""Scheduled jobs: schedules parse and name their slots; a slot is claimed once; with two processes sharing the
database (`winback serve` and `winback schedule serve`) every slot runs once; a changed schedule and a pause
survive a restart of `winback serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.cli_runner import invoke
from tests.conftest import _free_port, running_server
from winback.config import Settings
from winback.data.db import make_engine
from winback.data.migrate import upgrade
from winback.jobs.catalog import JobError, run_job
from winback.jobs.runs import claim, recent_runs
from winback.jobs.scheduler import latest_slot, parse_schedule

pytestmark = pytest.mark.slow


def test_schedules_parse_and_name_the_slot_a_firing_stands_for() -> None:
    now = datetime(2026, 12, 6, 7, 3, 20, tzinfo=UTC)
    assert latest_slot(parse_schedule("0 5 * * *", "UTC"), now) == datetime(2026, 12, 6, 5, 0)
    assert latest_slot(parse_schedule("*/15 * * * *", "UTC"), now) == datetime(2026, 12, 6, 7, 0)
    assert latest_slot(parse_schedule("0 5 * * 1", "UTC"), now) == datetime(2026, 11, 30, 5, 0)  # crontab's Monday
    assert latest_slot(parse_schedule("0 5 * * 0", "UTC"), now) == datetime(2026, 12, 6, 5, 0)  # and Sunday
    assert latest_slot(parse_schedule("0 6 * * *", "Europe/Paris"), now) == datetime(2026, 12, 6, 5, 0)  # UTC
    for bad in ("every day", "61 * * * *", "every 0s"):
        with pytest.raises(JobError, match="schedule"):
            parse_schedule(bad, "UTC")


def test_a_slot_is_claimed_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    engine = make_engine(settings=settings)
    upgrade(engine)
    slot = datetime(2026, 12, 6, 5, 0)
    assert claim(engine, "campaigns", slot, "schedule") is not None
    assert claim(engine, "campaigns", slot, "schedule") is None  # the other process's firing of the same slot
    assert run_job("campaigns", settings, "schedule", slot) is None  # so the job does not run again
    record = run_job("campaigns", settings, "schedule", datetime(2026, 12, 6, 6, 0))
    assert record is not None and record.status == "ok" and "0 campaign" in (record.detail or "")
    with pytest.raises(JobError, match="no job named"):
        run_job("nope", settings)


def _cli(env: dict[str, str], *args: str) -> str:
    """A schedule command, in-process (the processes under test are the two servers)."""
    done = invoke(list(args), {k: v for k, v in env.items() if k.startswith("WINBACK_")})
    assert done.returncode == 0, done.stderr
    return done.stdout


def _runs(data_dir: Path) -> list[tuple[datetime, str]]:
    with make_engine(f"sqlite:///{data_dir / 'winback.db'}").connect() as connection:
        return [
            (r[0], r[1])
            for r in connection.execute(text("SELECT slot, host FROM job_runs WHERE job = 'campaigns' ORDER BY slot"))
        ]


def _wait_for_runs(data_dir: Path, at_least: int, timeout_s: float = 60) -> list[tuple[datetime, str]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        runs = _runs(data_dir)
        if len(runs) >= at_least:
            return runs
        time.sleep(0.5)
    pytest.fail(f"only {len(_runs(data_dir))} campaign runs after {timeout_s} s")


def test_two_processes_run_each_slot_once_and_a_schedule_survives_restarts(tmp_path: Path) -> None:
    data_dir = tmp_path / "shop"
    env = {**os.environ, "WINBACK_DATA_DIR": str(data_dir), "WINBACK_LOG_LEVEL": "INFO", "WINBACK_LLM_PORT": "9"}
    _cli(env, "db", "upgrade")
    assert "campaigns: every 2s" in _cli(env, "schedule", "set", "campaigns", "every 2s")
    for job in ("index", "score", "briefing"):  # daily anyway; paused so the test only sees campaigns
        _cli(env, "schedule", "pause", job)

    port = _free_port()
    second_log = (tmp_path / "schedule-serve.log").open("w")
    second = subprocess.Popen(
        [sys.executable, "-m", "winback.cli", "schedule", "serve"], env=env, stdout=second_log, stderr=subprocess.STDOUT
    )
    try:
        with running_server(
            [sys.executable, "-m", "winback.cli", "serve", "--port", str(port)],
            f"http://127.0.0.1:{port}",
            tmp_path / "serve.log",
            "winback serve",
            timeout_s=120,
            env=env,
        ):
            runs = _wait_for_runs(data_dir, len(_runs(data_dir)) + 5)
    finally:
        second.terminate()
        second.wait(timeout=20)
        second_log.close()
    slots = [slot for slot, _ in runs]
    assert len(slots) == len(set(slots))  # no slot ran twice
    logs = (tmp_path / "serve.log").read_text() + (tmp_path / "schedule-serve.log").read_text()
    claimed, taken = logs.count("claimed"), logs.count("already taken by another run")
    assert claimed == len(runs)  # every run was a claim, and no process ran the job without one
    assert "scheduler started" in (tmp_path / "serve.log").read_text()
    assert "scheduler started" in (tmp_path / "schedule-serve.log").read_text()
    print(f"{len(runs)} slots run, {taken} firings found their slot taken by the other process")

    # a restart of winback serve: the changed schedule is still there and keeps running
    listed = _cli(env, "schedule", "list", "--json")
    assert '"schedule": "every 2s"' in listed and listed.count('"paused": true') == 3
    before = len(_runs(data_dir))
    with running_server(
        [sys.executable, "-m", "winback.cli", "serve", "--port", str(port)],
        f"http://127.0.0.1:{port}",
        tmp_path / "serve-2.log",
        "winback serve",
        timeout_s=120,
        env=env,
    ):
        _wait_for_runs(data_dir, before + 2)

    # a pause survives a restart too
    _cli(env, "schedule", "pause", "campaigns")
    before = len(_runs(data_dir))
    with running_server(
        [sys.executable, "-m", "winback.cli", "serve", "--port", str(port)],
        f"http://127.0.0.1:{port}",
        tmp_path / "serve-3.log",
        "winback serve",
        timeout_s=120,
        env=env,
    ):
        time.sleep(6)
    assert len(_runs(data_dir)) == before
    assert recent_runs(make_engine(f"sqlite:///{data_dir / 'winback.db'}"), "campaigns")[0].status == "ok"

"""The `winback` command as a user runs it: clear one-line errors, masked settings, useful stats. Commands run
in-process (tests/cli_runner.py); what only a real process shows (the exit status a shell sees, log lines on
stderr) runs `python -m winback.cli`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli_runner import CliResult, invoke


def run(args: list[str], env: dict[str, str], cwd: Path) -> CliResult:
    return invoke(args, env, cwd)


def run_process(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "winback.cli", *args],
        env={"PATH": os.environ["PATH"], "COLUMNS": "200", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_line_error(result: CliResult | subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr


def test_config_masks_secrets_and_reads_winback_toml(tmp_path: Path) -> None:
    (tmp_path / "winback.toml").write_text('llm_model = "qwen"\n')
    env = {"WINBACK_DATABASE_URL": "postgresql+psycopg://app:hunter2@127.0.0.1/shop", "WINBACK_LLM_API_KEY": "sk-9"}
    result = run(["config", "--json"], env, tmp_path)
    values = json.loads(result.stdout)
    assert values["database_url"] == "postgresql+psycopg://app:***@127.0.0.1/shop"
    assert values["llm_api_key"] == "********" and values["llm_model"] == "qwen"
    assert "hunter2" not in result.stdout + result.stderr


def test_demo_flow_upgrade_seed_stats(tmp_path: Path) -> None:
    env = {"WINBACK_DATA_DIR": str(tmp_path / "data")}
    one_line_error(run(["stats"], env, tmp_path), "run `winback db upgrade` first")
    assert "upgraded from empty" in run(["db", "upgrade"], env, tmp_path).stdout
    assert "already at revision" in run(["db", "upgrade"], env, tmp_path).stdout
    seeded = run(["seed", "--customers", "400", "--seed", "3"], env, tmp_path)
    assert seeded.returncode == 0 and "seeded 400 customers (seed 3)" in seeded.stdout
    one_line_error(run(["seed", "--customers", "10"], env, tmp_path), "already holds 400 customers")
    stats = json.loads(run(["stats", "--json"], env, tmp_path).stdout)
    assert stats["customers"] == 400 and stats["tables"]["orders"]["rows"] > 400
    assert stats["reference_date"] == "2026-10-31" and 0 < stats["quiet_share"] < 1
    assert stats["quiet_customers"] == round(stats["quiet_share"] * 400)
    text = run(["stats"], env, tmp_path).stdout
    assert "customers with no order in the 90 days before 2026-10-31" in text


@pytest.mark.parametrize(
    ("env", "args", "fragment"),
    [
        ({"WINBACK_DATABASE_URL": "postgresql+psycopg://u:pw@127.0.0.1:1/x"}, ["stats"], "cannot use the database"),
        ({"WINBACK_DATABASE_URL": "nonsense"}, ["config"], "invalid setting"),
        ({"WINBACK_LOG_LEVEL": "chatty"}, ["config"], "WINBACK_LOG_LEVEL"),
    ],
)
def test_bad_settings_and_unreachable_databases_give_one_line(
    tmp_path: Path, env: dict[str, str], args: list[str], fragment: str
) -> None:
    result = run_process(args, env, tmp_path)
    one_line_error(result, fragment)
    assert ":pw@" not in result.stderr  # never echo a password


def test_export_rejects_unknown_tables(tmp_path: Path) -> None:
    env = {"WINBACK_DATA_DIR": str(tmp_path / "d")}
    run(["db", "upgrade"], env, tmp_path)
    result = run(["export", "csv", str(tmp_path / "out"), "--table", "clients"], env, tmp_path)
    assert result.returncode == 2 and "unknown table(s) clients" in result.stderr


def test_sql_command_exit_codes(tmp_path: Path) -> None:
    env = {"WINBACK_DATA_DIR": str(tmp_path / "d")}
    run(["db", "upgrade"], env, tmp_path)
    run(["seed", "--customers", "200", "--seed", "3"], env, tmp_path)
    ok = run(["sql", "SELECT segment, count(*) AS n FROM customers GROUP BY segment", "--json"], env, tmp_path)
    assert ok.returncode == 0 and sum(r["n"] for r in json.loads(ok.stdout)["rows"]) == 200
    refused = run(["sql", "SELECT email FROM customers"], env, tmp_path)
    assert refused.returncode == 2 and refused.stderr.startswith("refused: column email is personal data")
    assert (
        run(
            ["sql", "SELECT email FROM customers", "--role", "support_agent", "--max-rows", "3"], env, tmp_path
        ).returncode
        == 0
    )
    slow = run(["sql", "SELECT count(*) FROM orders a, order_items b, reviews c", "--timeout", "0.5"], env, tmp_path)
    assert slow.returncode == 3 and "longer than 0.5 s" in slow.stderr
    bad_column = run(["sql", "SELECT nonsense FROM orders"], env, tmp_path)
    assert bad_column.returncode == 3 and "unknown column nonsense" in bad_column.stderr


def _scored_shop(tmp_path: Path, probability: Callable[[int], float], band: str) -> tuple[dict[str, str], list[str]]:
    """A 200-customer demo seeded through the CLI, with a scoring run written directly (no model needed):
    the i-th open customer, by id, gets probability(i). Returns the env and the open customers' ids."""
    from sqlalchemy import select

    from winback.data.db import make_engine
    from winback.data.lookups.common import reference_date
    from winback.data.schema import Customer
    from winback.data.scores import ScoreRecord, write_scores

    env = {"WINBACK_DATA_DIR": str(tmp_path / "d")}
    run(["db", "upgrade"], env, tmp_path)
    run(["seed", "--customers", "200", "--seed", "3"], env, tmp_path)
    engine = make_engine(f"sqlite:///{tmp_path / 'd' / 'winback.db'}")
    with engine.connect() as connection:
        ids = sorted(connection.scalars(select(Customer.customer_id).where(Customer.closed_at.is_(None))))
        as_of = reference_date(connection)
    write_scores(engine, [ScoreRecord(c, probability(i), band) for i, c in enumerate(ids)], "m1", as_of, as_of)
    engine.dispose()
    return env, ids


def test_lookup_commands(tmp_path: Path) -> None:
    env, ids = _scored_shop(tmp_path, lambda i: (i % 100) / 100, "low")

    listing = run(["at-risk", "--limit", "5", "--population", "all", "--json"], env, tmp_path)
    rows = json.loads(listing.stdout)["rows"]
    expected = sorted(((i % 100) / 100, c) for i, c in enumerate(ids))
    expected = sorted(expected, key=lambda pc: (-pc[0], pc[1]))[:5]
    assert listing.returncode == 0 and [(r["probability"], r["customer_id"]) for r in rows] == expected
    card = run(["customer", rows[0]["customer_id"], "--role", "cs_staff"], env, tmp_path)
    assert card.returncode == 0 and "•••@" in card.stdout and "Churn probability 99.0%" in card.stdout
    one_line_error(run(["customer", "C-0"], env, tmp_path), "no customer with id 'C-0'")
    one_line_error(run(["at-risk", "--segment", "diamond"], env, tmp_path), "Known values: bronze")
    one_line_error(run(["segments", "--since", "2099-01-01"], env, tmp_path), "after the latest data")
    huge = run(["at-risk", "--limit", "1000000000", "--population", "all", "--json"], env, tmp_path)
    assert huge.returncode == 0 and len(json.loads(huge.stdout)["rows"]) == len(ids)
    report = run(["segments", "--by", "risk_band", "--json"], env, tmp_path)
    assert sum(r["customers"] for r in json.loads(report.stdout)["rows"]) == len(ids)
    assert "No offers match" in run(["offers", "list"], env, tmp_path).stdout
    one_line_error(run(["db", "create-reader"], env, tmp_path), "PostgreSQL feature")


def test_llm_status_says_when_no_server_answers(tmp_path: Path) -> None:
    env = {"WINBACK_DATA_DIR": str(tmp_path / "d"), "WINBACK_LLM_BASE_URL": "http://127.0.0.1:9/v1"}
    result = run(["llm", "status", "--json"], env, tmp_path)
    (row,) = json.loads(result.stdout)  # one configured server: every task uses its model
    assert result.returncode == 3 and not row["up"], row
    assert "no answer from http://127.0.0.1:9/v1" in row["capabilities"]["error"]
    assert set(row["tasks"]) == {"draft", "sql", "planner", "tools"}


def test_llm_status_lists_both_embedded_models_and_their_tasks(tmp_path: Path) -> None:
    env = {
        "WINBACK_DATA_DIR": str(tmp_path / "d"),
        "WINBACK_LLM_PORT": "9",  # nothing listens on 9 or 10
        "WINBACK_LLM_SQL_MODEL": "0.5b",
    }
    result = run(["llm", "status", "--json"], env, tmp_path)
    rows = {r["model"]: r for r in json.loads(result.stdout)}
    assert result.returncode == 3
    assert set(rows) == {"qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct"}
    assert rows["qwen2.5-coder-0.5b-instruct"]["tasks"] == ["sql"]
    assert rows["qwen2.5-coder-1.5b-instruct"]["tasks"] == ["draft", "planner", "tools"]
    assert not any(r["up"] or r["prepared"] for r in rows.values())
    assert rows["qwen2.5-coder-1.5b-instruct"]["base_url"] == "http://127.0.0.1:10/v1"
    unknown = run(["llm", "serve", "--model", "gpt-9"], env, tmp_path)
    assert unknown.returncode != 0 and "no embedded model named 'gpt-9'" in unknown.stderr


def test_offers_draft_with_templates_then_resume(tmp_path: Path) -> None:
    env, ids = _scored_shop(tmp_path, lambda i: 0.95, "critical")
    first = run(["offers", "draft", "--top", "15", "--no-llm"], env, tmp_path)
    assert first.returncode == 0 and "drafted" in first.stdout, first.stderr
    drafted = int(first.stdout.split("drafted")[1].split("│")[1].strip())
    again = run(["offers", "draft", "--top", "15", "--no-llm"], env, tmp_path)
    assert "skipped: already have an offer" in again.stdout and f"│ {drafted} " in again.stdout.split("skipped")[1]
    listing = run(["offers", "list", "--status", "draft", "--limit", "50"], env, tmp_path)
    assert listing.returncode == 0 and f"{drafted} offers" in listing.stdout
    one_line_error(run(["offers", "draft", "--channel", "fax", "--no-llm"], env, tmp_path), "email or sms")


# commands that change something and print one line of status, not data
ACTIONS = {
    "db create-reader",
    "llm stop",
    "users add",
    "users remove",
    "serve",
    "daemon start",
    "daemon stop",
    # a job's schedule and an alert's state: each says in one line what it changed
    "schedule pause",
    "schedule resume",
    "schedule set",
    "schedule serve",
    "alerts ack",
    "alerts snooze",
    "alerts reopen",
    "briefing subscribe",
    "briefing unsubscribe",
}


def test_every_command_that_prints_data_takes_json() -> None:
    import typer.main

    from winback.cli import app

    def walk(group: object, prefix: str) -> list[tuple[str, object]]:
        found = []
        for name, command in group.commands.items():
            path = f"{prefix}{name}"
            found += walk(command, path + " ") if hasattr(command, "commands") else [(path, command)]
        return found

    commands = walk(typer.main.get_command(app), "")
    assert len(commands) >= 30
    missing = [
        path
        for path, command in commands
        if path not in ACTIONS and "--json" not in {o for p in command.params for o in p.opts}
    ]
    assert missing == []


def test_log_level_applies_to_winbacks_own_loggers(tmp_path: Path) -> None:
    env = {"WINBACK_DATA_DIR": str(tmp_path / "d"), "WINBACK_LOG_LEVEL": "debug"}
    result = run_process(["db", "upgrade"], env, tmp_path)
    assert result.returncode == 0 and "DEBUG winback.data.migrate: " in result.stderr
    quiet = run_process(["db", "upgrade"], {**env, "WINBACK_LOG_LEVEL": "WARNING"}, tmp_path)
    assert quiet.returncode == 0 and "winback.data.migrate" not in quiet.stderr

"""`winback index`, `winback search` and `winback themes` as a user runs them (in-process: tests/cli_runner.py)."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import CliResult, invoke


def run(args: list[str], env: dict[str, str]) -> CliResult:
    return invoke(args, {"COLUMNS": "250", **env})


def test_index_search_themes_and_errors(tmp_path: Path) -> None:
    env = {"WINBACK_DATA_DIR": str(tmp_path)}
    missing = run(["search", "late parcel"], env)
    assert missing.returncode == 2 and "run `winback index` first" in missing.stderr
    for args in (["db", "upgrade"], ["seed", "--customers", "300", "--seed", "5"]):
        assert run(args, env).returncode == 0
    first = run(["index"], env)
    assert first.returncode == 0 and " added, 0 updated, 0 deleted" in first.stdout
    again = run(["index"], env)
    assert "0 added, 0 updated, 0 deleted" in again.stdout and "0 chunks embedded" in again.stdout
    found = run(["search", "the parcel was very late", "--kind", "review", "--max-rating", "2", "-k", "3"], env)
    assert found.returncode == 0 and found.stdout.count("customer-written, untrusted") == 3
    themes = run(["themes", "--themes", "5"], env)
    assert themes.returncode == 0 and "5 themes in" in themes.stdout and "[customer-written review" in themes.stdout
    down = run(["search", "late"], {**env, "WINBACK_CHROMA": "http://127.0.0.1:9"})
    assert down.returncode == 2 and down.stderr.startswith(
        "error: Chroma server at http://127.0.0.1:9 is not reachable"
    )
    assert len(down.stderr.strip().splitlines()) == 1

"""Nothing machine-specific is tracked: no symlinks (a clone inherits them dangling, or pointing at a folder
someone else controls) and no absolute paths of the machine that wrote a file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Folders that exist only on the machine that wrote a file; system paths (/usr/bin/chromium, /etc/...) are
# the same everywhere and stay allowed.
MACHINE_PATH = re.compile(
    r"(?<![\w.~-])/(?:root|home/[\w.-]+|Users/[\w.-]+|work|tmp|private/var|mnt|var/folders)/[\w.+-]+"
)
# Paths that are data, not locations: attack strings the SQL guard must refuse.
ALLOWED = {"tests/data/safesql/test_guard.py": {"/tmp/x.db", "/tmp/customers.csv", "/tmp/evil.so"}}
EXAMPLES = {"tests/test_repo_hygiene.py"}  # this file: its paths are what the check looks for


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def tracked_problems(repo: Path) -> list[str]:
    """One line per tracked symlink or machine-specific absolute path."""
    problems = []
    for line in _git(repo, "ls-files", "-s", "-z").split("\0"):
        if not line:
            continue
        meta, path = line.split("\t", 1)
        if meta.split()[0] == "120000":
            problems.append(f"{path}: tracked symlink")
            continue
        file = repo / path
        if path in EXAMPLES or not file.is_file():
            continue
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        own = {str(repo.resolve()), os.path.expanduser("~")} - {"/"}
        for number, row in enumerate(text.splitlines(), 1):
            found = {m.group(0) for m in MACHINE_PATH.finditer(row)} - ALLOWED.get(path, set())
            found |= {p for p in own if p in row}
            problems += [f"{path}:{number}: absolute path {p}" for p in sorted(found)]
    return problems


def _have_git() -> bool:
    return shutil.which("git") is not None and (REPO / ".git").exists()


@pytest.mark.skipif(not _have_git(), reason="not a git checkout")
def test_nothing_machine_specific_is_tracked() -> None:
    assert tracked_problems(REPO) == []


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_check_finds_a_symlink_and_an_absolute_path(tmp_path: Path) -> None:
    repo = tmp_path / "clone"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "ok.txt").write_text("chromium lives in /usr/bin/chromium on Debian\n")
    assert tracked_problems(repo) == []  # untracked files are not looked at
    _git(repo, "add", "ok.txt")
    assert tracked_problems(repo) == []
    (repo / ".venv-llm").symlink_to("/nonexistent")
    (repo / "notes.md").write_text("built in /tmp/vllmtest\nand in " + str(repo) + "/x\n")
    _git(repo, "add", ".venv-llm", "notes.md")
    problems = tracked_problems(repo)
    assert problems[0] == ".venv-llm: tracked symlink"
    assert "notes.md:1: absolute path /tmp/vllmtest" in problems
    assert f"notes.md:2: absolute path {repo.resolve()}" in problems

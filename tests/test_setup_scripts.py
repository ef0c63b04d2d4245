"""scripts/lib/venv.sh, which scripts/setup and scripts/setup_llm use: whatever is at the venv path, they
recreate it or stop with one line that says what to delete, and never run a Python they did not create."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HELPER = Path(__file__).resolve().parents[1] / "scripts" / "lib" / "venv.sh"


def prepare(path: Path) -> subprocess.CompletedProcess[str]:
    script = f'source "{HELPER}" && prepare_venv "{path}" "{sys.executable}"'
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # creates a virtual environment
def test_a_dangling_link_is_replaced_by_a_fresh_venv(tmp_path: Path) -> None:
    venv = tmp_path / ".venv-llm"
    venv.symlink_to("/nonexistent")
    done = prepare(venv)
    assert done.returncode == 0, done.stderr
    assert not venv.is_symlink() and (venv / "bin" / "python").exists() and (venv / ".winback-venv").exists()
    assert "dangling symlink" in done.stderr
    again = prepare(venv)  # ours now: kept as it is
    assert again.returncode == 0 and again.stderr == ""


def test_foreign_folders_and_links_are_refused_with_what_to_delete(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    (foreign / "bin").mkdir(parents=True)
    planted = foreign / "bin" / "python"
    planted.write_text("#!/bin/sh\ntouch ran\n")
    planted.chmod(0o755)
    refused = prepare(foreign)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "not a virtual environment winback created" in refused.stderr and "rm -rf" in refused.stderr
    link = tmp_path / ".venv"
    link.symlink_to(foreign)
    refused = prepare(link)
    assert refused.returncode == 2 and "is a symlink" in refused.stderr and f"rm '{link}'" in refused.stderr
    assert not (tmp_path / "ran").exists() and not Path("ran").exists()


@pytest.mark.slow  # creates a virtual environment
def test_a_venv_whose_python_no_longer_runs_is_recreated(tmp_path: Path) -> None:
    venv = tmp_path / ".venv"
    assert prepare(venv).returncode == 0
    (venv / ".winback-installed").write_text("old\n")
    for python in (venv / "bin").glob("python*"):
        python.unlink()
    done = prepare(venv)
    assert done.returncode == 0 and "does not run" in done.stderr
    assert (venv / "bin" / "python").exists() and not (venv / ".winback-installed").exists()

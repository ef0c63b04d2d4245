"""The mutation check of the SQL walls (docs/sql.md): a security test suite that still passes with a wall
turned off proves nothing. For each mutation, a copy of the package and tests with that one line disabled
runs tests/security (PostgreSQL included) and must fail; the unmutated copy must pass.

    python -m bench.security_mutations [--workers 2]

Nothing in this checkout changes: each run works in its own temporary copy (its `winback` shadows the
installed one, as the folder pytest runs from comes first on sys.path). Prints one table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READONLY = Path("winback/data/safesql/readonly.py")
WALLS = Path("winback/data/safesql/sqlite_authorizer.py")
MUTATIONS = {  # name -> (file, line, what replaces it)
    "none (the code as it is)": (READONLY, "", ""),
    "SQLite authorizer off": (
        READONLY,
        "    raw.set_authorizer(authorizer(personal_data, raw.shop_schema))",
        "    pass  # mutation: raw.set_authorizer(authorizer(personal_data, raw.shop_schema))",
    ),
    "SQLite views show every column": (
        WALLS,
        "        visible = [c for c in present if personal_data or (table, c.lower()) not in _PERSONAL]",
        "        visible = present  # mutation",
    ),
    "PostgreSQL SET LOCAL ROLE off": (
        READONLY,
        '    connection.execute(text(f"SET LOCAL ROLE {reader}"))',
        '    pass  # mutation: connection.execute(text(f"SET LOCAL ROLE {reader}"))',
    ),
}


def run(name: str, target: Path, line: str, replacement: str, workers: int) -> tuple[int, int]:
    """(failed, passed) of tests/security in a copy with `line` replaced."""
    with tempfile.TemporaryDirectory(prefix="winback-mutation-") as folder:
        copy = Path(folder)
        for part in ("winback", "tests", "pyproject.toml", "scripts"):
            source = ROOT / part
            if source.is_dir():
                shutil.copytree(source, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, copy / part)
        if line:
            code = (copy / target).read_text()
            if code.count(line) != 1:
                raise SystemExit(f"error: {target} no longer holds the line the mutation '{name}' disables")
            (copy / target).write_text(code.replace(line, replacement))
        report = copy / "junit.xml"
        subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "", "tests/security", "-q", "-p", "no:cacheprovider",
             "-n", str(workers), "--dist", "loadgroup", f"--junitxml={report}"],
            cwd=copy, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        rows = json.loads(report.with_name("junit.durations.json").read_text())["tests"]
    failed = sum(row["outcome"] in ("failed", "error") for row in rows)
    return failed, len(rows) - failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print("| mutation | security tests failed | passed | holds |\n|---|---:|---:|---|")
    for name, (target, line, replacement) in MUTATIONS.items():
        failed, passed = run(name, target, line, replacement, args.workers)
        holds = failed == 0 if not line else failed > 0
        print(f"| {name} | {failed} | {passed} | {'yes' if holds else 'NO'} |", flush=True)


if __name__ == "__main__":
    main()

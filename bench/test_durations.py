"""Where the test suite's time goes, from the durations file every run writes beside its junit report
(tests/durations.py): the slowest tests and the total per test folder, so a slower suite shows in review.

    python -m bench.test_durations [PATH] [--top 30] [--against OLDER_PATH]

PATH defaults to the newest of the files a run writes: test-artifacts/junit.durations.json (scripts/test),
test-artifacts/check/junit.durations.json (scripts/check), their partial/ folders (a run given arguments) and
test-artifacts/durations.json (a plain pytest run). With --against, each folder's total is compared with an
older run. Under pytest-xdist it also shows each worker's busy time and when its last test ended.
A test's time is its setup + call + teardown: a fixture built once (a shop, a server) counts for the first
test that asked for it.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
WRITTEN = [
    ARTIFACTS / "junit.durations.json",
    ARTIFACTS / "check" / "junit.durations.json",
    ARTIFACTS / "partial" / "junit.durations.json",
    ARTIFACTS / "check" / "partial" / "junit.durations.json",
    ARTIFACTS / "durations.json",
]


def newest_written() -> Path:
    found = [path for path in WRITTEN if path.is_file()]
    if not found:
        raise SystemExit("error: no durations file in test-artifacts/: run scripts/check or scripts/test first")
    return max(found, key=lambda path: path.stat().st_mtime)


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SystemExit(f"error: no durations file at {path}") from None
    except ValueError as exc:
        raise SystemExit(f"error: {path} is not a durations file: {exc}") from None
    for row in data["tests"]:
        row["total_s"] = row["setup_s"] + row["call_s"] + row["teardown_s"]
    return data


def folder_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[0]


def per_folder(tests: list[dict[str, Any]]) -> dict[str, tuple[int, float]]:
    count: dict[str, int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    for row in tests:
        count[folder_of(row["nodeid"])] += 1
        seconds[folder_of(row["nodeid"])] += row["total_s"]
    return {folder: (count[folder], seconds[folder]) for folder in count}


def slowest_table(tests: list[dict[str, Any]], top: int) -> list[str]:
    lines = ["| # | test | total s | setup s | call s | teardown s | outcome |", "|---:|---|---:|---:|---:|---:|---|"]
    ranked = sorted(tests, key=lambda row: -row["total_s"])[:top]
    for n, row in enumerate(ranked, 1):
        lines.append(
            f"| {n} | {row['nodeid']} | {row['total_s']:.1f} | {row['setup_s']:.1f} | {row['call_s']:.1f} "
            f"| {row['teardown_s']:.1f} | {row['outcome']} |"
        )
    return lines


def folder_table(tests: list[dict[str, Any]], older: list[dict[str, Any]] | None) -> list[str]:
    now = per_folder(tests)
    before = per_folder(older) if older is not None else {}
    header = "| folder | tests | seconds | share |" + (" before s | change s |" if older is not None else "")
    lines = [header, "|---|---:|---:|---:|" + ("---:|---:|" if older is not None else "")]
    total = sum(seconds for _, seconds in now.values()) or 1.0
    for folder, (count, seconds) in sorted(now.items(), key=lambda item: -item[1][1]):
        line = f"| {folder} | {count} | {seconds:.1f} | {seconds / total:.0%} |"
        if older is not None:
            old = before.get(folder, (0, 0.0))[1]
            line += f" {old:.1f} | {seconds - old:+.1f} |"
        lines.append(line)
    return lines


def worker_table(tests: list[dict[str, Any]]) -> list[str]:
    """Each worker's busy time and when its last test ended: a run that ends waiting on one worker shows here."""
    busy: dict[str, float] = defaultdict(float)
    ended: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for row in tests:
        worker = row.get("worker", "?")
        busy[worker] += row["total_s"]
        count[worker] += 1
        ended[worker] = max(ended[worker], row.get("started_s", 0.0) + row["total_s"])
    lines = ["| worker | tests | busy s | last test ended at s |", "|---|---:|---:|---:|"]
    for worker in sorted(busy):
        lines.append(f"| {worker} | {count[worker]} | {busy[worker]:.0f} | {ended[worker]:.0f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, help="a durations file (default: the newest a run wrote)")
    parser.add_argument("--top", type=int, default=30, help="how many of the slowest tests to list")
    parser.add_argument("--against", type=Path, help="an older durations file to compare each folder with")
    args = parser.parse_args()
    args.path = args.path or newest_written()
    data = load(args.path)
    tests = data["tests"]
    older = load(args.against)["tests"] if args.against else None
    failed = sum(row["outcome"] in ("failed", "error") for row in tests)
    summed = sum(row["total_s"] for row in tests)
    print(
        f"{args.path}: {len(tests)} tests ({failed} failed) started {data['started']}, wall {data['wall_s']:.0f} s "
        f"with {data['workers'] or 1} worker(s); test time summed {summed:.0f} s; -m {data['markexpr']!r}\n"
    )
    print(f"The {min(args.top, len(tests))} slowest tests\n")
    print("\n".join(slowest_table(tests, args.top)))
    print("\nTime per test folder\n")
    print("\n".join(folder_table(tests, older)))
    if any("worker" in row for row in tests):
        print("\nTime per worker\n")
        print("\n".join(worker_table(tests)))


if __name__ == "__main__":
    main()

"""Wall time of `winback ask` as a user sees it (process start to exit), lookups only, on a copy of a demo
data folder: through the warm background process (after its first start) and in-process (`--no-daemon`).

    python -m bench.ask_latency --data-dir /path/to/scored-demo [--turns 20] [--cold 3]

Prints a table of p50/p95 seconds; the daemon it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOOKUPS = [
    "who is most likely to churn?",
    "top 5 gold customers at risk",
    "revenue at risk by segment",
    "which platinum customers in France might leave?",
    "how many orders last month",
    "late delivery share by country in the last 90 days",
    "what does our offer policy allow?",
    "top 3 customers at risk in each segment? just the top 3",
]


def timed(env: dict[str, str], *args: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "winback.cli", "ask", "--json", *args], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"winback ask failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds, json.loads(done.stdout)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--cold", type=int, default=3, help="in-process turns (each loads everything)")
    args = parser.parse_args(argv)
    from bench.data_copy import copy_data_dir

    work = copy_data_dir(args.data_dir, "winback-ask-")
    env = {**os.environ, "WINBACK_DATA_DIR": str(work), "WINBACK_CHROMA": str(args.data_dir / "chroma")}
    # a demo built by an older winback: the copy gets this one's migrations (the original is left alone)
    subprocess.run([sys.executable, "-m", "winback.cli", "db", "upgrade"], env=env, check=True, capture_output=True)
    try:
        first, _ = timed(env, LOOKUPS[0])  # starts the daemon
        warm = [timed(env, LOOKUPS[n % len(LOOKUPS)])[0] for n in range(args.turns)]
        cold = [timed(env, "--no-daemon", LOOKUPS[n % len(LOOKUPS)])[0] for n in range(args.cold)]
    finally:
        subprocess.run([sys.executable, "-m", "winback.cli", "daemon", "stop"], env=env, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print("| path | turns | p50 s | p95 s | max s |")
    print("|---|---|---|---|---|")
    print(f"| first call (starts the warm process) | 1 | {first:.2f} | {first:.2f} | {first:.2f} |")
    for name, values in (("warm process", warm), ("in-process (--no-daemon)", cold)):
        print(
            f"| {name} | {len(values)} | {statistics.median(values):.2f} | {percentile(values, 0.95):.2f} "
            f"| {max(values):.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

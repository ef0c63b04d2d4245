"""Seed a large demo shop into SQLite and PostgreSQL and print time, rows/s and peak memory.

    .venv/bin/python bench/seed_scale.py --customers 1000000
    .venv/bin/python bench/seed_scale.py --customers 100000 --databases sqlite

Memory is bounded by design (one chunk of customers at a time): compare peak RSS at two sizes.
PostgreSQL: uses WINBACK_BENCH_POSTGRES_URL if set, else starts a throwaway server with
scripts/postgres.sh on 127.0.0.1 and stops it afterwards.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throwaway_postgres import database_url  # noqa: E402  (after the sys.path line)

from winback.data.db import make_engine  # noqa: E402  (after the sys.path line)
from winback.data.demo.seed import seed_demo  # noqa: E402  (after the sys.path line)
from winback.data.migrate import upgrade  # noqa: E402  (after the sys.path line)


def _peak_rss_mib() -> tuple[float, float]:
    """(this process, largest child) peak resident memory in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _run_in_child(url: str, customers: int, seed: int, workers: int) -> None:
    """Seed in a fresh process so each database's peak memory is measured on its own."""
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    report = seed_demo(engine, customers=customers, seed=seed, workers=workers)
    seconds = time.perf_counter() - started
    own, children = _peak_rss_mib()
    print(f"RESULT {report.total_rows} {seconds:.3f} {own:.1f} {children:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--child", nargs=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _run_in_child(args.child[0], args.customers, args.seed, args.workers)
        return

    console = Console(width=150)
    table = Table(
        "database",
        "customers",
        "rows",
        "seconds",
        "rows/s",
        "peak RSS writer (MiB)",
        "peak RSS simulator (MiB)",
        title=f"bench/seed_scale.py: demo shop, {args.customers:,} customers, {args.workers} simulation workers",
    )
    work = Path(tempfile.mkdtemp(prefix="winback-bench-"))
    with ExitStack() as stack:
        stack.callback(subprocess.run, ["rm", "-rf", str(work)])
        for database in args.databases.split(","):
            url = database_url(database, work / "bench.db", stack)
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--customers",
                    str(args.customers),
                    "--seed",
                    str(args.seed),
                    "--workers",
                    str(args.workers),
                    "--child",
                    url,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            line = next(x for x in child.stdout.splitlines() if x.startswith("RESULT"))
            _, rows, seconds, own, children = line.split()
            rows_i, secs = int(rows), float(seconds)
            table.add_row(
                database, f"{args.customers:,}", f"{rows_i:,}", f"{secs:.1f}", f"{rows_i / secs:,.0f}", own, children
            )
            console.print(f"{database}: done in {secs:.1f} s")
    console.print(table)


if __name__ == "__main__":
    main()

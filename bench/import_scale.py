"""Import a large generated CSV and print rows/s and peak memory: memory must not grow with the file.

    .venv/bin/python bench/import_scale.py --rows 100000,1000000
    .venv/bin/python bench/import_scale.py --rows 1000000 --databases sqlite,postgres

Each size is imported in a fresh process into an empty database (customers table, 1 % of rows bad, so
the rejects path is exercised too). PostgreSQL: WINBACK_BENCH_POSTGRES_URL, or a throwaway server
started with scripts/postgres.sh.
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throwaway_postgres import postgres_url  # noqa: E402  (after the sys.path line)

from winback.data.db import make_engine  # noqa: E402  (after the sys.path line)
from winback.data.importer import import_csv  # noqa: E402  (after the sys.path line)
from winback.data.migrate import upgrade  # noqa: E402  (after the sys.path line)

HEADER = [
    "customer_id",
    "name",
    "email",
    "country",
    "city",
    "signup_at",
    "segment",
    "acquisition_channel",
    "marketing_opt_in",
]


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(rows):
            bad = i % 100 == 99
            writer.writerow(
                [
                    f"K-{i}",
                    f"Customer {i}",
                    f"c{i}@example.org",
                    "France",
                    "Lyon",
                    "2025-13-40" if bad else f"2025-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00",
                    ("bronze", "silver", "gold", "platinum")[i % 4],
                    "organic_search",
                    "yes" if i % 2 else "no",
                ]
            )


def child(url: str, path: Path) -> None:
    engine = make_engine(url)
    upgrade(engine)
    report = import_csv(engine, "customers", path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT {report.rows_read} {report.rows_inserted} {report.rejected} {report.seconds:.3f} {peak:.1f}")


def _fresh_database(server: str, name: str) -> str:
    import sqlalchemy as sa

    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    console = Console(width=150)
    table = Table(
        "database",
        "rows in file",
        "imported",
        "rejected",
        "seconds",
        "rows/s",
        "peak RSS (MiB)",
        title="bench/import_scale.py: winback import csv customers",
    )
    work = Path(tempfile.mkdtemp(prefix="winback-import-bench-"))
    with ExitStack() as stack:
        stack.callback(subprocess.run, ["rm", "-rf", str(work)])
        for database in args.databases.split(","):
            server = stack.enter_context(postgres_url()) if database == "postgres" else None
            for rows in [int(r) for r in args.rows.split(",")]:
                path = work / f"customers_{rows}.csv"
                if not path.exists():
                    write_csv(path, rows)
                url = (
                    f"sqlite:///{work / f'import_{rows}.db'}"
                    if server is None
                    else _fresh_database(server, f"import_{rows}")
                )
                result = subprocess.run(
                    [sys.executable, __file__, "--child", url, str(path)], check=True, capture_output=True, text=True
                )
                line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT"))
                _, read, inserted, rejected, seconds, peak = line.split()
                table.add_row(
                    database,
                    f"{int(read):,}",
                    f"{int(inserted):,}",
                    f"{int(rejected):,}",
                    seconds,
                    f"{int(read) / float(seconds):,.0f}",
                    peak,
                )
                console.print(f"{database} {rows:,}: {seconds} s")
    console.print(table)


if __name__ == "__main__":
    main()

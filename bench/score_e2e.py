"""A scoring run end to end on a large shop: features from the database, probabilities, next-order and
12-month-value heads, drivers, and the write to churn_scores — time per stage and peak memory.

    .venv/bin/python bench/score_e2e.py                              # 1,000,000 customers, SQLite and PostgreSQL
    .venv/bin/python bench/score_e2e.py --customers 100000 --databases sqlite --json

The model is trained once on a 20,000-customer demo (same simulator, same feature spec) and copied into
each shop's data dir; each shop is seeded with the demo generator (not timed here: bench/seed_scale.py
measures that). The scoring run is `score_all` with the shipped settings, in a fresh process so its peak
memory is its own: drivers are stored for the WINBACK_SCORE_DRIVERS_TOP (50,000) riskiest active
customers in a second pass; everyone else is explained when opened (the card, the at-risk list).
PostgreSQL: WINBACK_BENCH_POSTGRES_URL if set, else a throwaway server from scripts/postgres.sh.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throwaway_postgres import database_url  # noqa: E402  (after the sys.path line)


def train_model(folder: Path, customers: int) -> Path:
    from winback.data.db import make_engine
    from winback.data.demo.seed import seed_demo
    from winback.data.migrate import upgrade
    from winback.model.pipeline import train_churn_model

    engine = make_engine(f"sqlite:///{folder / 'train.db'}")
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=7)
    report = train_churn_model(engine, folder)
    engine.dispose()
    return report.folder


def seed_shop(url: str, customers: int) -> float:
    from winback.data.db import make_engine
    from winback.data.demo.seed import seed_demo
    from winback.data.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    seed_demo(engine, customers=customers, seed=11)
    engine.dispose()
    return time.perf_counter() - started


def score_child(url: str, data_dir: Path) -> None:
    """In a fresh process: one `winback score` run; prints its report as JSON."""
    from winback.config import Settings
    from winback.data.db import make_engine
    from winback.model.scoring import ChurnScorer, score_all

    settings = Settings(data_dir=data_dir, database_url=url)
    engine = make_engine(url)
    report = score_all(engine, ChurnScorer.load(data_dir), drivers_top=settings.score_drivers_top)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        "RESULT "
        + json.dumps(
            {
                "customers": report.customers,
                "explained": report.explained,
                "seconds": round(report.seconds, 1),
                "stages": {k: round(v, 1) for k, v in report.stages.items()},
                "peak_rss_mib": round(peak, 1),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--train-customers", type=int, default=20_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        score_child(args.child[0], Path(args.child[1]))
        return
    work = Path(tempfile.mkdtemp(prefix="winback-score-e2e-"))
    results = []
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        started = time.perf_counter()
        model = train_model(work, args.train_customers)
        print(
            f"trained on {args.train_customers:,} customers in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )
        for database in args.databases.split(","):
            data_dir = work / database
            (data_dir / "models").mkdir(parents=True)
            shutil.copytree(model, data_dir / "models" / model.name)
            (data_dir / "models" / "LATEST").write_text(model.name)
            url = database_url(database, data_dir / "shop.db", stack)
            seeded = seed_shop(url, args.customers)
            print(f"{database}: seeded {args.customers:,} customers in {seeded:.0f} s", file=sys.stderr)
            child = subprocess.run(
                [sys.executable, __file__, "--child", url, str(data_dir)], check=True, capture_output=True, text=True
            )
            line = next(x for x in child.stdout.splitlines() if x.startswith("RESULT "))
            results.append({"database": database, **json.loads(line.removeprefix("RESULT "))})
            print(f"{database}: scored in {results[-1]['seconds']} s", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=1))
        return
    stages = list(dict.fromkeys(s for r in results for s in r["stages"]))
    print("| stage | " + " | ".join(r["database"] for r in results) + " |")
    print("|---" * (len(results) + 1) + "|")
    for stage in stages:
        print(f"| {stage} | " + " | ".join(f"{r['stages'].get(stage, 0):.1f} s" for r in results) + " |")
    print("| **total** | " + " | ".join(f"**{r['seconds']:.1f} s**" for r in results) + " |")
    print("| customers scored | " + " | ".join(f"{r['customers']:,}" for r in results) + " |")
    print("| drivers stored | " + " | ".join(f"{r['explained']:,}" for r in results) + " |")
    print("| customers/s | " + " | ".join(f"{r['customers'] / r['seconds']:,.0f}" for r in results) + " |")
    print("| peak RSS (MiB) | " + " | ".join(f"{r['peak_rss_mib']:,.0f}" for r in results) + " |")


if __name__ == "__main__":
    main()

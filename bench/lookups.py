"""Named-lookup latency: p50/p95 per lookup over varied arguments, on a seeded and scored shop.

    python -m bench.lookups --customers 20000                       # SQLite (temporary copy of a fresh demo)
    python -m bench.lookups --customers 1000000 --database postgres # throwaway PostgreSQL server
    python -m bench.lookups --data-dir .winback                     # an existing scored demo (copied first)

The shop is seeded (seed 7), a churn model is trained on it unless --model-dir gives one, every customer is
scored, and one offer with two events is added for every 20th customer so offer history has data. Each
lookup kind runs --repeat times with arguments drawn from the data (random customers, segments,
countries, bands), after one warm-up call each. Timings are wall clock per call, in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _add_offers(engine: Any, every: int = 20) -> int:
    from sqlalchemy import select

    from winback.data.bulk import bulk_insert
    from winback.data.schema import Base, Customer, Order

    with engine.connect() as connection:
        ids = list(connection.scalars(select(Customer.customer_id).order_by(Customer.customer_id)))[::every]
        end = connection.execute(select(Order.ordered_at).order_by(Order.ordered_at.desc()).limit(1)).scalar_one()
    statuses = ["draft", "approved", "sent", "rejected", "redeemed"]
    offers, events = [], []
    for i, cid in enumerate(ids):
        created = end - timedelta(days=1 + i % 300)
        oid = f"OF-BENCH-{i:07d}"
        offers.append(
            {
                "offer_id": oid,
                "customer_id": cid,
                "created_at": created,
                "created_by": "bench",
                "offer_type": ["percent_discount", "free_shipping", "loyalty_points"][i % 3],
                "value": 10 + i % 15,
                "channel": "email",
                "subject": "We miss you",
                "message": "…",
                "status": statuses[i % 5],
                "decided_by": None,
                "decided_at": None,
                "churn_probability_at_creation": 0.5,
            }
        )
        events += [
            {"offer_id": oid, "at": created, "actor": "bench", "action": "drafted", "details": None},
            {
                "offer_id": oid,
                "at": created + timedelta(hours=2),
                "actor": "bench",
                "action": statuses[i % 5],
                "details": None,
            },
        ]
    with engine.begin() as connection:
        bulk_insert(connection, Base.metadata.tables["offers"], offers)
        bulk_insert(connection, Base.metadata.tables["offer_events"], events)
    return len(offers)


def _time(fn: Callable[[], Any], repeat: int) -> list[float]:
    fn()  # warm-up: caches and connection pool
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--data-dir", default=None, help="use this scored demo (SQLite, copied) instead of seeding")
    parser.add_argument("--model-dir", default=None, help="score with the model in this data dir instead of training")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from bench.throwaway_postgres import postgres_url
    from winback.data.db import make_engine
    from winback.data.demo.seed import seed_demo
    from winback.data.lookups import (
        AtRiskArgs,
        OfferHistoryArgs,
        SegmentArgs,
        at_risk_customers,
        customer_profile,
        offer_history,
        segment_aggregates,
    )
    from winback.data.migrate import upgrade
    from winback.data.schema import ChurnScore, Customer, Offer
    from winback.model.pipeline import train_churn_model
    from winback.model.scoring import ChurnScorer, score_all

    setup: dict[str, float] = {}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="winback-bench-lookups-")))
        if args.data_dir:
            shutil.copy(Path(args.data_dir) / "winback.db", work / "winback.db")
            engine = make_engine(f"sqlite:///{work / 'winback.db'}")
            upgrade(engine)
            model_root = Path(args.data_dir)
        else:
            url = (
                stack.enter_context(postgres_url())
                if args.database == "postgres"
                else f"sqlite:///{work / 'winback.db'}"
            )
            engine = make_engine(url)
            upgrade(engine)
            with engine.connect() as connection:
                present = connection.execute(select(func.count()).select_from(Customer)).scalar_one()
            if not present:  # a kept server (WINBACK_BENCH_POSTGRES_URL) is reused as it is
                started = time.perf_counter()
                seed_demo(engine, customers=args.customers, seed=7)
                setup["seed_s"] = time.perf_counter() - started
            model_root = Path(args.model_dir) if args.model_dir else work
            if not args.model_dir and not present:
                started = time.perf_counter()
                train_churn_model(engine, work)
                setup["train_s"] = time.perf_counter() - started
        with engine.connect() as connection:
            scored = connection.execute(select(func.count()).select_from(ChurnScore)).scalar_one()
        if not scored:
            started = time.perf_counter()
            score_all(engine, ChurnScorer.load(model_root))
            setup["score_s"] = time.perf_counter() - started
        with engine.connect() as connection:
            has_offers = connection.execute(select(func.count()).select_from(Offer)).scalar_one()
        setup["offers"] = has_offers if has_offers >= 100 else has_offers + _add_offers(engine)
        with engine.connect() as connection:
            customers = list(connection.scalars(select(Customer.customer_id)))
            segments = sorted(connection.scalars(select(Customer.segment).distinct()))
            countries = sorted(connection.scalars(select(Customer.country).distinct()))
        rng = random.Random(7)
        bands = [["critical"], ["high", "critical"], ["medium"], None]
        kinds: dict[str, Callable[[], Any]] = {
            "customer profile": lambda: customer_profile(engine, rng.choice(customers), "support_agent"),
            "at-risk, top 20": lambda: at_risk_customers(engine, AtRiskArgs(limit=20), "cs_staff"),
            "at-risk, filtered": lambda: at_risk_customers(
                engine,
                AtRiskArgs(
                    segment=rng.choice(segments), country=rng.choice(countries), risk_bands=rng.choice(bands), limit=20
                ),
                "cs_staff",
            ),
            "at-risk, value + inactivity, by revenue at risk": lambda: at_risk_customers(
                engine,
                AtRiskArgs(
                    min_lifetime_value=rng.choice([100, 500, 1000]),
                    inactive_days=rng.choice([30, 60, 90]),
                    sort="revenue_at_risk",
                    limit=50,
                ),
                "manager",
            ),
            "segment aggregates": lambda: segment_aggregates(
                engine,
                SegmentArgs(
                    by=rng.choice(["segment", "country", "risk_band", "acquisition_channel", "signup_year", "all"])
                ),
            ),
            "segment aggregates, filtered": lambda: segment_aggregates(
                engine, SegmentArgs(by="country", segment=rng.choice(segments))
            ),
            "offer history": lambda: offer_history(engine, OfferHistoryArgs(limit=20)),
            "offer history, one customer": lambda: offer_history(
                engine, OfferHistoryArgs(customer_id=rng.choice(customers[::20]))
            ),
        }
        rows = []
        for name, fn in kinds.items():
            ms = sorted(_time(fn, args.repeat))
            rows.append(
                {
                    "lookup": name,
                    "p50_ms": round(statistics.median(ms), 1),
                    "p95_ms": round(ms[int(0.95 * len(ms)) - 1], 1),
                    "max_ms": round(ms[-1], 1),
                }
            )
        engine.dispose()
    result = {
        "database": "sqlite" if args.data_dir else args.database,
        "customers": len(customers),
        "repeat": args.repeat,
        "setup": {k: round(v, 1) for k, v in setup.items()},
        "lookups": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{result['database']}, {len(customers):,} customers, {args.repeat} calls per lookup; setup {result['setup']}"
    )
    print("| lookup | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['lookup']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")


if __name__ == "__main__":
    main()

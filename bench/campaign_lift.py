"""Is the measured lift unbiased? A large campaign on a fresh demo shop, measured against the simulator's
planted lift, and the time each step takes.

    .venv/bin/python bench/campaign_lift.py                       # 20,000 customers, 6,000 members, 50 % holdout
    .venv/bin/python bench/campaign_lift.py --customers 3000 --top 600 --holdout 0.2

Seeds, trains and scores a demo shop in a temporary folder, creates a campaign ranked by incremental value
(drafts from the templates; the monthly budget lifted so every draft that pays for itself is approved),
approves it, sends it to an outbox, advances the shop by the window and prints the report's lift and
interval beside the planted expected lift (`winback demo truth`), which the estimator never reads.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from winback.config import Settings  # noqa: E402  (after the sys.path line)
from winback.data.db import make_engine  # noqa: E402
from winback.data.demo.advance import advance_demo  # noqa: E402
from winback.data.demo.campaign_truth import expected_lift  # noqa: E402
from winback.data.demo.seed import seed_demo  # noqa: E402
from winback.data.migrate import upgrade  # noqa: E402
from winback.model.pipeline import train_churn_model  # noqa: E402
from winback.model.scoring import ChurnScorer, score_all  # noqa: E402
from winback.offers.campaigns import CohortArgs, approve_campaign, create_campaign  # noqa: E402
from winback.offers.channels import OutboxChannel  # noqa: E402
from winback.offers.drafting import OfferDrafter  # noqa: E402
from winback.offers.outcomes import campaign_report  # noqa: E402
from winback.offers.policy import load_policy  # noqa: E402
from winback.offers.sending import send_campaign  # noqa: E402

Steps = list[tuple[str, float, str]]


def scored_demo(data_dir: Path, customers: int, seed: int, steps: Steps, index: bool = False):
    """A seeded, trained and scored demo shop in `data_dir` (texts indexed first, as `scripts/demo` does, when
    `index`, so the model reads what customers wrote): its settings and engine."""
    settings = Settings(data_dir=data_dir)
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=seed)
    if index:
        from winback.search.embeddings import get_embedder
        from winback.search.indexer import index_feedback
        from winback.search.store import open_collection

        embedder = get_embedder(settings.embedding_model)
        index_feedback(engine, open_collection(settings, embedder), embedder)
    train_churn_model(engine, data_dir)
    score_all(engine, ChurnScorer.load(data_dir))
    what = "seed, index, train, score" if index else "seed, train, score"
    steps.append((what, time.perf_counter() - started, f"{customers:,} customers"))
    return settings, engine


def run_campaign(engine, settings, policy, name: str, cohort: CohortArgs, holdout: float, seed: int, steps: Steps):
    """Create (template drafts), approve, send to an outbox and advance the shop by the window."""
    data_dir = settings.data_dir
    started = time.perf_counter()
    created = create_campaign(
        engine, policy, OfferDrafter(engine, settings, None, policy), name, cohort, holdout, seed, actor="bench-drafter"
    )
    steps.append(("create (templates)", time.perf_counter() - started, f"{created.drafts.drafted:,} drafts"))
    started = time.perf_counter()
    approved = approve_campaign(engine, policy, name, "bench-manager", "manager")
    steps.append(("approve", time.perf_counter() - started, f"{approved.approved:,} approved"))
    started = time.perf_counter()
    sent = send_campaign(engine, settings, policy, name, OutboxChannel(data_dir / "outbox"))
    steps.append(("send (outbox)", time.perf_counter() - started, f"{sent.sent:,} sent"))
    started = time.perf_counter()
    advance_demo(engine, policy.campaign_window_days)
    steps.append(("demo advance", time.perf_counter() - started, f"{policy.campaign_window_days} days"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--top", type=int, default=6_000)
    parser.add_argument("--holdout", type=float, default=0.5)
    parser.add_argument("--rank", default="incremental_value")
    args = parser.parse_args()
    steps: Steps = []
    with tempfile.TemporaryDirectory(prefix="winback-lift-") as folder:
        data_dir = Path(folder)
        settings, engine = scored_demo(data_dir, args.customers, args.seed, steps)
        policy = load_policy(data_dir).model_copy(update={"monthly_budget": 1e9})
        run_campaign(
            engine, settings, policy, "bench", CohortArgs(top=args.top, rank=args.rank), args.holdout, args.seed, steps
        )
        started = time.perf_counter()
        report = campaign_report(engine, "bench").as_dict()
        steps.append(("report", time.perf_counter() - started, ""))
        truth = expected_lift(engine, "bench")
        engine.dispose()
    console = Console()
    timing = Table("step", "seconds", "", title="campaign loop")
    for name, seconds, what in steps:
        timing.add_row(name, f"{seconds:.1f}", what)
    console.print(timing)
    arms = report["arms"]
    low, high = report["ci"]
    result = Table(
        "members (treatment / holdout)", "saved", "measured lift", "95 % interval", "planted lift", "covered"
    )
    result.add_row(
        f"{arms['treatment']['members']:,} / {arms['holdout']['members']:,}",
        f"{arms['treatment']['rate']:.1%} / {arms['holdout']['rate']:.1%}",
        f"{report['lift']:+.2%}",
        f"{low:+.2%} … {high:+.2%}",
        f"{truth['expected_lift']:+.2%}",
        "yes" if low <= truth["expected_lift"] <= high else "no",
    )
    console.print(result)


if __name__ == "__main__":
    main()

"""When customers order next, and what they will spend in 12 months: winback's heads vs BG/NBD + Gamma-Gamma.

    python -m bench.when_and_value                 # seeds a 20,000-customer demo shop in a temporary folder
    options: --customers N  --seed N (model seeds)  --reuse DIR (copy a data dir's winback.db)  --json

Protocol (out of time on the demo shop, whose orders end on its as-of date E):
- Next order: the survival head is trained on features at E-270, E-360 and E-450 days, each followed up
  only to E-180 (censored there), then tested on features at E-180 with the 180 days to E: concordance
  (risk = P(order within 90 days)) and calibration at 90 and 180 days.
- 12-month value: the value head is trained on cutoffs whose following 365 days end by E-365 (E-730 and
  earlier, while 90 days of history precede them), then predicts, at E-365, the spend in (E-365, E]. The
  baseline is BG/NBD + Gamma-Gamma (`lifetimes`) fitted on every order up to E-365; both are scored on the
  same customers (the model's population at E-365 who had ordered by then); "last 12 months' spend" is the
  naive baseline. Early stopping uses 20 % of the training customers (a stable hash); nothing is tuned on
  the test rows.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from winback.model.dataset import (  # noqa: E402  (after the sys.path line)
    active_features,
    customer_bucket,
    history_start,
    latest_activity,
    next_order_frames,
    value_frames,
)
from winback.model.encoding import FeatureEncoder  # noqa: E402
from winback.model.features import CATEGORICAL, NUMERIC  # noqa: E402
from winback.model.metrics import survival_metrics, value_metrics  # noqa: E402
from winback.model.outcomes import next_order, spend_between  # noqa: E402
from winback.model.survival import BIN_DAYS, fit_survival  # noqa: E402
from winback.model.train import TrainConfig  # noqa: E402
from winback.model.value import VALUE_DAYS, fit_value  # noqa: E402

HORIZONS = (90, 180)


def demo_database(customers: int, reuse: Path | None) -> Path:
    from winback.data.db import make_engine
    from winback.data.demo.seed import seed_demo
    from winback.data.migrate import upgrade

    folder = Path(tempfile.mkdtemp(prefix="winback-when-value-"))
    if reuse is not None:
        shutil.copy(reuse / "winback.db", folder / "winback.db")
    engine = make_engine(f"sqlite:///{folder / 'winback.db'}")
    upgrade(engine)
    if reuse is None:
        seed_demo(engine, customers=customers, seed=7)
    return folder / "winback.db"


def split(x: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    bucket = customer_bucket(x.index, f"heads:{seed}")
    return bucket < 80, bucket >= 80


def bgnbd_summary(engine, cutoff: datetime, customer_ids: pd.Index) -> pd.DataFrame:
    """lifetimes' frequency / recency / T / monetary_value per customer from the orders up to `cutoff`."""
    from lifetimes.utils import summary_data_from_transaction_data
    from sqlalchemy import select

    from winback.data.schema import Order

    wanted = set(customer_ids)
    with engine.connect() as connection:
        rows = connection.execute(
            select(Order.customer_id, Order.ordered_at, Order.total_amount).where(
                Order.ordered_at <= cutoff, Order.status != "cancelled"
            )
        ).all()
    orders = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])
    orders = orders[orders["customer_id"].isin(wanted)]
    orders["amount"] = orders["amount"].astype(float)
    orders["ordered_at"] = pd.to_datetime(orders["ordered_at"]).dt.floor("D")
    daily = orders.groupby(["customer_id", "ordered_at"], as_index=False)["amount"].sum()  # lifetimes counts days
    return summary_data_from_transaction_data(
        daily, "customer_id", "ordered_at", monetary_value_col="amount", observation_period_end=cutoff, freq="D"
    )


def fit_bgnbd(summary: pd.DataFrame):
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bgf = BetaGeoFitter(penalizer_coef=0.001).fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter(penalizer_coef=0.001).fit(repeat["frequency"], repeat["monetary_value"])
    return bgf, ggf


def bgnbd_order_within(bgf, summary: pd.DataFrame, t: int) -> np.ndarray:
    """BG/NBD's P(at least one order within t days | history), which lifetimes does not expose: alive with
    the posterior purchase rate Gamma(r + x, alpha + T), no order in t has probability
    ((alpha + T) / (alpha + T + t)) ** (r + x); a customer who dropped out orders never."""
    r, alpha = bgf.params_["r"], bgf.params_["alpha"]
    x, recency, age = summary["frequency"], summary["recency"], summary["T"]
    alive = np.asarray(bgf.conditional_probability_alive(x, recency, age))
    silent = ((alpha + age) / (alpha + age + t)) ** (r + x)
    return alive * (1.0 - np.asarray(silent))


def run_next_order(engine, end: datetime, config: TrainConfig) -> dict:
    evaluate_at = end - timedelta(days=180)
    cutoffs = [evaluate_at - timedelta(days=90 * k) for k in (3, 2, 1)]
    intervals = (evaluate_at - cutoffs[0]).days // BIN_DAYS
    train_x, outcome = next_order_frames(engine, cutoffs, evaluate_at)
    fit, stop = split(train_x, config.seed)
    encoder = FeatureEncoder.fit(train_x[fit], NUMERIC, CATEGORICAL)
    started = time.perf_counter()
    head = fit_survival(encoder, train_x[fit], outcome[fit], train_x[stop], outcome[stop], intervals, config)
    seconds = time.perf_counter() - started
    test_x = active_features(engine, evaluate_at)
    truth = next_order(engine, evaluate_at, end, test_x.index)
    survival = head.survival(encoder, test_x)
    within = {t: head.order_within(survival, t) for t in HORIZONS}
    ours = survival_metrics(truth["days"].to_numpy(), truth["event"].to_numpy(), within[90], within)
    median = head.median_days(survival)

    bgf, _ = fit_bgnbd(bgnbd_summary(engine, evaluate_at, test_x.index))
    summary = bgnbd_summary(engine, evaluate_at, test_x.index).reindex(test_x.index)
    buyers = summary["frequency"].notna().to_numpy()
    s = summary[buyers]
    baseline = {t: bgnbd_order_within(bgf, s, t) for t in HORIZONS}
    t_b = truth[buyers]
    return {
        "evaluation": f"trained on {', '.join(f'{c:%Y-%m-%d}' for c in cutoffs)} (followed up to "
        f"{evaluate_at:%Y-%m-%d}), tested on {evaluate_at:%Y-%m-%d} with 180 days of follow-up",
        "intervals": f"{intervals} x {BIN_DAYS} days",
        "train_rows": int(fit.sum()),
        "fit_seconds": round(seconds, 1),
        "winback_all_customers": ours,
        "median_days_known_share": float(np.isfinite(median).mean()),
        "on_customers_with_an_order": {
            "winback": survival_metrics(
                t_b["days"].to_numpy(),
                t_b["event"].to_numpy(),
                within[90][buyers],
                {t: within[t][buyers] for t in HORIZONS},
            ),
            "bg_nbd": survival_metrics(
                t_b["days"].to_numpy(),
                t_b["event"].to_numpy(),
                np.asarray(baseline[90]),
                {t: np.asarray(baseline[t]) for t in HORIZONS},
            ),
        },
    }


def run_value(engine, end: datetime, config: TrainConfig) -> dict:
    evaluate_at = end - timedelta(days=VALUE_DAYS)
    first = history_start(engine)
    cutoffs = [
        c
        for c in (evaluate_at - timedelta(days=VALUE_DAYS + 90 * k) for k in (2, 1, 0))
        if first is not None and c - timedelta(days=90) >= first
    ]
    if not cutoffs:
        raise SystemExit("the shop's orders do not span the two years and three months this benchmark needs")
    train_x, spend = value_frames(engine, cutoffs, VALUE_DAYS)
    fit, stop = split(train_x, config.seed)
    encoder = FeatureEncoder.fit(train_x[fit], NUMERIC, CATEGORICAL)
    started = time.perf_counter()
    head = fit_value(encoder, train_x[fit], spend[fit], train_x[stop], spend[stop], config)
    seconds = time.perf_counter() - started
    test_x = active_features(engine, evaluate_at)
    actual = spend_between(engine, evaluate_at, end, test_x.index)
    ours = head.predict(encoder, test_x)

    summary = bgnbd_summary(engine, evaluate_at, test_x.index)
    bgf, ggf = fit_bgnbd(summary)
    summary = summary.reindex(test_x.index)
    buyers = summary["frequency"].notna().to_numpy()
    s = summary[buyers]
    purchases = bgf.conditional_expected_number_of_purchases_up_to_time(
        VALUE_DAYS, s["frequency"], s["recency"], s["T"]
    )
    # lifetimes treats the first purchase as the start: its frequency counts repeat purchases only
    per_order = ggf.conditional_expected_average_profit(
        s["frequency"], s["monetary_value"].where(s["frequency"] > 0, 0)
    )
    baseline = np.asarray(purchases) * np.asarray(per_order)
    naive = test_x["monetary_365d"].to_numpy()
    return {
        "evaluation": f"trained on {', '.join(f'{c:%Y-%m-%d}' for c in cutoffs)} (each with its next 365 days), "
        f"tested on {evaluate_at:%Y-%m-%d} -> {end:%Y-%m-%d}",
        "train_rows": int(fit.sum()),
        "fit_seconds": round(seconds, 1),
        "winback_all_customers": value_metrics(actual, ours),
        "on_customers_with_an_order": {
            "winback": value_metrics(actual[buyers], ours[buyers]),
            "bg_nbd_gamma_gamma": value_metrics(actual[buyers], baseline),
            "last_12_months_spend": value_metrics(actual[buyers], naive[buyers]),
        },
    }


def table(title: str, rows: dict[str, dict], columns: tuple[str, ...]) -> str:
    lines = [title, "| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, metrics in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{metrics[c]:.4g}" for c in columns) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", type=Path, help="a data dir whose winback.db is copied instead of seeding")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from winback.data.db import make_engine

    database = demo_database(args.customers, args.reuse)
    try:
        engine = make_engine(f"sqlite:///{database}")
        end = latest_activity(engine)
        config = TrainConfig(seed=args.seed)
        result = {
            "dataset": "demo",
            "customers": args.customers,
            "seed": args.seed,
            "next_order": run_next_order(engine, end, config),
            "value_12_months": run_value(engine, end, config),
        }
    finally:
        shutil.rmtree(database.parent, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    n, v = result["next_order"], result["value_12_months"]
    print(f"next order — {n['evaluation']}")
    cols = ("concordance", "ece_90d", "ece_180d", "observed_90d", "predicted_90d", "observed_180d", "predicted_180d")
    print(table("all customers in the model's population", {"winback": n["winback_all_customers"]}, cols))
    print(table("customers with at least one order (BG/NBD needs one)", n["on_customers_with_an_order"], cols))
    print(f"\n12-month value — {v['evaluation']}")
    cols = ("mae", "rmse", "total_bias", "spearman", "top_20pct_capture", "mean_actual")
    print(table("all customers in the model's population", {"winback": v["winback_all_customers"]}, cols))
    print(table("customers with at least one order", v["on_customers_with_an_order"], cols))


if __name__ == "__main__":
    main()

"""Churn model quality: winback's model vs logistic regression and two gradient-boosting libraries, same splits.

    python -m bench.churn_quality --dataset demo       # out-of-time test cutoff on the 20,000-customer demo shop
    python -m bench.churn_quality --dataset telco      # IBM Telco churn, stratified K-fold
    python -m bench.churn_quality --dataset ecommerce  # e-commerce churn table, stratified K-fold
    options: --seed N (changes the splits and model seeds)  --folds K  --json (one object with every metric)

Protocol. Public tables: rows repeating another row's features and label are dropped first (the count is
reported), then stratified K-fold; inside each training fold winback splits 80 % fit / 10 % early stopping /
10 % calibration (stratified), chooses its network-vs-trees blend weight on the early-stopping rows and
fits Platt scaling on the calibration rows. The baselines train on the whole training fold with their
libraries' defaults. Demo: trained on three historical cutoffs, tested on a later one (out of time).
Nothing is tuned on test rows. Rows: `winback` is the shipped model (blend); `winback_network_only` the
same networks with the trees left out and Platt refitted on the calibration rows, to show what the
trees earn. The generic tabular path uses the same encoder, network and trees as winback's own model.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from winback.model.churn_model import ChurnModel  # noqa: E402  (after the sys.path line)
from winback.model.metrics import evaluate  # noqa: E402  (after the sys.path line)
from winback.model.train import TrainConfig, fit_ensemble, fit_platt  # noqa: E402  (after the sys.path line)

METRICS = ("roc_auc", "pr_auc", "brier", "ece", "top_decile_lift")


def load_tabular(dataset: str) -> tuple[pd.DataFrame, np.ndarray, list[str], list[str], int]:
    """A public dataset as (features, target, numeric columns, categorical columns, rows dropped as duplicates).

    Rows that repeat another row's features and label (the id aside) are dropped before splitting: the
    e-commerce table has 556 of them, and a copy on each side of a fold lets a model score by memory.
    """
    if dataset == "telco":
        df = pd.read_csv(DATA / "telco_churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv")
        df["TotalCharges"] = pd.to_numeric(df["TotalCharges"].str.strip(), errors="coerce")  # 11 blanks
        y = (df.pop("Churn") == "Yes").astype(int).to_numpy()
        df = df.drop(columns=["customerID"])
    elif dataset == "ecommerce":
        df = pd.read_csv(DATA / "ecommerce_churn" / "E_Commerce_Dataset.csv")
        y = df.pop("Churn").astype(int).to_numpy()
        df = df.drop(columns=["CustomerID"])
    else:
        raise SystemExit(f"unknown dataset {dataset!r}")
    labelled = df.assign(_label=y)
    keep = ~labelled.duplicated(keep="first").to_numpy()
    df, y = df[keep].reset_index(drop=True), y[keep]
    categorical = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    numeric = [c for c in df.columns if c not in categorical]
    return df, y, numeric, categorical, int((~keep).sum())


def baselines(train_x, train_y, test_x, numeric, categorical, seed):
    lr = make_pipeline(
        ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
                ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
            ]
        ),
        LogisticRegression(max_iter=3000),
    ).fit(train_x, train_y)
    hx_train, hx_test = train_x.copy(), test_x.copy()
    for column in categorical:
        hx_train[column] = hx_train[column].astype("category")
        hx_test[column] = pd.Categorical(hx_test[column], categories=hx_train[column].cat.categories)
    hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed).fit(hx_train, train_y)
    lgbm = lgb.LGBMClassifier(random_state=seed, n_jobs=2, verbose=-1).fit(hx_train, train_y)
    return {
        "logistic_regression": lr.predict_proba(test_x)[:, 1],
        "hist_gradient_boosting": hgb.predict_proba(hx_test)[:, 1],
        "lightgbm": lgbm.predict_proba(hx_test)[:, 1],
    }


def winback_models(fit, stop, calibrate, test_x, numeric, categorical, seed) -> tuple[dict[str, np.ndarray], float]:
    """The shipped blend and its network alone, and the blend's network weight."""
    result = fit_ensemble(*fit, *stop, *calibrate, numeric, categorical, TrainConfig(seed=seed))
    network_only = ChurnModel(network=result.model.network)
    network_only.slope, network_only.bias = fit_platt(
        network_only.network_logits(result.encoder, calibrate[0]), np.asarray(calibrate[1])
    )
    predictions = {
        "winback": result.model.predict(result.encoder, test_x),
        "winback_network_only": network_only.predict(result.encoder, test_x),
    }
    weight = result.model.network_weight if result.model.trees is not None else 1.0
    return predictions, weight


def run_tabular(dataset: str, seed: int, folds: int) -> dict:
    x, y, numeric, categorical, dropped = load_tabular(dataset)
    per_model: dict[str, list[dict]] = {}
    weights: list[float] = []
    pooled: dict[str, np.ndarray] = {}  # every row's out-of-fold prediction
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (train_idx, test_idx) in enumerate(splitter.split(x, y)):
        train_x, test_x, train_y, test_y = x.iloc[train_idx], x.iloc[test_idx], y[train_idx], y[test_idx]
        fit_x, hold_x, fit_y, hold_y = train_test_split(
            train_x, train_y, test_size=0.2, stratify=train_y, random_state=seed + fold
        )
        stop_x, cal_x, stop_y, cal_y = train_test_split(
            hold_x, hold_y, test_size=0.5, stratify=hold_y, random_state=seed + fold
        )
        started = time.perf_counter()
        predictions, weight = winback_models(
            (fit_x, fit_y), (stop_x, stop_y), (cal_x, cal_y), test_x, numeric, categorical, seed + fold
        )
        weights.append(weight)
        torch_seconds = time.perf_counter() - started
        predictions.update(baselines(train_x, train_y, test_x, numeric, categorical, seed + fold))
        for name, p in predictions.items():
            per_model.setdefault(name, []).append(evaluate(test_y, p))
            pooled.setdefault(name, np.zeros(len(y)))[test_idx] = p
        print(
            f"fold {fold + 1}/{folds}: "
            + ", ".join(f"{k} {evaluate(test_y, v)['roc_auc']:.4f}" for k, v in predictions.items())
            + f" (winback {torch_seconds:.0f} s, network weight {weight:.1f})",
            file=sys.stderr,
        )
    return {
        "dataset": dataset,
        "evaluation": f"stratified {folds}-fold CV",
        "seed": seed,
        "rows": int(len(y)),
        "rows_dropped_as_duplicates": dropped,
        "positive_rate": float(y.mean()),
        "network_weight_per_fold": weights,
        "models": {
            name: {
                m: {"mean": float(np.mean([r[m] for r in runs])), "std": float(np.std([r[m] for r in runs]))}
                for m in METRICS
            }
            for name, runs in per_model.items()
        },
        "pooled_out_of_fold": {name: evaluate(y, p) for name, p in pooled.items()},
    }


def run_demo(seed: int, customers: int) -> dict:
    from winback.data.db import make_engine
    from winback.data.demo.seed import seed_demo
    from winback.data.migrate import upgrade
    from winback.model.features import CATEGORICAL, NUMERIC
    from winback.model.pipeline import build_training_data, split_training

    folder = Path(tempfile.mkdtemp(prefix="winback-quality-"))
    engine = make_engine(f"sqlite:///{folder / 'demo.db'}")
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=7)
    data = build_training_data(engine)
    parts = split_training(data, salt=f"split:{seed}")
    predictions, weight = winback_models(
        parts["fit"], parts["stop"], parts["calibrate"], data.test_x, NUMERIC, CATEGORICAL, seed
    )
    train_x = pd.concat([parts["fit"][0], parts["stop"][0]])
    train_y = np.concatenate([parts["fit"][1], parts["stop"][1]])
    predictions.update(baselines(train_x, train_y, data.test_x, NUMERIC, CATEGORICAL, seed))
    return {
        "dataset": "demo",
        "evaluation": f"out-of-time: trained on cutoffs {', '.join(f'{c:%Y-%m-%d}' for c in data.plan.train)}, "
        f"tested on {data.plan.test:%Y-%m-%d} (90-day horizon)",
        "seed": seed,
        "customers": customers,
        "rows": int(len(data.test_y)),
        "rows_dropped_as_duplicates": 0,  # test rows come from a later cutoff than every training label
        "network_weight_per_fold": [weight],
        "positive_rate": float(data.test_y.mean()),
        "models": {
            name: {m: {"mean": evaluate(data.test_y, p)[m], "std": 0.0} for m in METRICS}
            for name, p in predictions.items()
        },
        "pooled_out_of_fold": {name: evaluate(data.test_y, p) for name, p in predictions.items()},
    }


BASELINES = ("logistic_regression", "hist_gradient_boosting", "lightgbm")


def versus_best_baseline(result: dict) -> dict:
    """winback's ROC-AUC margin over the best baseline (the target: at least -0.002)."""
    best = max(BASELINES, key=lambda name: result["models"][name]["roc_auc"]["mean"])
    margin = result["models"]["winback"]["roc_auc"]["mean"] - result["models"][best]["roc_auc"]["mean"]
    return {"best_baseline": best, "roc_auc_margin": round(margin, 4), "within_target": margin >= -0.002}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=["demo", "telco", "ecommerce"], default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--customers", type=int, default=20_000, help="demo shop size")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = (
        run_demo(args.seed, args.customers)
        if args.dataset == "demo"
        else run_tabular(args.dataset, args.seed, args.folds)
    )
    result["versus_best_baseline"] = versus_best_baseline(result)
    if args.json:
        print(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "model",
        "ROC-AUC",
        "PR-AUC",
        "Brier",
        "ECE",
        "top-decile lift",
        "ECE, pooled",
        title=f"{result['dataset']}: {result['evaluation']}, {result['rows']:,} rows "
        f"({result['rows_dropped_as_duplicates']:,} duplicates dropped), seed {result['seed']}, "
        f"network weight in the blend {', '.join(f'{w:.1f}' for w in result['network_weight_per_fold'])}",
    )
    for name, metrics in result["models"].items():
        cells = [
            f"{metrics[m]['mean']:.4f}" + (f" ± {metrics[m]['std']:.4f}" if metrics[m]["std"] else "") for m in METRICS
        ]
        table.add_row(name, *cells, f"{result['pooled_out_of_fold'][name]['ece']:.4f}")
    Console(width=170).print(table)
    check = result["versus_best_baseline"]
    print(f"winback vs the best baseline ({check['best_baseline']}): ROC-AUC {check['roc_auc_margin']:+.4f}")
    print(
        "ECE, pooled: over every row's out-of-fold prediction at once (per-fold ECE on ~1,000-1,400 rows has a "
        "noise floor near 0.03 even for a perfectly calibrated model)"
    )


if __name__ == "__main__":
    main()

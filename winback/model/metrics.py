"""Quality metrics reported for every model: discrimination, calibration and what a retention team gets."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """Mean |observed rate - mean prediction| over equal-width probability bins, weighted by bin size."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(y[mask].mean() - p[mask].mean())
    return float(error)


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Churn rate among the 10 % highest-scored customers divided by the overall churn rate."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    k = max(1, int(round(0.1 * len(y))))
    top = np.argsort(-p, kind="stable")[:k]
    return float(y[top].mean() / y.mean()) if y.mean() > 0 else float("nan")


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "top_decile_lift": top_decile_lift(y, p),
        "rows": int(len(y)),
        "positive_rate": float(np.mean(y)),
    }


def survival_metrics(
    days: np.ndarray, event: np.ndarray, risk: np.ndarray, order_within: dict[int, np.ndarray]
) -> dict[str, float]:
    """Time-to-next-order quality: Harrell's concordance of `risk` (higher = sooner order) with the censored
    times, and per horizon t the calibration of P(order within t) among rows followed up at least t days
    (or who ordered before t)."""
    from sksurv.metrics import concordance_index_censored

    days, event = np.asarray(days, dtype=float), np.asarray(event, dtype=bool)
    out: dict[str, float] = {
        "concordance": float(concordance_index_censored(event, days, np.asarray(risk, dtype=float))[0]),
        "rows": int(len(days)),
    }
    for t, p in sorted(order_within.items()):
        known = (event & (days <= t)) | (days >= t)
        ordered = (event & (days <= t))[known].astype(float)
        predicted = np.asarray(p, dtype=float)[known]
        out[f"ece_{t}d"] = expected_calibration_error(ordered, predicted)
        out[f"observed_{t}d"] = float(ordered.mean()) if len(ordered) else float("nan")
        out[f"predicted_{t}d"] = float(predicted.mean()) if len(predicted) else float("nan")
    return out


def value_metrics(actual: np.ndarray, predicted: np.ndarray, top_share: float = 0.2) -> dict[str, float]:
    """Customer-value error: MAE, RMSE, total bias, rank correlation, and how much of the actual value the
    top `top_share` of customers by prediction hold compared with the best possible choice of them."""
    from scipy.stats import spearmanr

    actual, predicted = np.asarray(actual, dtype=float), np.asarray(predicted, dtype=float)
    k = max(1, int(round(top_share * len(actual))))
    chosen = actual[np.argsort(-predicted, kind="stable")[:k]].sum()
    best = np.sort(actual)[::-1][:k].sum()
    return {
        "mae": float(np.mean(np.abs(actual - predicted))),
        "rmse": float(np.sqrt(np.mean((actual - predicted) ** 2))),
        "total_bias": float(predicted.sum() / actual.sum() - 1.0) if actual.sum() else float("nan"),
        "spearman": float(spearmanr(actual, predicted).statistic),
        f"top_{round(top_share * 100)}pct_capture": float(chosen / best) if best else float("nan"),
        "rows": int(len(actual)),
        "mean_actual": float(actual.mean()),
    }


def uplift_gain(effect: np.ndarray, score: np.ndarray) -> float:
    """Area under the cumulative-effect curve of a ranking (mean over k of the summed effect of the top k)."""
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    return float(np.cumsum(np.asarray(effect, dtype=float)[order]).mean())


def auuc_against_truth(effect: np.ndarray, score: np.ndarray) -> float:
    """How much of the best possible uplift ranking a score achieves, judged by known true effects:
    (area - random's) / (oracle's area - random's); 1 = ranks as the truth does, 0 = no better than random."""
    effect = np.asarray(effect, dtype=float)
    n = len(effect)
    random_area = effect.sum() * (n + 1) / (2 * n)
    best = uplift_gain(effect, effect) - random_area
    return float((uplift_gain(effect, score) - random_area) / best) if best > 0 else float("nan")


def qini_coefficient(treated: np.ndarray, outcome: np.ndarray, score: np.ndarray, points: int = 100) -> float:
    """The Qini coefficient from observed outcomes of a randomised test: area between the Qini curve
    Q(k) = Y_t(k) - Y_c(k) N_t(k) / N_c(k) and the random-targeting line, per member, over `points` cuts."""
    treated, outcome = np.asarray(treated, dtype=bool), np.asarray(outcome, dtype=float)
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    t, y = treated[order], outcome[order]
    n = len(t)
    cuts = np.unique(np.linspace(1, n, points).astype(int))
    yt, yc = np.cumsum(y * t)[cuts - 1], np.cumsum(y * ~t)[cuts - 1]
    nt, nc = np.cumsum(t)[cuts - 1], np.cumsum(~t)[cuts - 1]
    q = yt - yc * np.divide(nt, nc, out=np.zeros(len(cuts)), where=nc > 0)
    random_line = q[-1] * cuts / n
    return float(np.mean(q - random_line) / n)

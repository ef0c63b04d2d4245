"""Gradient-boosted trees (LightGBM) over the network's own features: the second member of the blend.

Trees see the raw numeric values with their gaps left as gaps (LightGBM routes missing values down the
branch that fits them best, which is how a missing tenure can carry signal) and each categorical as its
vocabulary index from the fitted encoder, so both members read exactly the same columns in the same order.
Their attributions are LightGBM's built-in TreeSHAP values (`pred_contrib`), exact and cheap.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from winback.model.encoding import FeatureEncoder

MAX_ROUNDS = 2_000
EARLY_STOPPING_ROUNDS = 50


def tree_params(seed: int) -> dict[str, object]:
    """Conservative defaults that need no tuning per dataset (chosen on inner splits, never on test folds)."""
    return {
        "objective": "binary",
        "learning_rate": 0.03,
        "num_leaves": 31,
        "min_data_in_leaf": 20,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "cat_smooth": 10.0,
        "max_cat_to_onehot": 8,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 2,
        "verbose": -1,
    }


def tree_matrix(encoder: FeatureEncoder, frame: pd.DataFrame) -> np.ndarray:
    """Raw numerics (NaN where missing), then categorical vocabulary indices (0 = unseen), as float64."""
    numeric = np.column_stack(
        [pd.to_numeric(frame[c], errors="coerce").astype(float).to_numpy() for c in encoder.numeric]
        or [np.empty((len(frame), 0))]
    )
    categorical = encoder.categorical_matrix(frame).astype(np.float64)
    return np.hstack([numeric.reshape(len(frame), -1), categorical])


def _dataset(encoder: FeatureEncoder, frame: pd.DataFrame, y: np.ndarray, reference: lgb.Dataset | None = None):
    n_numeric = len(encoder.numeric)
    return lgb.Dataset(
        tree_matrix(encoder, frame),
        label=np.asarray(y, dtype=float),
        feature_name=[f"f{j}" for j in range(n_numeric + len(encoder.categorical))],
        categorical_feature=list(range(n_numeric, n_numeric + len(encoder.categorical))),
        reference=reference,
        free_raw_data=False,
    )


def fit_trees(
    encoder: FeatureEncoder,
    fit_x: pd.DataFrame,
    fit_y: np.ndarray,
    stop_x: pd.DataFrame,
    stop_y: np.ndarray,
    seed: int,
) -> lgb.Booster:
    """Boost on the fit rows, stopping when the early-stopping rows' log loss stops improving."""
    train = _dataset(encoder, fit_x, fit_y)
    valid = _dataset(encoder, stop_x, stop_y, reference=train)
    return lgb.train(
        tree_params(seed),
        train,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )


# A fresh booster predicts with its best iteration; a saved one holds only those iterations.
def refit_trees(encoder: FeatureEncoder, x: pd.DataFrame, y: np.ndarray, rounds: int, seed: int) -> lgb.Booster:
    """Boost again on more rows (fit and early-stopping rows together) for a round count found before."""
    return lgb.train(tree_params(seed), _dataset(encoder, x, y), num_boost_round=max(1, rounds))


def tree_logits(booster: lgb.Booster, encoder: FeatureEncoder, frame: pd.DataFrame) -> np.ndarray:
    return np.asarray(
        booster.predict(tree_matrix(encoder, frame), raw_score=True),
        dtype=np.float64,
    )


def tree_contributions(booster: lgb.Booster, encoder: FeatureEncoder, frame: pd.DataFrame) -> np.ndarray:
    """TreeSHAP per row and feature in log-odds; the last column is the trees' expected logit."""
    return np.asarray(
        booster.predict(tree_matrix(encoder, frame), pred_contrib=True),
        dtype=np.float64,
    )


def expected_logit(booster: lgb.Booster, encoder: FeatureEncoder, frame: pd.DataFrame) -> float:
    """The trees' average logit over their training data (TreeSHAP's reference point)."""
    return float(tree_contributions(booster, encoder, frame.iloc[:1])[0, -1])

"""Who an offer would change: per-customer incremental response from campaigns with a random holdout.

A campaign's holdout members are a random sample of its cohort who got nothing, so "ordered in the window"
among treated members against the holdout's is a causal contrast. Two meta-learners over the churn
model's features at the campaign's start, with the offer type as a feature of the treated models:

- T-learner: mu1(x, type) on treated members, mu0(x) on the holdout; effect = mu1 - mu0.
- X-learner (Kuenzel et al., 2019): impute each member's effect with the other arm's model (treated:
  y - mu0(x); holdout: mu1(x, the type the policy planned for them) - y), fit a model of the imputed
  effects per arm, and weight the two by the holdout share. It borrows strength across arms when effects
  are small and one arm is thin — a win-back campaign's situation — and is the one winback ships.

The models are LightGBM with fixed, conservative settings (few leaves, many rows per leaf, strong L2),
chosen before any evaluation: a campaign of a few thousand members is a small, noisy training set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from winback.model.encoding import FeatureEncoder
from winback.model.trees import tree_matrix

Learner = Literal["t", "x"]
ROUNDS = 150


def uplift_params(objective: str, seed: int) -> dict[str, object]:
    return {
        "objective": objective,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_data_in_leaf": 40,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 5.0,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 2,
        "verbose": -1,
    }


@dataclass
class UpliftModel:
    """Estimated change in P(order within the campaign window) if the customer is sent an offer of a type."""

    encoder: FeatureEncoder
    offer_types: list[str]
    learner: Learner
    control: lgb.Booster  # mu0(x)
    treated: lgb.Booster  # mu1(x, type)
    effect_treated: lgb.Booster | None = None  # X-learner: tau1(x, type), tau0(x, type)
    effect_control: lgb.Booster | None = None
    holdout_share: float = 0.5
    meta: dict[str, Any] = field(default_factory=dict)

    def _matrix(self, frame: pd.DataFrame, offer_type: str | list[str] | np.ndarray) -> np.ndarray:
        types = np.broadcast_to(np.asarray(offer_type, dtype=object), (len(frame),))
        codes = np.array([self.offer_types.index(t) if t in self.offer_types else -1 for t in types], dtype=float)
        codes[codes < 0] = np.nan
        return np.hstack([tree_matrix(self.encoder, frame), codes[:, None]])

    def effect(self, frame: pd.DataFrame, offer_type: str | list[str] | np.ndarray) -> np.ndarray:
        """Per row, the estimated lift in the chance of an order; NaN for an offer type never tried."""
        if frame.empty:
            return np.empty(0)
        x = self._matrix(frame, offer_type)
        if self.learner == "t" or self.effect_treated is None or self.effect_control is None:
            out = _predict(self.treated, x) - _predict(self.control, x[:, :-1])
        else:
            g = self.holdout_share  # Kuenzel: tau = e tau0 + (1 - e) tau1, e = P(treated) = 1 - holdout share
            out = g * _predict(self.effect_treated, x) + (1 - g) * _predict(self.effect_control, x)
        return np.where(np.isnan(x[:, -1]), np.nan, out)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=False)
        boosters = {"control": self.control, "treated": self.treated}
        if self.effect_treated is not None and self.effect_control is not None:
            boosters |= {"effect_treated": self.effect_treated, "effect_control": self.effect_control}
        for name, booster in boosters.items():
            (folder / f"{name}.txt").write_text(booster.model_to_string())
        spec = {
            "encoder": self.encoder.to_dict(),
            "offer_types": self.offer_types,
            "learner": self.learner,
            "holdout_share": self.holdout_share,
            "boosters": sorted(boosters),
            "meta": self.meta,
        }
        (folder / "uplift.json").write_text(json.dumps(spec, indent=1, default=str))
        return folder

    @classmethod
    def load(cls, folder: Path) -> UpliftModel:
        spec = json.loads((folder / "uplift.json").read_text())
        boosters = {n: lgb.Booster(model_str=(folder / f"{n}.txt").read_text()) for n in spec["boosters"]}
        return cls(
            encoder=FeatureEncoder.from_dict(spec["encoder"]),
            offer_types=spec["offer_types"],
            learner=spec["learner"],
            control=boosters["control"],
            treated=boosters["treated"],
            effect_treated=boosters.get("effect_treated"),
            effect_control=boosters.get("effect_control"),
            holdout_share=spec["holdout_share"],
            meta=spec["meta"],
        )


def _predict(booster: lgb.Booster, x: np.ndarray) -> np.ndarray:
    return np.asarray(booster.predict(x), dtype=float)


def _train(x: np.ndarray, y: np.ndarray, objective: str, seed: int, categorical: list[int]) -> lgb.Booster:
    data = lgb.Dataset(x, label=y.astype(float), categorical_feature=categorical, free_raw_data=False)
    return lgb.train(uplift_params(objective, seed), data, num_boost_round=ROUNDS)


def fit_uplift(
    encoder: FeatureEncoder,
    features: pd.DataFrame,
    treated: np.ndarray,
    saved: np.ndarray,
    offer_type: np.ndarray,
    learner: Learner = "x",
    seed: int = 7,
) -> UpliftModel:
    """Fit on campaign members: their features at the campaign's start, arm (True = treated), whether they
    ordered in the window, and the offer type (treated: the one sent; holdout: the one planned)."""
    treated, saved = np.asarray(treated, dtype=bool), np.asarray(saved, dtype=float)
    if treated.all() or not treated.any():
        raise ValueError("an uplift model needs treated and holdout members")
    offer_types = sorted({str(t) for t in offer_type[treated]})
    model = UpliftModel(encoder, offer_types, learner, None, None, holdout_share=float(1 - treated.mean()))  # type: ignore[arg-type]  # boosters set below
    x = model._matrix(features, offer_type)
    n_base = x.shape[1] - 1
    categorical = list(range(len(encoder.numeric), n_base))
    model.control = _train(x[~treated, :n_base], saved[~treated], "binary", seed, categorical)
    model.treated = _train(x[treated], saved[treated], "binary", seed + 1, [*categorical, n_base])
    if learner == "x":
        imputed_treated = saved[treated] - _predict(model.control, x[treated, :n_base])
        imputed_control = _predict(model.treated, x[~treated]) - saved[~treated]
        model.effect_treated = _train(x[treated], imputed_treated, "regression", seed + 2, [*categorical, n_base])
        model.effect_control = _train(x[~treated], imputed_control, "regression", seed + 3, [*categorical, n_base])
    return model

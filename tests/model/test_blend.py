"""The network/tree blend: trees get weight where they predict better held-out, attributions still add up,
and a saved model scores exactly as the one in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winback.model.artifact import ModelArtifact, load_artifact, save_artifact
from winback.model.explain import attribute, baseline_dense, baseline_probability, category_frequencies
from winback.model.train import TrainConfig, choose_blend, fit_ensemble

FAST = TrainConfig(members=2, max_epochs=15, patience=3)


def sharp_thresholds(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Churn decided by sharp, interacting thresholds and a gap: what trees split on and a small MLP smooths."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 30, n).astype(float)
    complaints = rng.integers(0, 2, n).astype(float)
    cashback = rng.uniform(0, 300, n)
    tenure[rng.random(n) < 0.1] = np.nan
    plan = rng.choice(["basic", "plus", "pro"], n)
    logit = np.where(np.isnan(tenure), 2.0, np.where(tenure < 2, 2.5, -1.5))
    logit = logit + 2.0 * complaints * (cashback > 150) - 1.0 * (plan == "pro")
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"tenure": tenure, "complaints": complaints, "cashback": cashback, "plan": plan}), y


@pytest.fixture(scope="module")
def fitted():
    x, y = sharp_thresholds(4_000, 1)
    parts = [(x.iloc[:3000], y[:3000]), (x.iloc[3000:3500], y[3000:3500]), (x.iloc[3500:], y[3500:])]
    result = fit_ensemble(*parts[0], *parts[1], *parts[2], ["tenure", "complaints", "cashback"], ["plan"], FAST)
    return result, x, y


def test_trees_get_weight_where_they_predict_better(fitted) -> None:
    result, _, _ = fitted
    assert result.model.trees is not None and result.model.network_weight < 1.0


def test_choose_blend_prefers_the_member_with_the_lower_held_out_loss() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2_000)
    informative, noise = 3.0 * (2 * y - 1) + rng.normal(0, 1, 2_000), rng.normal(0, 1, 2_000)
    assert choose_blend(noise, informative, y) <= 0.2  # a little noise costs less than the tie margin
    assert choose_blend(informative, noise, y) >= 0.8
    assert choose_blend(informative, informative, y) == 1.0  # a tie goes to the network


def test_attributions_of_the_blend_add_up_to_the_probability(fitted) -> None:
    result, x, _ = fitted
    model, encoder = result.model, result.encoder
    baseline = baseline_dense(encoder, category_frequencies(encoder, x.iloc[:3000]))
    rows = x.iloc[:200]
    contributions = attribute(model, encoder, baseline, rows, n_steps=16)
    gap = model.predict(encoder, rows) - baseline_probability(model, baseline)
    assert np.allclose(contributions.sum(axis=1), gap, atol=0.02)
    # the feature that decides most of the label carries most of the attribution
    assert np.abs(contributions).mean(axis=0).argmax() == 0


def test_a_saved_blend_scores_exactly_as_in_memory(fitted, tmp_path: Path) -> None:
    result, x, _ = fitted
    baseline = baseline_dense(result.encoder, category_frequencies(result.encoder, x))
    save_artifact(ModelArtifact("v-test", result.model, result.encoder, baseline), tmp_path)
    loaded = load_artifact(tmp_path, "v-test")
    assert loaded.model.describe() == result.model.describe()
    assert np.array_equal(loaded.model.predict(loaded.encoder, x), result.model.predict(result.encoder, x))

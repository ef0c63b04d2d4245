"""The uplift learners on data whose true effects are known: they find who an offer helps and who it
hurts, keep offer types apart, and survive a save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winback.model.encoding import FeatureEncoder
from winback.model.metrics import auuc_against_truth, qini_coefficient
from winback.model.uplift import UpliftModel, fit_uplift


def _members(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Price-sensitive members are persuadable (+35 points with a discount, +10 with free shipping);
    impatient ones are put off by any offer (-15); the rest are unmoved."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "price_sensitivity": rng.uniform(0, 1, n),
            "patience": rng.uniform(0, 1, n),
            "noise": rng.normal(size=n),
            "segment": rng.choice(["bronze", "gold"], n),
        },
        index=[f"C-{i}" for i in range(n)],
    )
    offer = rng.choice(["percent_discount", "free_shipping"], n)
    effect = np.where(frame["price_sensitivity"] > 0.6, np.where(offer == "percent_discount", 0.35, 0.10), 0.0)
    effect = np.where(frame["patience"] < 0.25, -0.15, effect)
    treated = rng.uniform(size=n) < 0.5
    base = 0.3 + 0.2 * (frame["segment"] == "gold")
    saved = rng.uniform(size=n) < np.clip(base + treated * effect, 0, 1)
    return frame, treated, saved, offer.astype(object), effect


@pytest.mark.parametrize("learner", ["x", "t"])
def test_learners_rank_by_the_true_effect(learner: str) -> None:
    frame, treated, saved, offer, _ = _members(6_000, seed=1)
    encoder = FeatureEncoder.fit(frame, ["price_sensitivity", "patience", "noise"], ["segment"])
    model = fit_uplift(encoder, frame, treated, saved, offer, learner)  # type: ignore[arg-type]
    test, t_treated, t_saved, t_offer, t_effect = _members(4_000, seed=2)
    estimate = model.effect(test, t_offer)
    assert auuc_against_truth(t_effect, estimate) > 0.6
    assert qini_coefficient(t_treated, t_saved, estimate) > qini_coefficient(t_treated, t_saved, -estimate)
    persuadable = (t_effect >= 0.35) & (t_offer == "percent_discount")
    harmed = t_effect < 0
    assert estimate[persuadable].mean() > 0.2 and estimate[harmed].mean() < -0.05
    # one customer, two offer types: the discount is worth more to the price-sensitive
    sensitive = test[(test["price_sensitivity"] > 0.7) & (test["patience"] > 0.4)]
    assert (model.effect(sensitive, "percent_discount") - model.effect(sensitive, "free_shipping")).mean() > 0.1
    assert np.isnan(model.effect(sensitive.head(3), "gift")).all()  # never tried: no claim


def test_an_uplift_model_survives_save_and_load(tmp_path: Path) -> None:
    frame, treated, saved, offer, _ = _members(2_000, seed=3)
    encoder = FeatureEncoder.fit(frame, ["price_sensitivity", "patience", "noise"], ["segment"])
    model = fit_uplift(encoder, frame, treated, saved, offer, "x")
    model.meta = {"campaigns": ["oct"]}
    again = UpliftModel.load(model.save(tmp_path / "u"))
    np.testing.assert_allclose(again.effect(frame, offer), model.effect(frame, offer))
    assert again.meta == {"campaigns": ["oct"]} and again.offer_types == ["free_shipping", "percent_discount"]
    with pytest.raises(ValueError, match="treated and holdout"):
        fit_uplift(encoder, frame, np.ones(len(frame), bool), saved, offer)

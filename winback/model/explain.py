"""Why a customer is at risk: each feature's share of the calibrated probability, in words.

Each member is attributed in log-odds: the network by captum's IntegratedGradients against a baseline
"average customer" (every numeric feature at its training mean, every categorical at its training
frequencies), the trees by LightGBM's exact TreeSHAP against their mean logit. The blend's weights and
Platt slope combine them; the log-odds shares are then scaled so that they add up to the customer's
probability minus the baseline's, and a driver's value reads as percentage points of churn probability
it adds or removes ("3 of the last 4 deliveries were late (+0.11)").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from captum.attr import IntegratedGradients

from winback.model.churn_model import ChurnModel, to_dense
from winback.model.encoding import FeatureEncoder
from winback.model.features import topic_feature
from winback.model.trees import tree_contributions


@dataclass(frozen=True)
class Driver:
    feature: str
    value: float | str
    contribution: float
    text: str

    def to_dict(self) -> dict[str, object]:
        return {
            "feature": self.feature,
            "value": self.value,
            "contribution": round(self.contribution, 4),
            "text": self.text,
        }


def baseline_dense(encoder: FeatureEncoder, frequencies: dict[str, list[float]]) -> torch.Tensor:
    parts = [torch.zeros(len(encoder.numeric))]
    for column in encoder.categorical:
        parts.append(torch.tensor(frequencies[column], dtype=torch.float32))
    return torch.cat(parts).unsqueeze(0)


def category_frequencies(encoder: FeatureEncoder, frame: pd.DataFrame) -> dict[str, list[float]]:
    codes = encoder.categorical_matrix(frame)
    out = {}
    for j, column in enumerate(encoder.categorical):
        counts = np.bincount(codes[:, j], minlength=len(encoder.vocabularies[column])).astype(float)
        out[column] = (counts / counts.sum()).tolist()
    return out


def _network_attributions(
    model: ChurnModel, encoder: FeatureEncoder, baseline: torch.Tensor, frame: pd.DataFrame, n_steps: int, batch: int
) -> np.ndarray:
    """Integrated gradients of the network's logit, summed per feature (one-hot blocks folded back)."""
    device = model.device
    ig = IntegratedGradients(model.network)
    widths = [1] * len(encoder.numeric) + encoder.cardinalities()
    bounds = np.cumsum([0, *widths])
    out = np.zeros((len(frame), len(widths)), dtype=np.float64)
    for start in range(0, len(frame), batch):
        dense = to_dense(encoder, frame.iloc[start : start + batch], device)
        attr = ig.attribute(dense, baselines=baseline.to(device), n_steps=n_steps, internal_batch_size=batch)
        attr = attr.detach().double().cpu().numpy()
        for j in range(len(widths)):
            out[start : start + len(dense), j] = attr[:, bounds[j] : bounds[j + 1]].sum(axis=1)
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@torch.no_grad()
def baseline_logit(model: ChurnModel, baseline: torch.Tensor) -> float:
    """The calibrated log-odds of the reference customer every attribution is measured from."""
    network = float(model.network(baseline.to(model.device)).item())
    w = model.network_weight if model.trees is not None else 1.0
    return model.slope * (w * network + (1 - w) * model.trees_expected_logit) + model.bias


def baseline_probability(model: ChurnModel, baseline: torch.Tensor) -> float:
    return float(_sigmoid(np.array(baseline_logit(model, baseline))))


def attribute(
    model: ChurnModel,
    encoder: FeatureEncoder,
    baseline: torch.Tensor,
    frame: pd.DataFrame,
    n_steps: int = 24,
    batch: int = 2048,
) -> np.ndarray:
    """Per-row, per-feature contributions to the probability (features in encoder order: numeric, categorical)."""
    if frame.empty:
        return np.zeros((0, len(encoder.numeric) + len(encoder.categorical)), dtype=np.float32)
    shares = model.slope * _network_attributions(model, encoder, baseline, frame, n_steps, batch)
    if model.trees is not None:
        w = model.network_weight
        shares = w * shares + model.slope * (1 - w) * tree_contributions(model.trees, encoder, frame)[:, :-1]
    start = baseline_logit(model, baseline)
    end = model.slope * model.blended_logits(encoder, frame) + model.bias
    # log-odds shares to probability points: one factor per row, so signs and order are kept and the
    # shares add up to p - p_baseline (the secant of the sigmoid; its slope where the two logits meet)
    gap = end - start
    close = np.abs(gap) < 1e-6
    p0 = _sigmoid(np.array(start))
    factor = np.where(close, p0 * (1 - p0), (_sigmoid(end) - p0) / np.where(close, 1.0, gap))
    return (shares * factor[:, None]).astype(np.float32)


def _plural(n: float, word: str) -> str:
    n = int(round(n))
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


TEMPLATES: dict[str, Callable[[pd.Series], str]] = {
    "recency_days": lambda r: (
        f"last order {_plural(r.recency_days, 'day')} ago" if r.orders_total else "has never ordered"
    ),
    "tenure_days": lambda r: f"customer for {r.tenure_days / 30.4:.0f} months",
    "orders_total": lambda r: f"{_plural(r.orders_total, 'order')} in total",
    "orders_365d": lambda r: f"{_plural(r.orders_365d, 'order')} in the last year",
    "monetary_365d": lambda r: f"spent {r.monetary_365d:,.0f} in the last year",
    "orders_last_90d": lambda r: f"{_plural(r.orders_last_90d, 'order')} in the last 90 days",
    "orders_prev_90d": lambda r: f"{_plural(r.orders_prev_90d, 'order')} in the 90 days before that",
    "order_trend_90d": lambda r: (
        f"ordering less: {r.orders_last_90d:.0f} orders in the last 90 days vs {r.orders_prev_90d:.0f} before"
        if r.order_trend_90d < 0
        else f"{r.orders_last_90d:.0f} orders in the last 90 days vs {r.orders_prev_90d:.0f} before"
    ),
    "aov_change": lambda r: f"average order value {r.aov_change:+.0%} vs earlier",
    "discount_share_365d": lambda r: f"{r.discount_share_365d:.0%} of spend was discounted",
    "late_share_365d": lambda r: f"{r.late_share_365d:.0%} of deliveries in the last year were late",
    "mean_delay_days_365d": lambda r: (
        f"late parcels arrived {r.mean_delay_days_365d:.1f} days late on average"
        if r.mean_delay_days_365d
        else "no late parcels"
    ),
    "late_of_last_4": lambda r: (
        f"{r.late_of_last_4:.0f} of the last {min(4, int(r.orders_total)) or 4} deliveries were late"
    ),
    "overdue_parcels": lambda r: f"{_plural(r.overdue_parcels, 'parcel')} overdue right now",
    "returns_365d": lambda r: f"{_plural(r.returns_365d, 'return')} in the last year",
    "cancellations_365d": lambda r: f"{_plural(r.cancellations_365d, 'cancelled order')} in the last year",
    "tickets_365d": lambda r: f"{_plural(r.tickets_365d, 'support ticket')} in the last year",
    "unresolved_tickets": lambda r: (
        f"{_plural(r.unresolved_tickets, 'support ticket')} still unresolved"
        if r.unresolved_tickets
        else "no unresolved tickets"
    ),
    "last_ticket_satisfaction": lambda r: f"rated the last support contact {r.last_ticket_satisfaction:.0f}/5",
    "reviews_365d": lambda r: f"{_plural(r.reviews_365d, 'review')} in the last year",
    "mean_rating_365d": lambda r: f"average review {r.mean_rating_365d:.1f} stars in the last year",
    "min_rating_365d": lambda r: f"lowest review {r.min_rating_365d:.0f} stars in the last year",
    "last_rating": lambda r: f"latest review {r.last_rating:.0f} stars",
    "days_since_bad_review": lambda r: (
        f"a 1-2 star review {_plural(r.days_since_bad_review, 'day')} ago"
        if r.days_since_bad_review < 730
        else "no bad review"
    ),
    "segment": lambda r: f"{r.segment} tier",
    "acquisition_channel": lambda r: f"came through {str(r.acquisition_channel).replace('_', ' ')}",
    "country": lambda r: f"lives in {r.country}",
}


# How close (cosine) a text must come to a topic's descriptions for the driver to say it is about it, or
# may be; wording only, the model uses the score itself. A sentence inside a longer review is diluted.
TOPIC_WRITTEN = 0.45
TOPIC_HINTED = 0.30
TOPIC_WORDS = {  # what they wrote about, and what they did not
    "price_elsewhere": ("finding it cheaper elsewhere", "prices elsewhere"),
    "delivery": ("delivery problems", "delivery problems"),
    "quality": ("poor quality", "quality problems"),
    "sizing": ("sizing problems", "sizing"),
    "service": ("poor customer service", "customer service"),
}


def _topic(topic: str) -> Callable[[pd.Series], str]:
    about, not_about = TOPIC_WORDS[topic]

    def sentence(r: pd.Series) -> str:
        score = r[topic_feature(topic)]
        if score >= TOPIC_WRITTEN:
            return f"wrote about {about}"
        return f"may have written about {about}" if score >= TOPIC_HINTED else f"has not written about {not_about}"

    return sentence


def _sentiment(r: pd.Series) -> str:
    if not r.text_sentiment_365d:
        return "wrote no review or ticket in the last year"
    tone = "negative" if r.text_sentiment_365d < -0.05 else "positive" if r.text_sentiment_365d > 0.05 else "mixed"
    return f"what they wrote in the last year reads {tone}"


TEMPLATES.update({topic_feature(topic): _topic(topic) for topic in TOPIC_WORDS})
TEMPLATES["text_sentiment_365d"] = _sentiment
TEMPLATES["days_since_negative_text"] = lambda r: (
    f"wrote something negative {_plural(r.days_since_negative_text, 'day')} ago"
    if r.days_since_negative_text < 730
    else "has written nothing negative"
)


def describe(feature: str, row: pd.Series, contribution: float) -> str:
    template = TEMPLATES.get(feature)
    sentence = template(row) if template else f"{feature} = {row[feature]}"
    return f"{sentence} ({contribution:+.2f})"


def top_drivers(row: pd.Series, contributions: np.ndarray, features: list[str], k: int = 5) -> list[Driver]:
    """The k features with the largest absolute contribution, risk-raising and risk-lowering alike."""
    order = np.argsort(-np.abs(contributions), kind="stable")[:k]
    out = []
    for j in order:
        name = features[j]
        value = row[name]
        out.append(
            Driver(
                feature=name,
                value=value if isinstance(value, str) else round(float(value), 4),
                contribution=float(contributions[j]),
                text=describe(name, row, float(contributions[j])),
            )
        )
    return out


def summarise(attributions: np.ndarray, features: list[str]) -> pd.DataFrame:
    """Drivers of a group of customers: mean |contribution| (importance) and mean signed contribution."""
    frame = pd.DataFrame(
        {
            "feature": features,
            "importance": np.abs(attributions).mean(axis=0),
            "mean_contribution": attributions.mean(axis=0),
        }
    )
    return frame.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)

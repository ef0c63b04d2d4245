"""Why a customer is at risk: integrated gradients on the calibrated probability, in words.

Attributions are computed with captum's IntegratedGradients against a baseline "average customer"
(every numeric feature at its training mean, every categorical at its training frequencies). By
completeness they add up to the customer's probability minus the baseline's, so a driver's value reads
as percentage points of churn probability it adds or removes ("3 of the last 4 deliveries were late (+0.11)").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from captum.attr import IntegratedGradients

from winback.model.encoding import FeatureEncoder
from winback.model.network import CalibratedEnsemble
from winback.model.train import to_dense


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


def attribute(
    model: CalibratedEnsemble,
    encoder: FeatureEncoder,
    baseline: torch.Tensor,
    frame: pd.DataFrame,
    n_steps: int = 24,
    batch: int = 2048,
) -> np.ndarray:
    """Per-row, per-feature attributions (features in encoder order: numeric, then categorical)."""
    device = next(model.parameters()).device
    ig = IntegratedGradients(model)
    widths = [1] * len(encoder.numeric) + encoder.cardinalities()
    bounds = np.cumsum([0, *widths])
    out = np.zeros((len(frame), len(widths)), dtype=np.float32)
    for start in range(0, len(frame), batch):
        dense = to_dense(encoder, frame.iloc[start : start + batch], device)
        attr = ig.attribute(dense, baselines=baseline.to(device), n_steps=n_steps, internal_batch_size=batch)
        attr = attr.detach().float().cpu().numpy()
        for j in range(len(widths)):
            out[start : start + len(dense), j] = attr[:, bounds[j] : bounds[j + 1]].sum(axis=1)
    return out


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

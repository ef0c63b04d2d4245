"""When the customer orders next: a discrete-time survival head over the churn model's features.

The time after a cutoff is cut into BIN_DAYS-long intervals; the head's networks give, per interval, the
logit of the hazard "orders in this interval, having not ordered before it". Training uses the censored
likelihood (a customer followed up for 100 days without an order counts as surviving the intervals fully
observed, nothing after), so training cutoffs can be followed up only to the evaluation date. From the
hazards: S(t) = P(no order by t), the chance of an order within 90 or 180 days, and the median days to the
next order (None when S stays above one half over the intervals the head was trained on).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from winback.model.churn_model import to_dense
from winback.model.encoding import FeatureEncoder
from winback.model.network import NetworkEnsemble, TabularMLP, batched_logits
from winback.model.train import TrainConfig, pick_device, train_member

BIN_DAYS = 15


@dataclass
class SurvivalHead:
    network: NetworkEnsemble  # outputs: one hazard logit per interval
    bin_days: int = BIN_DAYS

    @property
    def intervals(self) -> int:
        return int(self.network.members[0].outputs)  # type: ignore[arg-type]  # members are TabularMLPs

    @property
    def horizon_days(self) -> int:
        return self.intervals * self.bin_days

    def survival(self, encoder: FeatureEncoder, frame: pd.DataFrame, batch: int = 100_000) -> np.ndarray:
        """S at the end of each interval, shape (rows, intervals): P(no order by then)."""
        if frame.empty:
            return np.empty((0, self.intervals))
        device = next(self.network.parameters()).device
        hazards = [
            torch.sigmoid(batched_logits(self.network, to_dense(encoder, frame.iloc[s : s + batch], device)))
            .cpu()
            .numpy()
            for s in range(0, len(frame), batch)
        ]
        return np.cumprod(1.0 - np.concatenate(hazards).astype(np.float64), axis=1)

    def order_within(self, survival: np.ndarray, days: int) -> np.ndarray:
        """P(an order within `days`), `days` a multiple of bin_days inside the horizon."""
        if days % self.bin_days or not 0 < days <= self.horizon_days:
            raise ValueError(f"{days} days is not an interval end of this head (every {self.bin_days} days)")
        return 1.0 - survival[:, days // self.bin_days - 1]

    def median_days(self, survival: np.ndarray) -> np.ndarray:
        """Days until S falls to one half (linear within the interval); NaN when it stays above it."""
        n, k = survival.shape
        previous = np.hstack([np.ones((n, 1)), survival[:, :-1]])
        crossed = survival <= 0.5
        first = np.where(crossed.any(axis=1), crossed.argmax(axis=1), -1)
        out = np.full(n, np.nan)
        rows = np.flatnonzero(first >= 0)
        j = first[rows]
        s0, s1 = previous[rows, j], survival[rows, j]
        fraction = np.where(s0 > s1, (s0 - 0.5) / np.maximum(s0 - s1, 1e-12), 1.0)
        out[rows] = (j + np.clip(fraction, 0.0, 1.0)) * self.bin_days
        return out


def interval_targets(days: np.ndarray, event: np.ndarray, intervals: int, bin_days: int = BIN_DAYS) -> np.ndarray:
    """Per row, [orders in interval k (0/1) | interval k observed (0/1)], shape (rows, 2 * intervals).

    An order in interval j: intervals before j survived, j is the event. No order, followed up d days: the
    intervals that end by d survived; the one it stopped in says nothing.
    """
    n = len(days)
    target = np.zeros((n, intervals), dtype=np.float32)
    observed = np.zeros((n, intervals), dtype=np.float32)
    k = np.arange(intervals)
    for i in range(n):
        if event[i]:
            j = math.ceil(days[i] / bin_days) - 1
            if j < intervals:
                target[i, j] = 1.0
                observed[i, k <= j] = 1.0
                continue
            observed[i] = 1.0  # ordered after the head's horizon: survived every interval
        else:
            observed[i, k < min(int(days[i] // bin_days), intervals)] = 1.0
    return np.hstack([target, observed])


def censored_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    intervals = logits.shape[1]
    target, observed = targets[:, :intervals], targets[:, intervals:]
    per_cell = nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return (per_cell * observed).sum() / observed.sum().clamp(min=1.0)


def fit_survival(
    encoder: FeatureEncoder,
    train_x: pd.DataFrame,
    train_outcome: pd.DataFrame,
    stop_x: pd.DataFrame,
    stop_outcome: pd.DataFrame,
    intervals: int,
    config: TrainConfig | None = None,
    on_epoch: Callable[[], None] | None = None,
) -> SurvivalHead:
    """Fit the head on rows with `days`/`event` outcomes (outcomes.next_order), early-stopped on `stop_*`."""
    config = config or TrainConfig()
    device = pick_device(config.device)

    def tensors(x: pd.DataFrame, outcome: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        targets = interval_targets(outcome["days"].to_numpy(), outcome["event"].to_numpy(), intervals)
        return to_dense(encoder, x, device), torch.as_tensor(targets, device=device)

    train, stop = tensors(train_x, train_outcome), tensors(stop_x, stop_outcome)
    members = [
        train_member(
            config,
            100 + m,
            lambda: TabularMLP(len(encoder.numeric), encoder.cardinalities(), config.hidden, config.dropout, intervals),
            train,
            stop,
            censored_loss,
            device,
            on_epoch,
        )[0]
        for m in range(config.members)
    ]
    return SurvivalHead(NetworkEnsemble(members).cpu().eval())

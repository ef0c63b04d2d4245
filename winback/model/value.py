"""What the customer will spend over the next 12 months: a value head over the churn model's features.

The networks predict the log of the expected spend (in units of the training rows' mean spend) and are
trained with the Poisson deviance, which fits the mean of a non-negative target — zeros (customers who
never come back) included — without a separate "will they buy" model. Expected value, not a median: summed
over customers it estimates what the shop will take.
"""

from __future__ import annotations

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

VALUE_DAYS = 365


@dataclass
class ValueHead:
    network: NetworkEnsemble  # one output: log(expected spend / scale)
    scale: float  # the training rows' mean spend over VALUE_DAYS

    def predict(self, encoder: FeatureEncoder, frame: pd.DataFrame, batch: int = 100_000) -> np.ndarray:
        """Expected spend over the VALUE_DAYS after the features' date, per row."""
        if frame.empty:
            return np.empty(0)
        device = next(self.network.parameters()).device
        logs = [
            batched_logits(self.network, to_dense(encoder, frame.iloc[s : s + batch], device)).cpu().numpy()
            for s in range(0, len(frame), batch)
        ]
        return np.exp(np.clip(np.concatenate(logs).astype(np.float64), -30, 10)) * self.scale


def poisson_loss(log_rate: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return nn.functional.poisson_nll_loss(log_rate, target, log_input=True, full=False)


def fit_value(
    encoder: FeatureEncoder,
    train_x: pd.DataFrame,
    train_spend: np.ndarray,
    stop_x: pd.DataFrame,
    stop_spend: np.ndarray,
    config: TrainConfig | None = None,
    on_epoch: Callable[[], None] | None = None,
) -> ValueHead:
    """Fit on rows with their spend over the following VALUE_DAYS, early-stopped on `stop_*`."""
    config = config or TrainConfig()
    device = pick_device(config.device)
    scale = float(np.mean(train_spend)) or 1.0

    def tensors(x: pd.DataFrame, spend: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        target = torch.as_tensor(np.asarray(spend, dtype=np.float32) / scale, device=device)
        return to_dense(encoder, x, device), target

    train, stop = tensors(train_x, train_spend), tensors(stop_x, stop_spend)
    members = [
        train_member(
            config,
            200 + m,
            lambda: TabularMLP(len(encoder.numeric), encoder.cardinalities(), config.hidden, config.dropout),
            train,
            stop,
            poisson_loss,
            device,
            on_epoch,
        )[0]
        for m in range(config.members)
    ]
    return ValueHead(NetworkEnsemble(members).cpu().eval(), scale)

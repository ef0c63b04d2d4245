"""The scoring model: the network ensemble, blended with gradient-boosted trees where they earn it, then Platt.

    blended logit = w * network logit + (1 - w) * tree logit
    probability   = sigmoid(slope * blended logit + bias)

The weight w is chosen on the early-stopping rows (never on test rows); slope and bias are fitted on the
separate calibration rows. w = 1 is the network alone, which is what winback falls back to when the
trees do not improve the held-out log loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
import torch

from winback.model.encoding import FeatureEncoder
from winback.model.network import NetworkEnsemble, batched_logits, dense_input
from winback.model.trees import tree_logits


def to_dense(encoder: FeatureEncoder, frame: pd.DataFrame, device: torch.device | str = "cpu") -> torch.Tensor:
    numeric = torch.from_numpy(encoder.numeric_matrix(frame))
    categorical = torch.from_numpy(encoder.categorical_matrix(frame))
    return dense_input(numeric, categorical, encoder.cardinalities()).to(device)


@dataclass
class ChurnModel:
    network: NetworkEnsemble
    trees: lgb.Booster | None = None
    network_weight: float = 1.0
    trees_expected_logit: float = 0.0  # TreeSHAP's reference: the trees' mean logit on their training rows
    slope: float = 1.0
    bias: float = 0.0

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    def network_logits(self, encoder: FeatureEncoder, frame: pd.DataFrame, batch: int = 100_000) -> np.ndarray:
        """The networks' mean logit per row, `batch` rows of the frame encoded at a time (bounded memory)."""
        outs = [
            batched_logits(self.network, to_dense(encoder, frame.iloc[start : start + batch], self.device))
            .cpu()
            .numpy()
            for start in range(0, len(frame), batch)
        ]
        return np.concatenate(outs).astype(np.float64) if outs else np.empty(0)

    def blended_logits(self, encoder: FeatureEncoder, frame: pd.DataFrame) -> np.ndarray:
        logits = self.network_logits(encoder, frame)
        if self.trees is not None and self.network_weight < 1.0:
            logits = self.network_weight * logits + (1 - self.network_weight) * tree_logits(self.trees, encoder, frame)
        return logits

    def predict(self, encoder: FeatureEncoder, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probabilities for the rows of `frame`."""
        if frame.empty:
            return np.empty(0, dtype=np.float32)
        calibrated = self.slope * self.blended_logits(encoder, frame) + self.bias
        return (1.0 / (1.0 + np.exp(-calibrated))).astype(np.float32)

    def describe(self) -> dict[str, float | int | None]:
        return {
            "network_members": len(self.network.members),
            "network_weight": self.network_weight,
            "tree_iterations": self.trees.num_trees() if self.trees is not None else None,
            "slope": self.slope,
            "bias": self.bias,
        }

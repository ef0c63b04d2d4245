"""The churn network: an ensemble of small MLPs over normalised numerics and embedded categoricals.

Categoricals enter as one-hot vectors multiplied by an embedding matrix (equivalent to nn.Embedding).
Keeping the whole input in one dense space lets integrated gradients attribute the ensemble's logit to
every feature, categoricals included (see explain.py).
"""

from __future__ import annotations

import torch
from torch import nn


def embedding_dim(cardinality: int) -> int:
    return int(min(8, max(2, round(1.6 * cardinality**0.56))))


class TabularMLP(nn.Module):
    def __init__(
        self,
        n_numeric: int,
        cardinalities: list[int],
        hidden: tuple[int, ...] = (128, 64),
        dropout: float = 0.15,
        outputs: int = 1,
    ):
        super().__init__()
        self.outputs = outputs
        self.n_numeric = n_numeric
        self.cardinalities = list(cardinalities)
        self.embeddings = nn.ModuleList(nn.Linear(c, embedding_dim(c), bias=False) for c in cardinalities)
        width = n_numeric + sum(embedding_dim(c) for c in cardinalities)
        layers: list[nn.Module] = []
        for size in hidden:
            layers += [nn.Linear(width, size), nn.SiLU(), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, outputs))
        self.body = nn.Sequential(*layers)

    def forward(self, dense: torch.Tensor) -> torch.Tensor:
        """Outputs from the dense input (numerics, then each categorical's one-hot block): one logit per row,
        or a row of `outputs` values (the survival head's per-interval hazards)."""
        parts = [dense[:, : self.n_numeric]]
        start = self.n_numeric
        for embedding, cardinality in zip(self.embeddings, self.cardinalities, strict=True):
            parts.append(embedding(dense[:, start : start + cardinality]))
            start += cardinality
        out = self.body(torch.cat(parts, dim=1))
        return out.squeeze(1) if self.outputs == 1 else out


class NetworkEnsemble(nn.Module):
    """Mean of the members' logits (uncalibrated: the blend and Platt scaling live in churn_model.py)."""

    def __init__(self, members: list[TabularMLP]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, dense: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(dense) for m in self.members]).mean(0)


def dense_input(numeric: torch.Tensor, categorical: torch.Tensor, cardinalities: list[int]) -> torch.Tensor:
    blocks = [numeric]
    for j, cardinality in enumerate(cardinalities):
        blocks.append(nn.functional.one_hot(categorical[:, j], cardinality).to(numeric.dtype))
    return torch.cat(blocks, dim=1)


@torch.no_grad()
def batched_logits(model: nn.Module, dense: torch.Tensor, batch: int = 65_536) -> torch.Tensor:
    """The model's logits for `dense`, `batch` rows at a time (bf16 autocast on CUDA)."""
    device = dense.device
    outs = []
    for start in range(0, len(dense), batch):
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            outs.append(model(dense[start : start + batch]).float())
    return torch.cat(outs) if outs else torch.empty(0, device=device)

"""Fit the churn network: class-weighted BCE, early stopping, a small seed ensemble, Platt calibration.

Deterministic under a seed on CPU (fixed generators, deterministic algorithms). On CUDA the same code
runs with bf16 autocast.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from winback.model.encoding import FeatureEncoder
from winback.model.network import CalibratedEnsemble, TabularMLP, dense_input


@dataclass
class TrainConfig:
    hidden: tuple[int, ...] = (128, 64)
    dropout: float = 0.15
    members: int = 3
    max_epochs: int = 60
    patience: int = 6
    batch_size: int = 512
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 7
    device: str | None = None  # None: CUDA when available, else CPU

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FitResult:
    model: CalibratedEnsemble
    encoder: FeatureEncoder
    epochs: list[int] = field(default_factory=list)
    device: str = "cpu"


def pick_device(preference: str | None = None) -> torch.device:
    if preference:
        return torch.device(preference)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_dense(encoder: FeatureEncoder, frame: pd.DataFrame, device: torch.device | str = "cpu") -> torch.Tensor:
    numeric = torch.from_numpy(encoder.numeric_matrix(frame))
    categorical = torch.from_numpy(encoder.categorical_matrix(frame))
    return dense_input(numeric, categorical, encoder.cardinalities()).to(device)


def _loss(
    model: nn.Module, dense: torch.Tensor, y: torch.Tensor, pos_weight: torch.Tensor, device: torch.device
) -> torch.Tensor:
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        logits = model(dense)
    return nn.functional.binary_cross_entropy_with_logits(logits.float(), y, pos_weight=pos_weight)


@torch.no_grad()
def _batched_logits(model: nn.Module, dense: torch.Tensor, device: torch.device, batch: int = 65_536) -> torch.Tensor:
    outs = []
    for start in range(0, len(dense), batch):
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            outs.append(model(dense[start : start + batch]).float())
    return torch.cat(outs) if outs else torch.empty(0)


def _train_member(
    config: TrainConfig,
    member: int,
    n_numeric: int,
    cardinalities: list[int],
    train: tuple[torch.Tensor, torch.Tensor],
    stop: tuple[torch.Tensor, torch.Tensor],
    pos_weight: torch.Tensor,
    device: torch.device,
    on_epoch: Callable[[], None] | None,
) -> tuple[TabularMLP, int]:
    torch.manual_seed(config.seed * 1000 + member)
    model = TabularMLP(n_numeric, cardinalities, config.hidden, config.dropout).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed * 1000 + member)
    x, y = train
    best, best_state, best_epoch, waited = math.inf, copy.deepcopy(model.state_dict()), 0, 0
    for epoch in range(1, config.max_epochs + 1):
        model.train()
        order = torch.randperm(len(x), generator=generator).to(device)
        for start in range(0, len(x), config.batch_size):
            idx = order[start : start + config.batch_size]
            optimiser.zero_grad(set_to_none=True)
            _loss(model, x[idx], y[idx], pos_weight, device).backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            logits = _batched_logits(model, stop[0], device)
            loss = nn.functional.binary_cross_entropy_with_logits(logits, stop[1], pos_weight=pos_weight).item()
        if on_epoch:
            on_epoch()
        if loss < best - 1e-5:
            best, best_state, best_epoch, waited = loss, copy.deepcopy(model.state_dict()), epoch, 0
        else:
            waited += 1
            if waited >= config.patience:
                break
    model.load_state_dict(best_state)
    model.eval()
    return model, best_epoch


def fit_platt(logits: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and bias mapping ensemble logits to calibrated log-odds (fitted on held-out rows)."""
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(logits.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def fit_ensemble(
    train_x: pd.DataFrame,
    train_y: np.ndarray,
    stop_x: pd.DataFrame,
    stop_y: np.ndarray,
    calibrate_x: pd.DataFrame,
    calibrate_y: np.ndarray,
    numeric: list[str],
    categorical: list[str],
    config: TrainConfig | None = None,
    on_epoch: Callable[[], None] | None = None,
) -> FitResult:
    """Train `config.members` networks (early-stopped on `stop_*`), then calibrate on `calibrate_*`."""
    config = config or TrainConfig()
    device = pick_device(config.device)
    torch.use_deterministic_algorithms(True, warn_only=True)
    encoder = FeatureEncoder.fit(train_x, numeric, categorical)
    x_train = to_dense(encoder, train_x, device)
    y_train = torch.as_tensor(np.asarray(train_y, dtype=np.float32), device=device)
    x_stop = to_dense(encoder, stop_x, device)
    y_stop = torch.as_tensor(np.asarray(stop_y, dtype=np.float32), device=device)
    positive = float(np.mean(train_y))
    pos_weight = torch.tensor((1 - positive) / positive if 0 < positive < 1 else 1.0, device=device)

    members, epochs = [], []
    for member in range(config.members):
        model, epoch = _train_member(
            config,
            member,
            len(numeric),
            encoder.cardinalities(),
            (x_train, y_train),
            (x_stop, y_stop),
            pos_weight,
            device,
            on_epoch,
        )
        members.append(model)
        epochs.append(epoch)
    ensemble = CalibratedEnsemble(members).to(device).eval()
    with torch.no_grad():
        cal_logits = _batched_logits(ensemble.logits, to_dense(encoder, calibrate_x, device), device)  # type: ignore[arg-type]  # a bound method is the callable it wants
    slope, bias = fit_platt(cal_logits.cpu().numpy(), np.asarray(calibrate_y))
    ensemble.slope.fill_(slope)
    ensemble.bias.fill_(bias)
    return FitResult(model=ensemble.cpu(), encoder=encoder, epochs=epochs, device=str(device))


@torch.no_grad()
def predict(
    model: CalibratedEnsemble, encoder: FeatureEncoder, frame: pd.DataFrame, batch: int = 100_000
) -> np.ndarray:
    """Calibrated churn probabilities for the rows of `frame` (CPU or the model's device)."""
    device = next(model.parameters()).device
    outs = []
    for start in range(0, len(frame), batch):
        dense = to_dense(encoder, frame.iloc[start : start + batch], device)
        outs.append(model(dense).float().cpu().numpy())
    return np.concatenate(outs) if outs else np.empty(0, dtype=np.float32)

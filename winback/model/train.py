"""Fit the churn model: a seed ensemble of networks (class-weighted BCE, early stopping), gradient-boosted
trees on the same rows, the blend weight chosen on the early-stopping rows, Platt calibration last.

Deterministic under a seed on CPU (fixed generators, deterministic algorithms, LightGBM's deterministic
mode). On CUDA the networks run with bf16 autocast.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from torch import nn

from winback.model.churn_model import ChurnModel, to_dense
from winback.model.encoding import FeatureEncoder
from winback.model.network import NetworkEnsemble, TabularMLP, batched_logits
from winback.model.trees import expected_logit, fit_trees, refit_trees, tree_logits

BLEND_WEIGHTS = tuple(i / 10 for i in range(11))  # the network's share of the blended logit


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
    trees: bool = True  # also fit gradient-boosted trees and blend them in if the held-out log loss says so

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class FitResult:
    model: ChurnModel
    encoder: FeatureEncoder
    epochs: list[int] = field(default_factory=list)
    device: str = "cpu"


def pick_device(preference: str | None = None) -> torch.device:
    if preference:
        return torch.device(preference)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


Member = TypeVar("Member", bound=nn.Module)
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (model outputs, targets) -> mean loss


def _loss(
    model: nn.Module, dense: torch.Tensor, target: torch.Tensor, loss: LossFn, device: torch.device
) -> torch.Tensor:
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        outputs = model(dense)
    return loss(outputs.float(), target)


def train_member(
    config: TrainConfig,
    member: int,
    build: Callable[[], Member],
    train: tuple[torch.Tensor, torch.Tensor],
    stop: tuple[torch.Tensor, torch.Tensor],
    loss: LossFn,
    device: torch.device,
    on_epoch: Callable[[], None] | None = None,
) -> tuple[Member, int]:
    """One ensemble member: AdamW on `train`, early-stopped on the loss over `stop` (the churn network, and
    the survival and value heads, differ only in what `build` makes and in `loss`)."""
    torch.manual_seed(config.seed * 1000 + member)
    model = build().to(device)
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
            _loss(model, x[idx], y[idx], loss, device).backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            stop_loss = loss(batched_logits(model, stop[0]), stop[1]).item()
        if on_epoch:
            on_epoch()
        if stop_loss < best - 1e-5:
            best, best_state, best_epoch, waited = stop_loss, copy.deepcopy(model.state_dict()), epoch, 0
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


def platt_log_loss(logits: np.ndarray, y: np.ndarray) -> float:
    slope, bias = fit_platt(logits, y)
    p = np.clip(1 / (1 + np.exp(-(slope * logits + bias))), 1e-7, 1 - 1e-7)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def choose_blend(network: np.ndarray, trees: np.ndarray, y: np.ndarray) -> float:
    """The network's weight with the lowest log loss on the early-stopping rows (after a Platt fit there).

    Ties within 0.001 go to the larger network weight: the simpler, differentiable member.
    """
    losses = {w: platt_log_loss(w * network + (1 - w) * trees, np.asarray(y)) for w in BLEND_WEIGHTS}
    best = min(losses.values())
    return max(w for w, loss in losses.items() if loss <= best + 1e-3)


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

    def churn_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(logits, y, pos_weight=pos_weight)

    members, epochs = [], []
    for member in range(config.members):
        model, epoch = train_member(
            config,
            member,
            lambda: TabularMLP(len(numeric), encoder.cardinalities(), config.hidden, config.dropout),
            (x_train, y_train),
            (x_stop, y_stop),
            churn_loss,
            device,
            on_epoch,
        )
        members.append(model)
        epochs.append(epoch)
    network = NetworkEnsemble(members).cpu().eval()
    churn = ChurnModel(network=network)
    if config.trees:
        trees = fit_trees(encoder, train_x, train_y, stop_x, stop_y, config.seed)
        weight = choose_blend(
            churn.network_logits(encoder, stop_x), tree_logits(trees, encoder, stop_x), np.asarray(stop_y)
        )
        if weight < 1.0:
            # the weight was chosen with trees that never saw the early-stopping rows; the shipped trees then
            # learn from those rows too, for proportionally more rounds (calibration rows stay unseen)
            both_x, both_y = pd.concat([train_x, stop_x]), np.concatenate([train_y, stop_y])
            rounds = round(trees.best_iteration * len(both_y) / len(train_y))
            churn.trees, churn.network_weight = refit_trees(encoder, both_x, both_y, rounds, config.seed), weight
            churn.trees_expected_logit = expected_logit(churn.trees, encoder, both_x)
    churn.slope, churn.bias = fit_platt(churn.blended_logits(encoder, calibrate_x), np.asarray(calibrate_y))
    return FitResult(model=churn, encoder=encoder, epochs=epochs, device=str(device))

"""`winback train`: build labelled frames at historical cutoffs, fit, evaluate out of time, save an artefact.

Splits: the training cutoffs' customers are split by a stable hash of their id (80 % fit, 10 % early
stopping, 10 % calibration, the last taken at the most recent training cutoff, closest in time to the
future being predicted). The test cutoff is later than every training label window: an honest
out-of-time estimate of how the model does on the next 90 days.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sqlalchemy import Engine, func, select

from winback.data.fingerprint import data_summary_fingerprint
from winback.data.schema import TextSignal
from winback.model.artifact import ModelArtifact, save_artifact
from winback.model.dataset import CutoffPlan, NotEnoughHistory, customer_split, labelled_frame, plan_cutoffs
from winback.model.encoding import FeatureEncoder
from winback.model.explain import attribute, baseline_dense, category_frequencies, summarise
from winback.model.features import CATEGORICAL, NUMERIC
from winback.model.heads import Heads, fit_next_order_head, fit_value_head
from winback.model.metrics import evaluate
from winback.model.train import TrainConfig, fit_ensemble


@dataclass
class TrainingData:
    plan: CutoffPlan
    train_x: pd.DataFrame
    train_y: np.ndarray
    train_cutoff_index: np.ndarray  # which training cutoff each row comes from
    test_x: pd.DataFrame
    test_y: np.ndarray


@dataclass
class TrainReport:
    version: str
    folder: Path
    metrics: dict[str, float]
    global_drivers: pd.DataFrame
    rows: dict[str, int]
    model: dict[str, float | int | None]  # the blend: network weight, tree rounds, Platt slope and bias
    texts_read: int = 0  # text_signals rows the text features could use (0: `winback index` has not run)
    heads: dict[str, Any] = field(default_factory=dict)  # next order / 12-month value: protocol and figures
    notes: list[str] = field(default_factory=list)


def build_training_data(
    engine: Engine, horizon_days: int = 90, train_cutoffs: int = 3, progress: Callable[[str], None] | None = None
) -> TrainingData:
    plan = plan_cutoffs(engine, horizon_days, train_cutoffs)
    xs, ys, idx = [], [], []
    for i, cutoff in enumerate(plan.train):
        if progress:
            progress(f"features at {cutoff:%Y-%m-%d}")
        x, y = labelled_frame(engine, cutoff, horizon_days)
        xs.append(x)
        ys.append(y)
        idx.append(np.full(len(y), i))
    if progress:
        progress(f"features at {plan.test:%Y-%m-%d} (test)")
    test_x, test_y = labelled_frame(engine, plan.test, horizon_days)
    train_x = pd.concat(xs)
    train_y = np.concatenate(ys)
    if len(train_y) < 200 or len(set(train_y)) < 2 or len(test_y) < 50 or len(set(test_y)) < 2:
        raise NotEnoughHistory(
            f"too few labelled customers to train ({len(train_y)} training rows, {len(test_y)} test rows, "
            "both classes needed); load more history"
        )
    return TrainingData(plan, train_x, train_y, np.concatenate(idx), test_x, test_y)


def split_training(data: TrainingData, salt: str = "split") -> dict[str, tuple[pd.DataFrame, np.ndarray]]:
    fit, stop, held_out = customer_split(data.train_x.index, salt)
    calibrate = held_out & (data.train_cutoff_index == data.train_cutoff_index.max())
    return {
        "fit": (data.train_x[fit], data.train_y[fit]),
        "stop": (data.train_x[stop], data.train_y[stop]),
        "calibrate": (data.train_x[calibrate], data.train_y[calibrate]),
    }


def train_churn_model(
    engine: Engine,
    data_dir: Path,
    horizon_days: int = 90,
    train_cutoffs: int = 3,
    config: TrainConfig | None = None,
    progress: Callable[[str], None] | None = None,
    on_epoch: Callable[[], None] | None = None,
) -> TrainReport:
    config = config or TrainConfig()
    data = build_training_data(engine, horizon_days, train_cutoffs, progress)
    parts = split_training(data)
    if progress:
        progress("training")
    result = fit_ensemble(
        *parts["fit"], *parts["stop"], *parts["calibrate"], NUMERIC, CATEGORICAL, config, on_epoch=on_epoch
    )
    test_p = result.model.predict(result.encoder, data.test_x)
    metrics = evaluate(data.test_y, test_p)

    frequencies = category_frequencies(result.encoder, parts["fit"][0])
    baseline = baseline_dense(result.encoder, frequencies)
    if progress:
        progress("explaining")
    sample = data.test_x.iloc[:: max(1, len(data.test_x) // 4000)]
    drivers = summarise(attribute(result.model, result.encoder, baseline, sample), [*NUMERIC, *CATEGORICAL])
    heads = train_heads(engine, data, result.encoder, config, progress, on_epoch)

    created = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    fingerprint = data_summary_fingerprint(engine)
    version = f"{created:%Y%m%d-%H%M%S}-{hashlib.sha256((fingerprint + str(config.seed)).encode()).hexdigest()[:6]}"
    artifact = ModelArtifact(
        version=version,
        model=result.model,
        encoder=result.encoder,
        baseline=baseline,
        survival=heads.survival,
        value=heads.value,
        meta={
            "created_at": created.isoformat(),
            "horizon_days": horizon_days,
            "training_cutoffs": [c.isoformat() for c in data.plan.train],
            "test_cutoff": data.plan.test.isoformat(),
            "data_end": data.plan.data_end.isoformat(),
            "data_fingerprint": fingerprint,
            "rows": {k: int(len(v[1])) for k, v in parts.items()} | {"test": int(len(data.test_y))},
            "metrics_out_of_time": metrics,
            "epochs": result.epochs,
            "train_config": config.to_dict(),
            "model": result.model.describe(),
            "device": result.device,
            "torch": torch.__version__,
            "global_drivers": drivers.head(15).to_dict(orient="records"),
            "heads_out_of_sample": heads.metrics,
            "notes": heads.notes,
        },
    )
    folder = save_artifact(artifact, data_dir)
    with engine.connect() as connection:
        texts = int(connection.execute(select(func.count()).select_from(TextSignal)).scalar_one())
    return TrainReport(
        version,
        folder,
        metrics,
        drivers,
        artifact.meta["rows"],
        result.model.describe(),
        texts,
        heads.metrics,
        heads.notes,
    )


def train_heads(
    engine: Engine,
    data: TrainingData,
    encoder: FeatureEncoder,
    config: TrainConfig,
    progress: Callable[[str], None] | None = None,
    on_epoch: Callable[[], None] | None = None,
) -> Heads:
    """The next-order and 12-month-value heads on the churn model's features (winback/model/heads.py)."""
    heads = Heads()
    if progress:
        progress("training the next-order head")
    heads.survival, heads.metrics["next_order"] = fit_next_order_head(
        engine, data.plan, data.train_x, data.train_cutoff_index, data.test_x, encoder, config, on_epoch
    )
    if progress:
        progress("training the 12-month value head")
    heads.value, value_metrics, note = fit_value_head(engine, data.plan, encoder, config, progress, on_epoch)
    if value_metrics is not None:
        heads.metrics["value_12m"] = value_metrics
    if note:
        heads.notes.append(note)
    return heads

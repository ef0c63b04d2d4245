"""Versioned model artefacts in <data dir>/models/<version>/: weights, trees, feature spec, blend, metrics.

An artefact records the feature-spec hash and the artefact format it was written with; loading one from
another spec or format raises IncompatibleModel instead of silently scoring garbage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import torch

from winback.errors import UserError
from winback.model.churn_model import ChurnModel
from winback.model.encoding import FeatureEncoder
from winback.model.features import FEATURE_SPEC_VERSION, feature_spec_hash
from winback.model.network import NetworkEnsemble, TabularMLP

LATEST = "LATEST"
ARTIFACT_FORMAT = 2  # 2: network ensemble + optional LightGBM trees + blend and Platt in meta.json
TREES_FILE = "trees.txt"


class ModelNotFound(UserError, FileNotFoundError):
    pass


class IncompatibleModel(UserError, ValueError):
    pass


@dataclass
class ModelArtifact:
    version: str
    model: ChurnModel
    encoder: FeatureEncoder
    baseline: torch.Tensor  # the "average customer" for attributions
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        return [*self.encoder.numeric, *self.encoder.categorical]


def models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def save_artifact(artifact: ModelArtifact, data_dir: Path) -> Path:
    folder = models_dir(data_dir) / artifact.version
    folder.mkdir(parents=True, exist_ok=False)
    members = artifact.model.network.members
    architecture = {
        "n_numeric": members[0].n_numeric,
        "cardinalities": members[0].cardinalities,
        "hidden": [m.out_features for m in members[0].body if isinstance(m, torch.nn.Linear)][:-1],  # type: ignore[union-attr]  # members are TabularMLPs
        "members": len(members),
    }
    torch.save({"state_dict": artifact.model.network.state_dict(), "baseline": artifact.baseline}, folder / "model.pt")
    if artifact.model.trees is not None:
        (folder / TREES_FILE).write_text(artifact.model.trees.model_to_string())
    (folder / "encoder.json").write_text(json.dumps(artifact.encoder.to_dict(), indent=1))
    model = artifact.model
    meta = {
        **artifact.meta,
        "version": artifact.version,
        "artifact_format": ARTIFACT_FORMAT,
        "blend": {
            "network_weight": model.network_weight,
            "trees_expected_logit": model.trees_expected_logit,
            "slope": model.slope,
            "bias": model.bias,
            "trees": TREES_FILE if model.trees is not None else None,
        },
        "feature_spec_version": FEATURE_SPEC_VERSION,
        "feature_spec_hash": feature_spec_hash(),
        "architecture": architecture,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1, default=str))
    (models_dir(data_dir) / LATEST).write_text(artifact.version)
    return folder


def latest_version(data_dir: Path) -> str:
    latest = models_dir(data_dir) / LATEST
    if not latest.is_file():
        raise ModelNotFound(f"no trained model in {models_dir(data_dir)}; run `winback train` first")
    return latest.read_text().strip()


def load_artifact(data_dir: Path, version: str | None = None) -> ModelArtifact:
    root = models_dir(data_dir)
    version = version or latest_version(data_dir)
    folder = root / version
    if not (folder / "meta.json").is_file():
        raise ModelNotFound(f"model {version} not found in {root}")
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("artifact_format") != ARTIFACT_FORMAT:
        raise IncompatibleModel(
            f"model {version} was saved in artefact format {meta.get('artifact_format', 1)}, this winback reads "
            f"format {ARTIFACT_FORMAT}; retrain with `winback train`"
        )
    if meta.get("feature_spec_hash") != feature_spec_hash():
        raise IncompatibleModel(
            f"model {version} was trained on feature spec v{meta.get('feature_spec_version')} "
            f"({meta.get('feature_spec_hash')}), this winback computes v{FEATURE_SPEC_VERSION} "
            f"({feature_spec_hash()}); retrain with `winback train`"
        )
    encoder = FeatureEncoder.from_dict(json.loads((folder / "encoder.json").read_text()))
    arch = meta["architecture"]
    members = [
        TabularMLP(arch["n_numeric"], arch["cardinalities"], tuple(arch["hidden"])) for _ in range(arch["members"])
    ]
    network = NetworkEnsemble(members)
    saved = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    network.load_state_dict(saved["state_dict"])
    network.eval()
    blend = meta["blend"]
    trees = lgb.Booster(model_str=(folder / blend["trees"]).read_text()) if blend["trees"] else None
    model = ChurnModel(
        network=network,
        trees=trees,
        network_weight=blend["network_weight"],
        trees_expected_logit=blend["trees_expected_logit"],
        slope=blend["slope"],
        bias=blend["bias"],
    )
    return ModelArtifact(version=version, model=model, encoder=encoder, baseline=saved["baseline"], meta=meta)

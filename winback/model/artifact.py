"""Versioned model artefacts in <data dir>/models/<version>/: weights, feature spec, calibration, metrics.

An artefact records the feature-spec hash it was trained with; loading one from another spec raises
IncompatibleModel instead of silently scoring garbage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from winback.errors import UserError
from winback.model.encoding import FeatureEncoder
from winback.model.features import FEATURE_SPEC_VERSION, feature_spec_hash
from winback.model.network import CalibratedEnsemble, TabularMLP

LATEST = "LATEST"


class ModelNotFound(UserError, FileNotFoundError):
    pass


class IncompatibleModel(UserError, ValueError):
    pass


@dataclass
class ModelArtifact:
    version: str
    model: CalibratedEnsemble
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
    members = artifact.model.members
    architecture = {
        "n_numeric": members[0].n_numeric,
        "cardinalities": members[0].cardinalities,
        "hidden": [m.out_features for m in members[0].body if isinstance(m, torch.nn.Linear)][:-1],  # type: ignore[union-attr]  # members are TabularMLPs
        "members": len(members),
    }
    torch.save({"state_dict": artifact.model.state_dict(), "baseline": artifact.baseline}, folder / "model.pt")
    (folder / "encoder.json").write_text(json.dumps(artifact.encoder.to_dict(), indent=1))
    meta = {
        **artifact.meta,
        "version": artifact.version,
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
    model = CalibratedEnsemble(members)
    saved = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return ModelArtifact(version=version, model=model, encoder=encoder, baseline=saved["baseline"], meta=meta)

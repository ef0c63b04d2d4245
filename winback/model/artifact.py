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
from winback.model.survival import SurvivalHead
from winback.model.value import ValueHead

LATEST = "LATEST"
ARTIFACT_FORMAT = 2  # 2: network ensemble + optional LightGBM trees + blend and Platt in meta.json
TREES_FILE = "trees.txt"
SURVIVAL_FILE = "next_order.pt"  # optional (artefacts before the heads, or too little history, lack them)
VALUE_FILE = "value_12m.pt"


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
    survival: SurvivalHead | None = None  # when the customer orders next
    value: ValueHead | None = None  # what they spend over the next 12 months

    @property
    def features(self) -> list[str]:
        return [*self.encoder.numeric, *self.encoder.categorical]


def models_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "models"


def _architecture(network: NetworkEnsemble) -> dict[str, Any]:
    first = network.members[0]
    return {
        "n_numeric": first.n_numeric,
        "cardinalities": first.cardinalities,
        "hidden": [m.out_features for m in first.body if isinstance(m, torch.nn.Linear)][:-1],  # type: ignore[union-attr]  # members are TabularMLPs
        "members": len(network.members),
        "outputs": first.outputs,
    }


def _load_network(architecture: dict[str, Any], state_dict: dict[str, Any]) -> NetworkEnsemble:
    a = architecture
    network = NetworkEnsemble(
        [
            TabularMLP(a["n_numeric"], a["cardinalities"], tuple(a["hidden"]), outputs=a.get("outputs", 1))
            for _ in range(a["members"])
        ]
    )
    network.load_state_dict(state_dict)
    return network.eval()


def _save_heads(artifact: ModelArtifact, folder: Path) -> dict[str, Any]:
    heads: dict[str, Any] = {}
    saved: list[tuple[str, str, Any, dict[str, Any]]] = []
    if artifact.survival is not None:
        saved.append(("next_order", SURVIVAL_FILE, artifact.survival.network, {"bin_days": artifact.survival.bin_days}))
    if artifact.value is not None:
        saved.append(("value_12m", VALUE_FILE, artifact.value.network, {"scale": artifact.value.scale}))
    for name, file, network, extra in saved:
        torch.save(network.state_dict(), folder / file)
        heads[name] = {"file": file, "architecture": _architecture(network), **extra}
    return heads


def _load_heads(folder: Path, heads: dict[str, Any]) -> tuple[SurvivalHead | None, ValueHead | None]:
    def state(spec: dict[str, Any]) -> dict[str, Any]:
        return torch.load(folder / spec["file"], map_location="cpu", weights_only=True)

    survival = value = None
    if spec := heads.get("next_order"):
        survival = SurvivalHead(_load_network(spec["architecture"], state(spec)), spec["bin_days"])
    if spec := heads.get("value_12m"):
        value = ValueHead(_load_network(spec["architecture"], state(spec)), spec["scale"])
    return survival, value


def save_artifact(artifact: ModelArtifact, data_dir: Path) -> Path:
    folder = models_dir(data_dir) / artifact.version
    folder.mkdir(parents=True, exist_ok=False)
    architecture = _architecture(artifact.model.network)
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
        "heads": _save_heads(artifact, folder),
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
    saved = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    network = _load_network(meta["architecture"], saved["state_dict"])
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
    survival, value = _load_heads(folder, meta.get("heads", {}))
    return ModelArtifact(
        version=version,
        model=model,
        encoder=encoder,
        baseline=saved["baseline"],
        meta=meta,
        survival=survival,
        value=value,
    )

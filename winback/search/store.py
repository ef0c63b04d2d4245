"""The Chroma collection holding reviews and tickets: embedded in the data dir, or on a Chroma server."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from winback.config import Settings
from winback.errors import UserError
from winback.search.embeddings import Embedder, chroma_embedding_function
from winback.search.keyword import FILE_NAME, KeywordIndex

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
        collection = client.get_or_create_collection(
            COLLECTION,
            embedding_function=function,
            configuration={"hnsw": hnsw_configuration(settings)},
            metadata={"embedding_model": embedder.name},
        )
    else:
        try:
            collection = client.get_collection(COLLECTION, embedding_function=function)
        except Exception:
            raise SearchUnavailable("the feedback index does not exist yet; run `winback index` first") from None
    follow_ef_search(collection, settings.search_hnsw_ef_search)
    return collection


def hnsw_configuration(settings: Settings) -> dict[str, Any]:
    """The HNSW settings of a new collection (M and ef_construction cannot change after creation)."""
    return {
        "space": "cosine",
        "max_neighbors": settings.search_hnsw_m,
        "ef_construction": settings.search_hnsw_ef_construction,
        "ef_search": settings.search_hnsw_ef_search,
    }


def follow_ef_search(collection: Any, ef_search: int) -> None:
    """ef_search is a query-time setting: an existing collection takes a changed value, which Chroma applies
    when a process next loads the index (measured: a handle already queried keeps the old value)."""
    current = (collection.configuration_json or {}).get("hnsw") or {}
    if current.get("ef_search") != ef_search:
        collection.modify(configuration={"hnsw": {"ef_search": ef_search}})


def keyword_index_path(settings: Settings) -> Path:
    """The keyword index beside the embedded Chroma store, or in the data dir when Chroma is a server."""
    folder = settings.data_dir / "search" if settings.chroma_is_server else Path(settings.chroma)
    return folder / FILE_NAME


def open_keyword_index(settings: Settings, create: bool = True) -> KeywordIndex | None:
    """The keyword (BM25) index; None when it does not exist and `create` is off (search falls back)."""
    path = keyword_index_path(settings)
    if not create and not path.exists():
        return None
    return KeywordIndex(path)

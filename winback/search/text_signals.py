"""What each review and ticket is about, read from the embedding search already stored: never re-embedded.

Each text's chunks are compared (cosine) with a few short descriptions per topic, written once here in
plain words (not copied from any data): a text's topic score is its closest chunk's best match, its
sentiment the best positive match minus the best negative one. Rows go to `text_signals`, keyed by the
source and the indexed text's hash, so a refresh only reads what is new or changed and a run killed halfway
is completed by the next. The churn features aggregate these rows per customer up to each cutoff.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, insert, select, tuple_

from winback.data.schema import TEXT_TOPICS, TextSignal
from winback.search.embeddings import Embedder

TOPIC_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "price_elsewhere": (
        "I found the same thing cheaper in another shop.",
        "A competitor sells it for less money.",
        "Other websites have lower prices, so I compare prices now.",
        "I will buy from a cheaper store next time.",
    ),
    "delivery": (
        "The parcel arrived late.",
        "Delivery took much longer than promised.",
        "My order has still not been delivered.",
    ),
    "quality": (
        "Poor quality, it broke after a few days.",
        "The item arrived damaged or faulty.",
        "The material feels cheap and badly made.",
    ),
    "sizing": (
        "It does not fit, the size is wrong.",
        "The sizes run small, I had to send it back.",
        "Too big and the cut is unflattering.",
    ),
    "service": (
        "Customer service never answered my emails.",
        "Support was slow and did not solve my problem.",
        "Still waiting for my refund, nobody helps.",
    ),
}
POSITIVE = ("I love it, very happy with my order.", "Great shop, everything was perfect, highly recommended.")
NEGATIVE = ("Very disappointed, a terrible experience.", "I am unhappy and will not order again.")
PAGE = 2_000  # sources per read from the index


class TextReader:
    """The topic and sentiment descriptions, embedded once per process by the search model."""

    def __init__(self, embedder: Embedder) -> None:
        sentences = [s for topic in TEXT_TOPICS for s in TOPIC_DESCRIPTIONS[topic]] + [*POSITIVE, *NEGATIVE]
        vectors = embedder.encode(sentences)
        self.anchors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        self.groups: list[slice] = []
        start = 0
        for topic in TEXT_TOPICS:
            self.groups.append(slice(start, start + len(TOPIC_DESCRIPTIONS[topic])))
            start += len(TOPIC_DESCRIPTIONS[topic])
        self.positive = slice(start, start + len(POSITIVE))
        self.negative = slice(start + len(POSITIVE), start + len(POSITIVE) + len(NEGATIVE))

    def _similarity(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine of each row to each anchor sentence (rows x anchors)."""
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return unit @ self.anchors.T

    def _sentiment(self, similarity: np.ndarray) -> np.ndarray:
        return similarity[:, self.positive].max(axis=1) - similarity[:, self.negative].max(axis=1)

    def tone(self, vectors: np.ndarray) -> np.ndarray:
        """Sentiment per row (best positive match minus best negative), the same reading `read` averages."""
        return self._sentiment(self._similarity(vectors))

    def read(self, chunk_vectors: np.ndarray) -> dict[str, float]:
        """Topic scores and sentiment of one text from its chunks' embeddings."""
        similarity = self._similarity(chunk_vectors)  # chunks x anchors
        scores = {topic: float(similarity[:, g].max()) for topic, g in zip(TEXT_TOPICS, self.groups, strict=True)}
        scores["sentiment"] = float(self._sentiment(similarity).mean())
        return scores


def _pages(keys: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(keys), PAGE):
        yield keys[start : start + PAGE]


def refresh_text_signals(engine: Engine, collection: Any, embedder: Embedder, state: dict[str, dict[str, Any]]) -> int:
    """Bring `text_signals` in line with the index; `state` is the indexer's view (key -> ids, hashes, chunks).

    Only sources whose chunks are all present with one hash are read; rows of sources gone from the index
    are deleted. Returns the rows written.
    """
    complete = {
        key: next(iter(entry["hashes"]))
        for key, entry in state.items()
        if len(entry["hashes"]) == 1 and len(entry["ids"]) == entry["chunks"] and entry["chunks"] > 0
    }
    with engine.connect() as connection:
        stored = {
            f"{kind}:{source}": digest
            for kind, source, digest in connection.execute(
                select(TextSignal.source_kind, TextSignal.source_id, TextSignal.content_hash)
            )
        }
    gone = [key for key in stored if key not in state]
    wanted = sorted(key for key, digest in complete.items() if stored.get(key) != digest)
    written = 0
    if wanted:
        reader = TextReader(embedder)
        for page in _pages(wanted):
            rows = _read_page(collection, reader, state, page)
            with engine.begin() as connection:
                _delete(connection, [(r["source_kind"], r["source_id"]) for r in rows])
                if rows:
                    connection.execute(insert(TextSignal), rows)
            written += len(rows)
    for page in _pages(gone):
        with engine.begin() as connection:
            _delete(connection, [_source(key) for key in page])
    return written


def _source(key: str) -> tuple[str, str]:
    """("review", "R-1") from the index's source key "review:R-1"."""
    kind, source_id = key.split(":", 1)
    return kind, source_id


def _delete(connection: Connection, sources: list[tuple[str, str]]) -> None:
    if sources:
        connection.execute(delete(TextSignal).where(tuple_(TextSignal.source_kind, TextSignal.source_id).in_(sources)))


def _read_page(
    collection: Any, reader: TextReader, state: dict[str, dict[str, Any]], page: list[str]
) -> list[dict[str, Any]]:
    """text_signals rows for the sources in `page`, from their chunks' stored embeddings."""
    ids = [f"{key}#{i}" for key in page for i in range(state[key]["chunks"])]
    got = collection.get(ids=ids, include=["embeddings", "metadatas"])
    by_source: dict[str, list[tuple[np.ndarray, dict[str, Any]]]] = {}
    for chunk_id, vector, meta in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True):
        by_source.setdefault(chunk_id.rsplit("#", 1)[0], []).append((np.asarray(vector), meta))
    rows = []
    for key, chunks in by_source.items():
        meta = chunks[0][1]
        kind, source_id = _source(key)
        rows.append(
            {
                "source_kind": kind,
                "source_id": source_id,
                "customer_id": meta["customer_id"],
                "written_at": datetime.fromtimestamp(int(meta["created_at"]), UTC).replace(tzinfo=None),
                "content_hash": meta["content_hash"],
                **{k: round(v, 4) for k, v in reader.read(np.vstack([c[0] for c in chunks])).items()},
            }
        )
    return rows

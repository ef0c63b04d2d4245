"""`winback index`: reviews and support tickets into the Chroma collection, incrementally and idempotently.

Every source row (a review or a ticket) becomes one or more chunks with deterministic ids
(`review:R-1042-01#0`) and a content hash in their metadata. A run compares the database with the index:
new or changed rows are (re)embedded and upserted, chunks of rows that shrank or vanished are deleted,
unchanged rows cost nothing. Upserts by id never duplicate, and a row counts as indexed only when all its
chunks carry its current hash, so a run killed halfway is completed by the next one.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, literal, select

from winback.data.db import require_contract
from winback.data.schema import ChurnScore, Customer, Review, SupportTicket
from winback.search.embeddings import Embedder
from winback.search.filters import epoch_seconds
from winback.search.keyword import KeywordIndex
from winback.search.text_signals import refresh_text_signals

CHUNK_CHARS = 1_000
MAX_CHUNKS = 32  # a 100 kB text keeps its first ~32,000 characters; the rest is noted as truncated
BATCH = 1_024  # chunks per embedding call: long enough for length-sorted batches to pad little
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    skipped_empty: int = 0
    chunks_written: int = 0
    signals_written: int = 0  # text_signals rows (topics and sentiment read from the stored embeddings)
    bands_updated: int = 0  # unchanged texts whose customer's risk band changed: metadata rewritten, not re-embedded
    keyword_repaired: int = 0  # keyword-index chunks written or removed to match the vector index
    seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def texts_per_second(self) -> float:
        return self.chunks_written / self.seconds if self.seconds else 0.0


def chunk_text(text: str) -> tuple[list[str], bool]:
    """Split a long text into chunks of at most CHUNK_CHARS at sentence ends; (chunks, truncated)."""
    text = text.strip()
    if len(text) <= CHUNK_CHARS:
        return ([text] if text else []), False
    chunks: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(text):
        while len(sentence) > CHUNK_CHARS:  # one huge "sentence": cut it hard
            if current:
                chunks.append(current)
                current = ""
            chunks.append(sentence[:CHUNK_CHARS])
            sentence = sentence[CHUNK_CHARS:]
        if len(current) + len(sentence) + 1 > CHUNK_CHARS:
            chunks.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}" if current else sentence
    if current:
        chunks.append(current)
    return chunks[:MAX_CHUNKS], len(chunks) > MAX_CHUNKS


@dataclass
class SourceDoc:
    key: str  # "review:R-1" or "ticket:T-1"
    text: str
    metadata: dict[str, Any]


def _latest_scores() -> Any:
    latest = select(func.max(ChurnScore.scored_at)).scalar_subquery()
    return select(ChurnScore.customer_id, ChurnScore.risk_band).where(ChurnScore.scored_at == latest).subquery()


def iter_sources(engine: Engine) -> Iterator[SourceDoc]:
    """Reviews and tickets with the metadata search filters on, streamed from the database."""
    scores = _latest_scores()
    reviews = (
        select(
            literal("review").label("kind"),
            Review.review_id.label("source_id"),
            Review.customer_id,
            Review.order_id,
            Review.rating,
            literal(None).label("topic"),
            Review.title,
            Review.body,
            Review.created_at,
            Customer.segment,
            scores.c.risk_band,
        )
        .join(Customer, Customer.customer_id == Review.customer_id)
        .outerjoin(scores, scores.c.customer_id == Review.customer_id)
        .order_by(Review.review_id)
    )
    tickets = (
        select(
            literal("ticket").label("kind"),
            SupportTicket.ticket_id.label("source_id"),
            SupportTicket.customer_id,
            SupportTicket.order_id,
            SupportTicket.satisfaction.label("rating"),
            SupportTicket.topic,
            literal("").label("title"),
            SupportTicket.body,
            SupportTicket.opened_at.label("created_at"),
            Customer.segment,
            scores.c.risk_band,
        )
        .join(Customer, Customer.customer_id == SupportTicket.customer_id)
        .outerjoin(scores, scores.c.customer_id == SupportTicket.customer_id)
        .order_by(SupportTicket.ticket_id)
    )
    with engine.connect() as connection:
        for query in (reviews, tickets):
            for row in connection.execution_options(yield_per=2_000).execute(query):
                title = (row.title or "").strip()
                body = (row.body or "").strip()
                text = f"{title}. {body}" if title and body else (title or body)
                created = (
                    row.created_at
                    if isinstance(row.created_at, datetime)
                    else datetime.fromisoformat(str(row.created_at))
                )
                metadata: dict[str, Any] = {
                    "kind": row.kind,
                    "source_id": row.source_id,
                    "customer_id": row.customer_id,
                    "segment": row.segment,
                    "created_at": epoch_seconds(created),
                    "created_date": created.strftime("%Y-%m-%d"),
                    "risk_band": row.risk_band or "unscored",
                }
                if row.order_id:
                    metadata["order_id"] = row.order_id
                if row.rating is not None:
                    metadata["rating"] = int(row.rating)
                if row.topic:
                    metadata["topic"] = row.topic
                yield SourceDoc(f"{row.kind}:{row.source_id}", text, metadata)


def _content_hash(doc: SourceDoc, embedder_identity: str) -> str:
    """Changes when the text, its filter fields or the embedding model/backend change (then it is re-embedded)."""
    stable = {k: v for k, v in doc.metadata.items() if k != "risk_band"}  # the band is "as of index time"
    payload = embedder_identity + "\x1f" + doc.text + "\x1f" + "\x1f".join(f"{k}={stable[k]}" for k in sorted(stable))
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def _chunk_metadata(doc: SourceDoc, digest: str, chunks: int, truncated: bool) -> list[dict[str, Any]]:
    return [
        {**doc.metadata, "content_hash": digest, "chunk": i, "chunks": chunks, "truncated": truncated}
        for i in range(chunks)
    ]


def _index_state(collection: Any, page: int = 5_000) -> dict[str, dict[str, Any]]:
    """source key -> {"ids": chunk ids present, "hashes": their hashes, "chunks": chunk count they claim}."""
    state: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        got = collection.get(include=["metadatas"], limit=page, offset=offset)
        if not got["ids"]:
            return state
        for chunk_id, meta in zip(got["ids"], got["metadatas"], strict=True):
            key = chunk_id.rsplit("#", 1)[0]
            entry = state.setdefault(key, {"ids": set(), "hashes": set(), "chunks": 0, "bands": set()})
            entry["ids"].add(chunk_id)
            entry["bands"].add(meta.get("risk_band"))
            entry["hashes"].add(meta.get("content_hash"))
            entry["chunks"] = max(entry["chunks"], int(meta.get("chunks", 0)))
        offset += len(got["ids"])


def index_feedback(
    engine: Engine,
    collection: Any,
    embedder: Embedder,
    progress: Callable[[int], None] | None = None,
    limit: int | None = None,
    keyword: KeywordIndex | None = None,
) -> IndexReport:
    """Bring the collection (and the keyword index, when given) in line with the database; `limit` stops
    after that many changed rows (tests)."""
    require_contract(engine)
    started = time.perf_counter()
    report = IndexReport()
    existing = _index_state(collection)
    pending_ids: list[str] = []
    pending_docs: list[str] = []
    pending_meta: list[dict[str, Any]] = []

    def flush() -> None:
        if pending_ids:
            vectors = embedder.encode(pending_docs)
            collection.upsert(
                ids=list(pending_ids), embeddings=vectors, documents=list(pending_docs), metadatas=list(pending_meta)
            )
            if keyword is not None:
                keyword.upsert(pending_ids, pending_docs, pending_meta)
            report.chunks_written += len(pending_ids)
            pending_ids.clear()
            pending_docs.clear()
            pending_meta.clear()

    band_ids: list[str] = []
    band_meta: list[dict[str, Any]] = []

    def flush_bands() -> None:
        if band_ids:
            collection.update(ids=list(band_ids), metadatas=list(band_meta))
            if keyword is not None:
                keyword.update_metadata(band_ids, band_meta)
            band_ids.clear()
            band_meta.clear()

    held: dict[str, dict[str, Any]] = {}  # what the index holds per source after this run (the rescan's answer)
    changed = 0
    for doc in iter_sources(engine):
        if progress:
            progress(1)
        old = existing.pop(doc.key, None)
        chunks, truncated = chunk_text(doc.text)
        if not chunks:
            report.skipped_empty += 1
            if old:
                _delete(collection, keyword, sorted(old["ids"]))
                report.deleted += 1
            continue
        digest = _content_hash(doc, embedder.identity)
        ids = [f"{doc.key}#{i}" for i in range(len(chunks))]
        if old and old["hashes"] == {digest} and old["ids"] == set(ids):
            report.unchanged += 1
            held[doc.key] = old
            if old["bands"] != {doc.metadata["risk_band"]}:  # re-scored since: the band filter must follow
                band_ids.extend(ids)
                band_meta.extend(_chunk_metadata(doc, digest, len(chunks), truncated))
                report.bands_updated += 1
                if len(band_ids) >= BATCH:
                    flush_bands()
            continue
        if limit is not None and changed >= limit:
            if old:
                held[doc.key] = old
            break
        changed += 1
        if old:
            report.updated += 1
            stale = sorted(old["ids"] - set(ids))
            if stale:
                _delete(collection, keyword, stale)
        else:
            report.added += 1
        report.by_kind[doc.metadata["kind"]] = report.by_kind.get(doc.metadata["kind"], 0) + 1
        held[doc.key] = {"ids": set(ids), "hashes": {digest}, "chunks": len(chunks)}
        pending_ids.extend(ids)
        pending_docs.extend(chunks)
        pending_meta.extend(_chunk_metadata(doc, digest, len(chunks), truncated))
        if len(pending_ids) >= BATCH:
            flush()
    flush()
    flush_bands()
    if limit is None or changed < limit:  # a full pass: whatever is left in the index is gone from the database
        for _key, old in existing.items():
            _delete(collection, keyword, sorted(old["ids"]))
            report.deleted += 1
    else:  # stopped early: what was not reached stays in the index as it was
        held.update(existing)
    if keyword is not None:
        report.keyword_repaired = reconcile_keyword_index(collection, keyword, held)
    report.signals_written = refresh_text_signals(engine, collection, embedder, held)
    report.seconds = time.perf_counter() - started
    return report


def _delete(collection: Any, keyword: KeywordIndex | None, ids: list[str]) -> None:
    collection.delete(ids=ids)
    if keyword is not None:
        keyword.delete(ids)


def reconcile_keyword_index(collection: Any, keyword: KeywordIndex, held: dict[str, dict[str, Any]]) -> int:
    """Make the keyword index hold exactly the chunks of the vector index, from Chroma's stored documents.

    The two are written in the same pass, but a run killed between them, an index built before the keyword
    index existed, or a deleted keyword file leave them apart; nothing is re-embedded to repair that.
    Returns the chunks written or removed.
    """
    wanted = {chunk_id: next(iter(entry["hashes"])) for entry in held.values() for chunk_id in entry["ids"]}
    have = keyword.state()
    extra = [i for i in have if i not in wanted]
    missing = sorted(i for i, digest in wanted.items() if i not in have or have[i] != digest)
    if extra:
        keyword.delete(extra)
    for start in range(0, len(missing), 2_000):
        got = collection.get(ids=missing[start : start + 2_000], include=["documents", "metadatas"])
        keyword.upsert(got["ids"], got["documents"], got["metadatas"])
    return len(extra) + len(missing)


def count_sources(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(Review)).scalar_one()
            + connection.execute(select(func.count()).select_from(SupportTicket)).scalar_one()
        )

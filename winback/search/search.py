"""Search what customers wrote: semantic (embeddings), keyword (BM25 over SQLite FTS5), or both fused.

Filters are a typed model (winback.search.filters), applied before ranking in both rankers.
Results carry ids, rating, date and a similarity score; their text is customer-written and untrusted,
so callers must quote it as data (`Snippet.quoted()`), never follow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from winback.data.untrusted import inert
from winback.search.embeddings import Embedder
from winback.search.filters import FeedbackFilter as FeedbackFilter  # re-exported: callers import it from here
from winback.search.filters import SearchError as SearchError
from winback.search.keyword import QUOTED, KeywordIndex, query_words
from winback.search.text_signals import TextReader

RRF_K = 60
EXACT_TOKEN = re.compile(r"\b(?:[A-Z]-\d+(?:-\d+)*|P-\d{5})\b")  # order, customer, ticket, review, product ids


@dataclass
class Snippet:
    id: str
    kind: str
    source_id: str
    customer_id: str
    order_id: str | None
    rating: int | None
    created_date: str
    score: float
    text: str
    topic: str | None = None

    @property
    def short(self) -> str:
        return self.text if len(self.text) <= 280 else self.text[:277].rsplit(" ", 1)[0] + "..."

    def quoted(self) -> str:
        """How a model may see it: labelled as customer-written data, inside quotes."""
        stars = f", {self.rating} stars" if self.rating is not None and self.kind == "review" else ""
        return f'[{self.kind} {self.source_id} by {self.customer_id}, {self.created_date}{stars}; customer-written, untrusted] "{inert(self.short)}"'

    def to_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in ("id", "kind", "source_id", "customer_id", "order_id", "rating", "created_date", "score", "topic")
        } | {"text": self.short}


def _snippets(ids: list[str], docs: list[str], metas: list[dict[str, Any]], scores: list[float]) -> list[Snippet]:
    return [
        Snippet(
            id=i,
            kind=m["kind"],
            source_id=m["source_id"],
            customer_id=m["customer_id"],
            order_id=m.get("order_id"),
            rating=m.get("rating"),
            created_date=m["created_date"],
            score=round(float(s), 4),
            text=d,
            topic=m.get("topic"),
        )
        for i, d, m, s in zip(ids, docs, metas, scores, strict=True)
    ]


OVERFETCH = 200
BRUTE_FORCE_LIMIT = 2_000


def nearest(
    collection: Any,
    vector: Any,
    k: int,
    filters: FeedbackFilter,
    include: list[str],
    catalogue: KeywordIndex | None = None,
) -> dict[str, list[Any]]:
    """The k nearest texts that pass `filters`.

    Chroma's own metadata filter costs 60-180 ms a query at 100k vectors (measured, bench/search.py), while
    an unfiltered HNSW query costs a few ms. So: fetch the unfiltered top OVERFETCH and keep those that pass.
    If at least k pass they are exactly the first k matches of the ranking. If not, the filter is selective
    (one customer, a rare topic): fetch the matching texts themselves and rank them exactly when there are
    at most BRUTE_FORCE_LIMIT, else let Chroma filter. With a `catalogue` (the keyword index, which holds the
    same filter fields with SQL indexes) the matching ids come from there, and Chroma only fetches by id.
    """
    where = filters.where()
    fields = sorted(set(include) | {"metadatas"})
    if where is None:
        got = collection.query(query_embeddings=vector, n_results=k, include=fields)
        return {f: got[f][0] for f in ("ids", *fields)}
    wide = collection.query(query_embeddings=vector, n_results=max(OVERFETCH, k), include=fields)
    keep = [i for i, m in enumerate(wide["metadatas"][0]) if filters.matches(m)][:k]
    if len(keep) == k:
        return {f: [wide[f][0][i] for i in keep] for f in ("ids", *fields)}
    stored = [f for f in fields if f != "distances"]
    if catalogue is not None:
        ids = catalogue.ids_where(filters, BRUTE_FORCE_LIMIT + 1)
        subset = collection.get(ids=ids, include=[*stored, "embeddings"]) if ids else {"ids": []}
    else:
        subset = collection.get(where=where, include=[*stored, "embeddings"], limit=BRUTE_FORCE_LIMIT + 1)
    if len(subset["ids"]) <= BRUTE_FORCE_LIMIT:
        if not subset["ids"]:
            return {f: [] for f in ("ids", *fields)}
        distances = 1.0 - np.asarray(subset["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)[0]
        order = np.argsort(distances, kind="stable")[:k]
        out = {f: [subset[f][i] for i in order] for f in ("ids", *stored)}
        if "distances" in fields:
            out["distances"] = [float(distances[i]) for i in order]
        return out
    got = collection.query(query_embeddings=vector, n_results=k, where=where, include=fields)
    return {f: got[f][0] for f in ("ids", *fields)}


def semantic_search(
    collection: Any,
    embedder: Embedder,
    query: str,
    filters: FeedbackFilter,
    k: int,
    catalogue: KeywordIndex | None = None,
) -> list[Snippet]:
    got = nearest(collection, embedder.encode([query]), k, filters, ["documents", "metadatas", "distances"], catalogue)
    return _snippets(got["ids"], got["documents"], got["metadatas"], [1.0 - d for d in got["distances"]])


def exact_search(collection: Any, terms: list[str], filters: FeedbackFilter, k: int) -> list[Snippet]:
    """Texts containing every term (case-sensitive substring, Chroma's full-text filter), newest first."""
    if not terms:
        return []
    document = {"$contains": terms[0]} if len(terms) == 1 else {"$and": [{"$contains": t} for t in terms]}
    got = collection.get(
        where=filters.where(), where_document=document, include=["documents", "metadatas"], limit=max(k * 20, 200)
    )
    rows = sorted(zip(got["ids"], got["documents"], got["metadatas"], strict=True), key=lambda r: -r[2]["created_at"])[
        :k
    ]
    return _snippets([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [1.0] * len(rows))


def exact_terms(query: str) -> list[str]:
    """Tokens that need an exact match: ids such as O-1042-007 or P-01021, and "quoted phrases"."""
    return QUOTED.findall(query) + EXACT_TOKEN.findall(query)


SearchMode = Literal["hybrid", "semantic", "keyword"]
Stance = Literal["auto", "complaints", "praise", "any"]
CANDIDATES = 50  # from each ranker, before fusion
STANCE_WEIGHT = 0.3  # how far a text's tone can move it, relative to the best fused relevance (1.0)
COMPLAINT_WORDS = frozenset(
    [
        "problem",
        "problems",
        "issue",
        "issues",
        "complain",
        "complaint",
        "complaints",
        "complained",
        "wrong",
        "bad",
        "poor",
        "late",
        "delay",
        "delayed",
        "broken",
        "damaged",
        "missing",
        "refund",
        "unhappy",
        "disappointed",
        "angry",
        "worst",
        "terrible",
        "awful",
        "fail",
        "failed",
        "failing",
        "cancel",
        "cancelled",
        "never",
        "slow",
        "rude",
    ]
)
PRAISE_WORDS = frozenset(
    [
        "love",
        "loved",
        "loves",
        "like",
        "liked",
        "great",
        "good",
        "best",
        "happy",
        "praise",
        "praised",
        "compliment",
        "compliments",
        "perfect",
        "excellent",
        "amazing",
        "favourite",
        "favorite",
        "recommend",
        "recommended",
        "enjoy",
        "enjoyed",
        "pleased",
    ]
)


@dataclass
class FeedbackHits:
    """One search's answer: the texts, which tone was put first, and how many texts contain the query's words."""

    snippets: list[Snippet]
    stance: str  # "complaints", "praise" or "any"
    matching: int | None = None  # texts containing every query word (keyword index), None without one
    matching_low_rated: int | None = None  # of those, reviews rated 1-2 stars

    def summary(self, query: str) -> str:
        """One line for people and the model: how many texts match in all, and what was put first."""
        words = ", ".join(query_words(query)) or query.strip()
        parts = []
        if self.matching is not None:
            low = f" ({self.matching_low_rated:,} of them reviews rated 1-2 stars)" if self.matching_low_rated else ""
            parts.append(f"{self.matching:,} texts contain every word of: {words}{low}")
        if self.stance != "any":
            parts.append(f"{self.stance} first among the closest matches")
        return "; ".join(parts)


_tone_readers: dict[str, TextReader] = {}


def _tone_reader(embedder: Embedder) -> TextReader:
    if embedder.identity not in _tone_readers:
        _tone_readers[embedder.identity] = TextReader(embedder)
    return _tone_readers[embedder.identity]


def choose_stance(query: str, query_vector: np.ndarray, reader: TextReader) -> str:
    """Complaints first unless the query asks for praise: winback's searches are asked to find problems.

    Words decide when the query has them ("problems with sizing", "what do people love"); otherwise the
    query's own tone as the index reads every text's tone: clearly positive ("comfortable all day") puts
    praise first, anything else ("sizing", "late parcels") complaints.
    """
    words = set(query_words(query)) | {w.lower() for w in query.split()}
    if words & COMPLAINT_WORDS:
        return "complaints"
    if words & PRAISE_WORDS:
        return "praise"
    return "praise" if reader.tone(query_vector[None, :])[0] > 0.1 else "complaints"


def negativity(tone: np.ndarray, ratings: list[int | None]) -> np.ndarray:
    """0 (glowing) .. 1 (angry) per text: its tone read from the embedding, averaged with its stars if rated."""
    from_text = 1.0 / (1.0 + np.exp(tone / 0.05))
    stars = np.array([np.nan if r is None else (5 - r) / 4 for r in ratings], dtype=np.float64)
    return np.where(np.isnan(stars), from_text, (from_text + np.nan_to_num(stars)) / 2)


def feedback_hits(
    collection: Any,
    embedder: Embedder,
    query: str,
    filters: dict[str, Any] | FeedbackFilter | None = None,
    k: int = 10,
    mode: SearchMode = "hybrid",
    keyword: KeywordIndex | None = None,
    stance: Stance = "auto",
) -> FeedbackHits:
    """The agent's search. Hybrid: the semantic and the keyword (BM25) rankings fused by reciprocal rank,
    exact ids and "quoted phrases" as a third list, first; then, unless `stance` is "any", texts whose tone
    fits the question (complaints for a problem) move up. Without a keyword index, hybrid is semantic + exact.
    "semantic" and "keyword" are the plain rankings."""
    if not query.strip():
        raise SearchError("empty search query")
    if not 1 <= k <= 100:
        raise SearchError("k must be between 1 and 100")
    spec = filters if isinstance(filters, FeedbackFilter) else FeedbackFilter.parse(filters)
    matching, low = keyword.count(query, spec) if keyword is not None else (None, None)
    if mode == "keyword":
        if keyword is None:
            return FeedbackHits(exact_search(collection, exact_terms(query) or query.split(), spec, k), "any")
        ranked = dict(keyword.search(query, spec, k))
        got = _in_order(collection, list(ranked), ["documents", "metadatas"])
        snippets = _snippets(got["ids"], got["documents"], got["metadatas"], [ranked[i] for i in got["ids"]])
        return FeedbackHits(snippets, "any", matching, low)
    if mode == "semantic":
        return FeedbackHits(semantic_search(collection, embedder, query, spec, k, keyword), "any", matching, low)
    vector = embedder.encode([query])
    wide = max(CANDIDATES, k)
    lists: list[list[str]] = [list(nearest(collection, vector, wide, spec, [], keyword)["ids"])]
    exact: set[str] = set()
    terms = exact_terms(query)
    if terms:
        lists.insert(0, [s.id for s in exact_search(collection, terms, spec, k)])
        exact = set(lists[0])
    if keyword is not None:
        lists.append([i for i, _ in keyword.search(query, spec, wide)])
    fused: dict[str, float] = {}
    for ranking in lists:
        for rank, chunk_id in enumerate(ranking):
            fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    if not fused:
        return FeedbackHits([], "any", matching, low)
    data = _in_order(collection, sorted(fused, key=lambda i: -fused[i]), ["documents", "metadatas", "embeddings"])
    ids = data["ids"]
    vectors = np.asarray(data["embeddings"], dtype=np.float32)
    similarity = vectors @ vector[0]
    relevance = np.array([fused[i] for i in ids]) / max(fused.values())
    reader = _tone_reader(embedder)
    chosen: str = stance if stance != "auto" else choose_stance(query, vector[0], reader)
    if chosen != "any":
        bad = negativity(reader.tone(vectors), [m.get("rating") for m in data["metadatas"]])
        relevance = relevance + STANCE_WEIGHT * (bad if chosen == "complaints" else 1.0 - bad)
    relevance = relevance + np.array([1.0 if i in exact else 0.0 for i in ids])  # the id asked for comes first
    order = np.argsort(-relevance, kind="stable")[:k]
    snippets = _snippets(
        [ids[j] for j in order],
        [data["documents"][j] for j in order],
        [data["metadatas"][j] for j in order],
        [float(similarity[j]) for j in order],
    )
    return FeedbackHits(snippets, chosen, matching, low)


def _in_order(collection: Any, ids: list[str], include: list[str]) -> dict[str, list[Any]]:
    """`collection.get` by ids, its fields in the order of `ids` (Chroma returns its own order); ids
    missing from the collection are left out."""
    if not ids:
        return {"ids": [], **{f: [] for f in include}}
    data = collection.get(ids=ids, include=include)
    position = {chunk_id: n for n, chunk_id in enumerate(data["ids"])}
    kept = [i for i in ids if i in position]
    return {"ids": kept, **{f: [data[f][position[i]] for i in kept] for f in include}}


def search_feedback(
    collection: Any,
    embedder: Embedder,
    query: str,
    filters: dict[str, Any] | FeedbackFilter | None = None,
    k: int = 10,
    mode: SearchMode = "hybrid",
    keyword: KeywordIndex | None = None,
    stance: Stance = "auto",
) -> list[Snippet]:
    """The texts of `feedback_hits`."""
    return feedback_hits(collection, embedder, query, filters, k, mode, keyword, stance).snippets

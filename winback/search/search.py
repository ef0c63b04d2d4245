"""Search what customers wrote: semantic (embeddings), keyword (Chroma's full-text filter), or both.

Filters are a typed model: an unknown field is refused with the list of known ones, never ignored.
Results carry ids, rating, date and a similarity score; their text is customer-written and untrusted,
so callers must quote it as data (`Snippet.quoted()`), never follow it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from winback.data.risk_bands import RiskBand
from winback.data.untrusted import inert
from winback.errors import UserError
from winback.search.embeddings import Embedder
from winback.search.indexer import epoch_seconds

RRF_K = 60
EXACT_TOKEN = re.compile(r"\b(?:[A-Z]-\d+(?:-\d+)*|P-\d{5})\b")  # order, customer, ticket, review, product ids
QUOTED = re.compile(r'"([^"]{2,})"')


class SearchError(UserError, ValueError):
    pass


class FeedbackFilter(BaseModel):
    """Which texts to search; every field optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = None
    kind: Literal["review", "ticket"] | None = None
    min_rating: int | None = Field(None, ge=1, le=5)
    max_rating: int | None = Field(None, ge=1, le=5)
    since: date | None = None
    until: date | None = None
    segment: str | None = None
    risk_band: RiskBand | Literal["unscored"] | None = None
    topic: str | None = None

    @model_validator(mode="after")
    def _ranges(self) -> FeedbackFilter:
        if self.min_rating and self.max_rating and self.min_rating > self.max_rating:
            raise ValueError("min_rating is above max_rating")
        if self.since and self.until and self.since > self.until:
            raise ValueError("since is after until")
        return self

    @classmethod
    def parse(cls, values: dict[str, Any] | None) -> FeedbackFilter:
        try:
            return cls.model_validate(values or {})
        except ValidationError as exc:
            problems = []
            for e in exc.errors():
                field = ".".join(map(str, e["loc"])) or "filter"
                if e["type"] == "extra_forbidden":
                    problems.append(f"unknown filter field {field!r} (known: {', '.join(cls.model_fields)})")
                else:
                    problems.append(f"{field}: {e['msg']}")
            raise SearchError("; ".join(problems)) from None

    def matches(self, meta: dict[str, Any]) -> bool:
        """The same test as `where()`, on one result's metadata (used to post-filter an over-fetch)."""
        for name in ("customer_id", "kind", "segment", "risk_band", "topic"):
            value = getattr(self, name)
            if value is not None and meta.get(name) != value:
                return False
        rating = meta.get("rating")
        if self.min_rating is not None and (rating is None or rating < self.min_rating):
            return False
        if self.max_rating is not None and (rating is None or rating > self.max_rating):
            return False
        created = meta.get("created_at")
        if self.since is not None and (
            created is None or created < epoch_seconds(datetime.combine(self.since, time.min))
        ):
            return False
        return not (
            self.until is not None
            and (created is None or created > epoch_seconds(datetime.combine(self.until, time.max)))
        )

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        for name in ("customer_id", "kind", "segment", "risk_band", "topic"):
            value = getattr(self, name)
            if value is not None:
                clauses.append({name: value})
        if self.min_rating is not None:
            clauses.append({"rating": {"$gte": self.min_rating}})
        if self.max_rating is not None:
            clauses.append({"rating": {"$lte": self.max_rating}})
        if self.since is not None:
            clauses.append({"created_at": {"$gte": epoch_seconds(datetime.combine(self.since, time.min))}})
        if self.until is not None:
            clauses.append({"created_at": {"$lte": epoch_seconds(datetime.combine(self.until, time.max))}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


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


def nearest(collection: Any, vector: Any, k: int, filters: FeedbackFilter, include: list[str]) -> dict[str, list[Any]]:
    """The k nearest texts that pass `filters`.

    Chroma's own metadata filter costs 60-180 ms a query at 100k vectors (measured, bench/search.py), while
    an unfiltered HNSW query costs a few ms. So: fetch the unfiltered top OVERFETCH and keep those that pass.
    If at least k pass they are exactly the first k matches of the ranking. If not, the filter is selective
    (one customer, a rare topic): fetch the matching texts themselves and rank them exactly when there are
    at most BRUTE_FORCE_LIMIT, else let Chroma filter.
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


def semantic_search(collection: Any, embedder: Embedder, query: str, filters: FeedbackFilter, k: int) -> list[Snippet]:
    got = nearest(collection, embedder.encode([query]), k, filters, ["documents", "metadatas", "distances"])
    return _snippets(got["ids"], got["documents"], got["metadatas"], [1.0 - d for d in got["distances"]])


def keyword_search(collection: Any, terms: list[str], filters: FeedbackFilter, k: int) -> list[Snippet]:
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


SearchMode = Literal["hybrid", "semantic", "keyword"]  # hybrid: semantic fused with exact id/phrase matches


def search_feedback(
    collection: Any,
    embedder: Embedder,
    query: str,
    filters: dict[str, Any] | FeedbackFilter | None = None,
    k: int = 10,
    mode: SearchMode = "hybrid",
) -> list[Snippet]:
    """The agent's search: semantic by default, fused (reciprocal rank) with exact matches when the
    query names ids or quoted phrases."""
    if not query.strip():
        raise SearchError("empty search query")
    if not 1 <= k <= 100:
        raise SearchError("k must be between 1 and 100")
    spec = filters if isinstance(filters, FeedbackFilter) else FeedbackFilter.parse(filters)
    if mode == "keyword":
        return keyword_search(collection, exact_terms(query) or query.split(), spec, k)
    semantic = semantic_search(collection, embedder, query, spec, k)
    terms = exact_terms(query)
    if mode == "semantic" or not terms:
        return semantic
    exact = keyword_search(collection, terms, spec, k)
    fused: dict[str, tuple[float, Snippet]] = {}
    for results in (exact, semantic):
        for rank, snippet in enumerate(results):
            score, _ = fused.get(snippet.id, (0.0, snippet))
            fused[snippet.id] = (score + 1.0 / (RRF_K + rank + 1), snippet)
    return [s for _, s in sorted(fused.values(), key=lambda x: -x[0])][:k]

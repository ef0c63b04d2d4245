"""Complaint themes: cluster what a group of customers wrote and name each cluster by its distinctive words.

For any filtered subset (e.g. 1-2 star reviews since March, or reviews of high-risk customers): k-means on
the stored embeddings (k chosen by silhouette unless given), class-based TF-IDF for the names, and per
theme its size, share, monthly trend, the quotes closest to its centre, and the churn rate of its authors
against the subset's. "Churned after writing" = no order in the 90 days after the text (texts from the
last 90 days of data have no outcome yet and are left out of the rates).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import silhouette_score
from sqlalchemy import Engine, func, select

from winback.data.schema import Order
from winback.search.search import FeedbackFilter, SearchError, Snippet, _snippets

CHURN_WINDOW_DAYS = 90
LOOKUP_CHUNK = 500
EXTRA_STOP_WORDS = {"just", "really", "order", "ordered", "time", "item", "items", "bought", "did", "don", "got", "shop"}


@dataclass
class Theme:
    label: str
    terms: list[str]
    size: int
    share: float
    monthly: dict[str, int]
    examples: list[Snippet]
    churn_rate: float | None
    customers: int
    source_ids: list[str] = field(default_factory=list, repr=False)


@dataclass
class ThemeReport:
    themes: list[Theme]
    total: int
    overall_churn_rate: float | None
    filters: dict[str, Any]


def _choose_k(vectors: np.ndarray, seed: int, candidates: range) -> int:
    sample = vectors if len(vectors) <= 3_000 else vectors[np.random.default_rng(seed).choice(len(vectors), 3_000, replace=False)]
    best, best_score = candidates.start, -1.0
    for k in candidates:
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(sample)
        score = silhouette_score(sample, labels, metric="cosine")
        if score > best_score:
            best, best_score = k, score
    return best


def class_tfidf_terms(docs: list[str], labels: np.ndarray, k: int, top: int = 4) -> list[list[str]]:
    """The most distinctive words of each cluster (c-TF-IDF: term frequency in the class x log(1 + A / f))."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    vectorizer = CountVectorizer(stop_words=list(ENGLISH_STOP_WORDS | EXTRA_STOP_WORDS), ngram_range=(1, 2), min_df=2,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    counts = vectorizer.fit_transform(docs)
    vocabulary = np.array(vectorizer.get_feature_names_out())
    per_class = np.vstack([np.asarray(counts[labels == c].sum(axis=0)).ravel() for c in range(k)]).astype(float)
    tf = per_class / np.maximum(per_class.sum(axis=1, keepdims=True), 1.0)
    average_words = per_class.sum() / k
    idf = np.log(1.0 + average_words / np.maximum(per_class.sum(axis=0), 1.0))
    scores = tf * idf
    out = []
    for c in range(k):
        ranked = [vocabulary[j] for j in np.argsort(-scores[c])]
        chosen: list[str] = []
        for term in ranked:  # skip a word already inside a chosen phrase, and vice versa
            if any(term in t or t in term for t in chosen):
                continue
            chosen.append(term)
            if len(chosen) == top:
                break
        out.append(chosen)
    return out


def _churned_after(engine: Engine, texts: list[tuple[str, datetime]]) -> list[bool | None]:
    """For each (customer, date): True if no order in the following 90 days, None if the data ends before."""
    with engine.connect() as connection:
        data_end = connection.execute(select(func.max(Order.ordered_at))).scalar_one()
        customers = sorted({c for c, _ in texts})
        orders: dict[str, list[datetime]] = {}
        for start in range(0, len(customers), LOOKUP_CHUNK):
            chunk = customers[start : start + LOOKUP_CHUNK]
            for cid, when in connection.execute(select(Order.customer_id, Order.ordered_at).where(Order.customer_id.in_(chunk))):
                orders.setdefault(cid, []).append(when)
    if data_end is None:
        return [None] * len(texts)
    out: list[bool | None] = []
    for cid, when in texts:
        end = when + timedelta(days=CHURN_WINDOW_DAYS)
        if end > data_end:
            out.append(None)
        else:
            out.append(not any(when < o <= end for o in orders.get(cid, [])))
    return out


def _rate(flags: list[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def complaint_themes(
    engine: Engine,
    collection: Any,
    filters: dict[str, Any] | FeedbackFilter | None = None,
    n_themes: int | None = None,
    max_texts: int = 20_000,
    examples: int = 3,
    seed: int = 0,
) -> ThemeReport:
    spec = filters if isinstance(filters, FeedbackFilter) else FeedbackFilter.parse(filters)
    got = collection.get(where=spec.where(), include=["embeddings", "documents", "metadatas"], limit=max_texts)
    n = len(got["ids"])
    if n < 20:
        raise SearchError(f"only {n} texts match those filters; themes need at least 20")
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    docs, metas = list(got["documents"]), list(got["metadatas"])
    k = n_themes or _choose_k(vectors, seed, range(3, max(4, min(10, n // 25) + 1)))
    if not 2 <= k <= n // 5:
        raise SearchError(f"cannot split {n} texts into {k} themes")
    model = KMeans(n_clusters=k, n_init=8, random_state=seed).fit(vectors)
    labels = model.labels_
    names = class_tfidf_terms(docs, labels, k)
    dated = [(m["customer_id"], datetime.fromisoformat(m["created_date"])) for m in metas]
    churned = _churned_after(engine, dated)

    themes = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        distance = np.linalg.norm(vectors[members] - model.cluster_centers_[c], axis=1)
        closest = members[np.argsort(distance)[:examples]]
        first_text: dict[str, bool | None] = {}
        for i in sorted(members, key=lambda i: dated[i][1]):  # one outcome per customer: after their first text
            first_text.setdefault(dated[i][0], churned[i])
        themes.append(
            Theme(
                label=" / ".join(names[c]),
                terms=names[c],
                size=len(members),
                share=len(members) / n,
                monthly=dict(sorted(Counter(metas[i]["created_date"][:7] for i in members).items())),
                examples=_snippets([got["ids"][i] for i in closest], [docs[i] for i in closest], [metas[i] for i in closest],
                                   [1.0 - float(d) for d in np.sort(distance)[:examples]]),
                churn_rate=_rate(list(first_text.values())),
                customers=len(first_text),
                source_ids=[metas[i]["source_id"] for i in members],
            )
        )
    themes.sort(key=lambda t: -t.size)
    overall: dict[str, bool | None] = {}
    for i in sorted(range(n), key=lambda i: dated[i][1]):
        overall.setdefault(dated[i][0], churned[i])
    return ThemeReport(themes, n, _rate(list(overall.values())), spec.model_dump(exclude_none=True, mode="json"))

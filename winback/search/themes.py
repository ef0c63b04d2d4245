"""Complaint themes: cluster what a group of customers wrote and name each cluster by its distinctive words.

For any filtered subset (e.g. 1-2 star reviews since March, or reviews of high-risk customers). A review
often complains about several things at once ("late, and the seams came undone"), so themes are found
among **sentences**: each text is split into sentences of at least five words, the sentences are embedded
and clustered with k-means (k chosen by silhouette unless given), and each cluster is named by
class-based TF-IDF. A text belongs to every theme one of its sentences falls in. Per theme: texts,
share of the subset, monthly trend, the sentences closest to its centre as quotes, and the churn rate of
its authors against the subset's. "Churned after writing" = no order in the 90 days after the text
(texts from the last 90 days of data have no outcome yet and are left out of the rates).
"""

from __future__ import annotations

import re
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
from winback.search.embeddings import Embedder
from winback.search.search import FeedbackFilter, SearchError, Snippet, _snippets

CHURN_WINDOW_DAYS = 90
LOOKUP_CHUNK = 500
MIN_WORDS = 5
SENTENCE = re.compile(r"(?<=[.!?])\s+")
EXTRA_STOP_WORDS = {
    "just",
    "really",
    "order",
    "ordered",
    "time",
    "item",
    "items",
    "bought",
    "did",
    "don",
    "got",
    "shop",
}


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
    sample = (
        vectors
        if len(vectors) <= 3_000
        else vectors[np.random.default_rng(seed).choice(len(vectors), 3_000, replace=False)]
    )
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

    vectorizer = CountVectorizer(
        stop_words=list(ENGLISH_STOP_WORDS | EXTRA_STOP_WORDS),
        ngram_range=(1, 2),
        min_df=2,
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b",
    )
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
            for cid, when in connection.execute(
                select(Order.customer_id, Order.ordered_at).where(Order.customer_id.in_(chunk))
            ):
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


def sentences(text: str) -> list[str]:
    return [x.strip() for x in SENTENCE.split(text) if len(x.split()) >= MIN_WORDS]


def complaint_themes(
    engine: Engine,
    collection: Any,
    embedder: Embedder,
    filters: dict[str, Any] | FeedbackFilter | None = None,
    n_themes: int | None = None,
    max_texts: int = 10_000,
    examples: int = 3,
    seed: int = 0,
) -> ThemeReport:
    spec = filters if isinstance(filters, FeedbackFilter) else FeedbackFilter.parse(filters)
    got = collection.get(where=spec.where(), include=["documents", "metadatas"], limit=max_texts)
    n = len(got["ids"])
    if n < 20:
        raise SearchError(f"only {n} texts match those filters; themes need at least 20")
    docs, metas = list(got["documents"]), list(got["metadatas"])
    parts: list[str] = []
    owner: list[int] = []
    for i, doc in enumerate(docs):
        for sentence in sentences(doc):
            parts.append(sentence)
            owner.append(i)
    if len(parts) < 20:
        raise SearchError("those texts are too short to find themes in")
    vectors = embedder.encode(parts)
    owners = np.array(owner)
    k = n_themes or _choose_k(vectors, seed, range(4, max(5, min(12, len(parts) // 30) + 1)))
    if not 2 <= k <= len(parts) // 5:
        raise SearchError(f"cannot split {len(parts)} sentences into {k} themes")
    model = KMeans(n_clusters=k, n_init=8, random_state=seed).fit(vectors)
    labels = model.labels_
    names = class_tfidf_terms(parts, labels, k)
    dated = [(m["customer_id"], datetime.fromisoformat(m["created_date"])) for m in metas]
    churned = _churned_after(engine, dated)

    def first_outcomes(texts: np.ndarray) -> dict[str, bool | None]:
        outcome: dict[str, bool | None] = {}
        for i in sorted(texts, key=lambda i: dated[i][1]):  # one outcome per customer: after their first text
            outcome.setdefault(dated[i][0], churned[i])
        return outcome

    themes = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        texts = np.unique(owners[members])
        distance = np.linalg.norm(vectors[members] - model.cluster_centers_[c], axis=1)
        closest = [int(members[j]) for j in np.argsort(distance)]
        quoted: list[int] = []
        for j in closest:  # the most typical sentences, different ones, from different texts
            if owners[j] not in {owners[q] for q in quoted} and parts[j] not in {parts[q] for q in quoted}:
                quoted.append(j)
            if len(quoted) == examples:
                break
        outcomes = first_outcomes(texts)
        themes.append(
            Theme(
                label=" / ".join(names[c]),
                terms=names[c],
                size=len(texts),
                share=len(texts) / n,
                monthly=dict(sorted(Counter(metas[i]["created_date"][:7] for i in texts).items())),
                examples=_snippets(
                    [got["ids"][owners[j]] for j in quoted],
                    [parts[j] for j in quoted],
                    [metas[owners[j]] for j in quoted],
                    [1.0 - float(np.linalg.norm(vectors[j] - model.cluster_centers_[c])) for j in quoted],
                ),
                churn_rate=_rate(list(outcomes.values())),
                customers=len(outcomes),
                source_ids=[metas[i]["source_id"] for i in texts],
            )
        )
    themes.sort(key=lambda t: -t.size)
    overall = first_outcomes(np.arange(n))
    return ThemeReport(themes, n, _rate(list(overall.values())), spec.model_dump(exclude_none=True, mode="json"))

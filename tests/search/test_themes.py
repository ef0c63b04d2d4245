"""Complaint themes over the demo shop's 1-2 star reviews recover the planted causes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.data.schema import DemoTruth, Order, Review
from winback.search.indexer import index_feedback
from winback.search.search import SearchError
from winback.search.store import open_collection
from winback.search.themes import complaint_themes

ASPECTS = {
    "delivery": {"late", "delivery", "days", "parcel", "shipping", "tracking"},
    "quality": {"quality", "wash", "fall apart", "seams", "flimsy", "fabric", "button"},
    "fit": {"size", "sizing", "fit", "small", "tight"},
    "price": {"price", "prices", "cheaper", "expensive", "overpriced", "price increase"},
    "support": {"support", "customer service", "chat", "answer", "reply"},
}


def aspect_of(terms: list[str]) -> str | None:
    for aspect, words in ASPECTS.items():
        if any(t in words or any(w in t.split() for w in words) for t in terms[:2]):
            return aspect
    return None


@pytest.mark.slow
def test_themes_of_bad_reviews_match_the_planted_causes(tmp_path: Path, embedder) -> None:
    settings = Settings(data_dir=tmp_path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed_demo(engine, customers=3_000, seed=7)
    collection = open_collection(settings, embedder)
    index_feedback(engine, collection, embedder)
    report = complaint_themes(engine, collection, embedder, {"kind": "review", "max_rating": 2})
    found: dict[str | None, object] = {}
    for theme in report.themes:  # largest first: an aspect's main theme
        found.setdefault(aspect_of(theme.terms), theme)
    print("\n" + "\n".join(f"{t.size:5} {t.share:.0%} churn {t.churn_rate} {t.label}" for t in report.themes))
    assert {"delivery", "quality", "fit", "price", "support"} <= set(found)
    assert report.overall_churn_rate is not None and all(t.monthly and t.examples for t in report.themes)

    # the delivery theme's authors really were hurt by late parcels, by the generator's own record
    with engine.connect() as c:
        truth = {cid: causes for cid, causes in c.execute(select(DemoTruth.customer_id, DemoTruth.causes))}
    ids = {sid for t in report.themes for sid in t.source_ids}
    authors = {sid: sid.split("-")[1] for sid in ids}  # R-<number>-<n> -> customer number

    def late_share(source_ids: list[str]) -> float:
        return float(np.mean([truth[f"C-{authors[s]}"]["late_delivery"] for s in source_ids]))

    delivery = set(found["delivery"].source_ids)
    others = sorted(ids - delivery)
    print(
        "late-delivery share of hazard: delivery theme",
        late_share(sorted(delivery)),
        "other themes",
        late_share(others),
    )
    assert late_share(sorted(delivery)) > 1.2 * late_share(others)
    # and the reviews in the delivery theme are far more often about orders that really arrived late
    with engine.connect() as c:
        late = dict(
            c.execute(
                select(Review.review_id, Order.delivered_at > Order.promised_delivery_at)
                .join(Order, Order.order_id == Review.order_id)
                .where(Review.rating <= 2)
            ).all()
        )
    in_theme = np.mean([bool(late[r]) for r in delivery])
    overall = np.mean([bool(v) for v in late.values()])
    print(f"reviews about a late order: delivery theme {in_theme:.0%}, all 1-2 star reviews {overall:.0%}")
    assert in_theme > 1.5 * overall


def test_too_few_texts_is_a_clear_error(sqlite_url: str, tmp_path: Path, embedder) -> None:
    settings = Settings(data_dir=tmp_path)
    engine = make_engine(sqlite_url)
    upgrade(engine)
    seed_demo(engine, customers=20, seed=2)
    collection = open_collection(settings, embedder)
    index_feedback(engine, collection, embedder)
    with pytest.raises(SearchError, match="themes need at least 20"):
        complaint_themes(engine, collection, embedder, {"kind": "review", "max_rating": 1, "segment": "platinum"})

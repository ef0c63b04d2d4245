"""The churn model reads what customers wrote: the demo's text-only cause (shopping around after finding it
cheaper elsewhere, docs/demo-shop.md) comes out among the drivers of the customers who wrote about it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.phrases import PRICE_COMPARISONS
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.model.dataset import latest_activity
from winback.model.features import compute_features
from winback.model.pipeline import train_churn_model
from winback.model.scoring import ChurnScorer
from winback.search.embeddings import get_embedder
from winback.search.indexer import index_feedback
from winback.search.store import open_collection

FEATURE = "text_price_elsewhere_365d"


@pytest.mark.slow
def test_the_text_only_cause_is_among_the_drivers_of_those_who_wrote_it(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'winback.db'}")
    upgrade(engine)
    seed_demo(engine, customers=4_000, seed=7)
    settings = Settings(data_dir=tmp_path)
    embedder = get_embedder(settings.embedding_model)
    assert index_feedback(engine, open_collection(settings, embedder), embedder).signals_written > 7_000
    report = train_churn_model(engine, tmp_path)
    assert report.texts_read > 7_000 and FEATURE in list(report.global_drivers["feature"].head(12))

    now = latest_activity(engine)
    assert now is not None
    stems = [phrase.split("{")[0] for phrase in PRICE_COMPARISONS]
    with engine.connect() as c:
        texts = pd.read_sql(
            text(
                "SELECT customer_id, body, created_at AS at FROM reviews UNION ALL "
                "SELECT customer_id, body, opened_at AS at FROM support_tickets"
            ),
            c,
        )
    texts["at"] = pd.to_datetime(texts["at"])
    recent = texts[texts["at"] > pd.Timestamp(now) - pd.Timedelta(days=365)]
    wrote = set(recent.loc[recent["body"].map(lambda b: any(s in b for s in stems)), "customer_id"])
    frame = compute_features(engine, now)
    scorer = ChurnScorer.load(tmp_path)
    scores = scorer.score_frame(frame, now)

    def raised(customer_ids: set[str]) -> float:
        chosen = [s for s in scores if s.customer_id in customer_ids]
        return float(np.mean([any(d.feature == FEATURE and d.contribution > 0 for d in s.drivers) for s in chosen]))

    others = set(frame.index) - wrote
    assert len(wrote) > 100
    print(f"\nwrote {len(wrote)}: {raised(wrote):.2f}; others {len(others)}: {raised(others):.2f}")
    assert raised(wrote) > 0.5 > 0.25 > raised(others)
    example = next(d.text for s in scores if s.customer_id in wrote for d in s.drivers if d.feature == FEATURE)
    assert "cheaper elsewhere" in example

"""Fixtures for the tool tests: a small demo shop whose customers all have a critical churn score, with a
driver pointing at each situation in turn, and marketing consent (so every offer type is in play)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.lookups.common import reference_date
from winback.data.migrate import upgrade
from winback.data.schema import Customer
from winback.data.scores import ScoreRecord, write_scores

DRIVERS = {
    "late_delivery": {"feature": "late_share_365d", "contribution": 0.2, "text": "late deliveries"},
    "support": {"feature": "unresolved_tickets", "contribution": 0.2, "text": "open tickets"},
    "product_quality": {"feature": "min_rating_365d", "contribution": 0.2, "text": "bad reviews"},
    "price": {"feature": "discount_share_365d", "contribution": 0.2, "text": "discounts"},
    "inactivity": {"feature": "recency_days", "contribution": 0.2, "text": "quiet"},
}


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Engine, Settings]:
    """(engine, settings) of a 300-customer demo shop scored 0.9 (critical) for everyone."""
    settings = Settings(data_dir=tmp_path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed_demo(engine, customers=300, seed=11)
    with engine.connect() as connection:
        ids = sorted(connection.scalars(select(Customer.customer_id).where(Customer.closed_at.is_(None))))
        as_of = reference_date(connection)
    situations = list(DRIVERS)
    records = [ScoreRecord(c, 0.9, "critical", [DRIVERS[situations[i % 5]]]) for i, c in enumerate(ids)]
    write_scores(engine, records, "m", as_of, as_of)
    with engine.begin() as connection:  # everyone may receive marketing, so every offer type is in play
        connection.execute(update(Customer).values(marketing_opt_in=True))
    return engine, settings

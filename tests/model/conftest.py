"""One small trained shop for the model tests (seeded and trained once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.shop_fixtures import FAST
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.model.pipeline import TrainReport, train_churn_model


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path, TrainReport]:
    """A 3,000-customer demo shop (seed 7), its data dir and the report of a fast training run."""
    root = tmp_path_factory.mktemp("model")
    engine = make_engine(f"sqlite:///{root / 'shop.db'}")
    upgrade(engine)
    seed_demo(engine, customers=3_000, seed=7)
    return engine, root, train_churn_model(engine, root, config=FAST)

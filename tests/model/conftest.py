"""One small trained shop for the model tests (seeded and trained once, kept in the test-shop cache; each
session works on its own copy)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.shop_cache import cached_shop
from tests.shop_fixtures import FAST
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.model.pipeline import TrainReport, train_churn_model


def _seed_and_train(root: Path, customers: int, seed: int) -> TrainReport:
    engine = make_engine(f"sqlite:///{root / 'shop.db'}")
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=seed)
    report = train_churn_model(engine, root, config=FAST)
    engine.dispose()
    return report


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Engine, Path, TrainReport]:
    """A 3,000-customer demo shop (seed 7), its data dir and the report of a fast training run."""
    shop = cached_shop("trained-demo", _seed_and_train, customers=3_000, seed=7)
    root = shop.copy_to(tmp_path_factory.mktemp("model") / "shop")
    report = dataclasses.replace(shop.result, folder=shop.rebased(shop.result.folder, root))
    return make_engine(f"sqlite:///{root / 'shop.db'}"), root, report

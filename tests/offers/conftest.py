"""Shops for the offer engine's tests: the tool tests' small critical-risk shop, and a scored 3,000-customer
demo shop (seeded, trained and scored once per session, copied for each test that changes it)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.shop_fixtures import FAST
from tests.tools.conftest import shop
from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.model.pipeline import train_churn_model
from winback.model.scoring import ChurnScorer, score_all

__all__ = ["demo_shop_factory", "shop"]


def build_scored_demo(data_dir: Path, customers: int, seed: int) -> Settings:
    settings = Settings(data_dir=data_dir)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=seed)
    train_churn_model(engine, data_dir, config=FAST)
    score_all(engine, ChurnScorer.load(data_dir))
    engine.dispose()
    return settings


@pytest.fixture(scope="session")
def scored_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scored 3,000-customer demo (seed 1), built once."""
    data_dir = tmp_path_factory.mktemp("demo3000")
    build_scored_demo(data_dir, 3000, 1)
    return data_dir


@pytest.fixture
def demo_shop_factory(scored_demo_template: Path, tmp_path: Path) -> Callable[[], Settings]:
    """Call for a private copy of the scored demo shop (its settings)."""

    def copy() -> Settings:
        target = tmp_path / f"shop{len(list(tmp_path.iterdir()))}"
        shutil.copytree(scored_demo_template, target)
        return Settings(data_dir=target)

    return copy

"""Shops for the offer engine's tests: the tool tests' small critical-risk shop, and a scored 3,000-customer
demo shop (seeded, trained and scored once, kept in the test-shop cache, copied for each test that changes it)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.shop_cache import cached_shop
from tests.shop_fixtures import FAST
from tests.tools.conftest import shop
from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.model.pipeline import train_churn_model
from winback.model.scoring import ChurnScorer, score_all

__all__ = ["demo_shop_factory", "shop"]


def _seed_train_score(data_dir: Path, customers: int, seed: int) -> None:
    engine = make_engine(Settings(data_dir=data_dir).database_url)
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=seed)
    train_churn_model(engine, data_dir, config=FAST)
    score_all(engine, ChurnScorer.load(data_dir))
    engine.dispose()


def build_scored_demo(data_dir: Path, customers: int, seed: int) -> Settings:
    """A seeded, trained (FAST) and scored demo shop in `data_dir` (a copy of the cached one)."""
    cached_shop("scored-demo", _seed_train_score, customers=customers, seed=seed).copy_to(data_dir)
    return Settings(data_dir=data_dir)


@pytest.fixture(scope="session")
def scored_demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scored 3,000-customer demo (seed 1), built once."""
    return build_scored_demo(tmp_path_factory.mktemp("demo3000") / "shop", 3000, 1).data_dir


@pytest.fixture
def demo_shop_factory(scored_demo_template: Path, tmp_path: Path) -> Callable[[], Settings]:
    """Call for a private copy of the scored demo shop (its settings)."""

    def copy() -> Settings:
        target = tmp_path / f"shop{len(list(tmp_path.iterdir()))}"
        shutil.copytree(scored_demo_template, target)
        return Settings(data_dir=target)

    return copy

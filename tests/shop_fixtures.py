"""A small real shop for the assistant and the UI: seeded, trained (fast settings), scored and indexed once (and
kept in the test-shop cache, tests/shop_cache.py); each test session works on its own copy, and tests that write
(drafts, planted reviews) on a copy of their own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.shop_cache import cached_shop
from winback.config import Settings
from winback.data.db import make_engine
from winback.data.demo.seed import seed_demo
from winback.data.migrate import upgrade
from winback.model.pipeline import train_churn_model
from winback.model.scoring import ChurnScorer, score_all
from winback.model.train import TrainConfig
from winback.search.embeddings import get_embedder
from winback.search.indexer import index_feedback
from winback.search.store import open_collection

FAST = TrainConfig(members=2, max_epochs=25, patience=4)


def build_indexed_shop(root: Path, customers: int, seed: int) -> None:
    """Seed, train (FAST), score and index a demo shop in `root`."""
    settings = Settings(data_dir=root)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    seed_demo(engine, customers=customers, seed=seed)
    train_churn_model(engine, root, config=FAST)
    score_all(engine, ChurnScorer.load(root))
    embedder = get_embedder(settings.embedding_model)
    index_feedback(engine, open_collection(settings, embedder), embedder)
    engine.dispose()


@pytest.fixture(scope="session")
def scored_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data dir of an 800-customer demo with a model, a scoring run and a feedback index."""
    shop = cached_shop("indexed-shop", build_indexed_shop, customers=800, seed=5)
    return shop.copy_to(tmp_path_factory.mktemp("assistant-shop") / "shop")


@pytest.fixture
def shop_dir(scored_shop: Path, tmp_path: Path) -> Path:
    """A private copy (database and index) a test may change."""
    target = tmp_path / "shop"
    shutil.copytree(scored_shop, target)
    return target


@pytest.fixture
def shop_settings(shop_dir: Path) -> Settings:
    # no LLM: a closed port on loopback, so nothing answers (tests that want the model say so)
    return Settings(data_dir=shop_dir, llm_port=9, assistant_planner="router")

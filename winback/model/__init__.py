"""Features, the churn model, training, scoring and explanations (reads `winback.data` only).

`score_customers(["C-1042"])` is the on-demand entry point the agent uses: calibrated probability,
risk band and the top drivers in words, from the latest trained model.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from winback.model.scoring import ChurnScorer, CustomerScore


@lru_cache(maxsize=4)
def _scorer(data_dir: Path, version: str | None) -> ChurnScorer:
    from winback.model.scoring import ChurnScorer

    return ChurnScorer.load(data_dir, version)


def score_customers(
    customer_ids: Sequence[str], as_of: datetime | None = None, top_k: int = 5, version: str | None = None
) -> list[CustomerScore]:
    """Score customers with the configured database and the latest (or given) model version."""
    from winback.config import get_settings
    from winback.data.db import make_engine
    from winback.model import scoring
    from winback.model.artifact import latest_version

    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    scorer = _scorer(data_dir, version or latest_version(data_dir))  # a retrain is picked up at once
    engine = make_engine(settings=settings)
    try:
        return scoring.score_customers(engine, scorer, customer_ids, as_of, top_k)
    finally:
        engine.dispose()

"""Complaint themes are slow to compute on a CPU (tens of seconds: every sentence is embedded and
clustered), and they change only when the texts do. Reports are kept on disk, keyed by the filters and
the state of the index, so each one is computed once; the answer says when."""

from __future__ import annotations

import hashlib
import json
import pickle
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from winback.search.themes import ThemeReport, complaint_themes

CACHE_VERSION = 1


def _key(filters: dict[str, Any], n_themes: int | None, max_texts: int, index_size: int) -> str:
    spec = json.dumps([CACHE_VERSION, sorted((k, str(v)) for k, v in filters.items()), n_themes, max_texts, index_size])
    return hashlib.sha256(spec.encode()).hexdigest()[:24]


def cached_themes(
    data_dir: Path,
    engine: Engine,
    collection: Any,
    embedder: Any,
    filters: dict[str, Any],
    n_themes: int | None = None,
    max_texts: int = 10_000,
) -> tuple[datetime, ThemeReport]:
    """(when it was computed, report). A new text or a re-index changes the index size, hence the key."""
    folder = data_dir / "cache" / "themes"
    path = folder / f"{_key(filters, n_themes, max_texts, collection.count())}.pickle"
    if path.is_file():
        try:
            with path.open("rb") as handle:
                computed_at, report = pickle.load(handle)  # our own file, written below
            return computed_at, report
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
            path.unlink(missing_ok=True)  # unreadable or from an older version: compute again
    report = complaint_themes(engine, collection, embedder, filters, n_themes=n_themes, max_texts=max_texts)
    computed_at = datetime.now().replace(microsecond=0)
    folder.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    with partial.open("wb") as handle:
        pickle.dump((computed_at, report), handle)
    partial.replace(path)
    return computed_at, report

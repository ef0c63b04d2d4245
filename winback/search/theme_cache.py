"""Complaint themes are slow to compute on a CPU (tens of seconds: every sentence is embedded and
clustered), and they change only when the texts do. Reports are kept on disk, keyed by the filters and
the state of the index, so each one is computed once; the answer says when. Stored as JSON (mode 0600),
never as pickles: a file in the data dir must not be able to run code when read."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from winback.search.search import Snippet
from winback.search.themes import Theme, ThemeReport, complaint_themes

CACHE_VERSION = 2  # 2: JSON instead of pickle


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
    path = folder / f"{_key(filters, n_themes, max_texts, collection.count())}.json"
    if path.is_file():
        try:
            return _read(path)
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # unreadable or from an older version: compute again
    report = complaint_themes(engine, collection, embedder, filters, n_themes=n_themes, max_texts=max_texts)
    computed_at = datetime.now().replace(microsecond=0)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_suffix(".tmp")
    document = {"computed_at": computed_at.isoformat(), "report": dataclasses.asdict(report)}
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, default=str)
    partial.replace(path)
    return computed_at, report


def _read(path: Path) -> tuple[datetime, ThemeReport]:
    document = json.loads(path.read_text(encoding="utf-8"))
    raw = document["report"]
    themes = [Theme(**{**t, "examples": [Snippet(**e) for e in t["examples"]]}) for t in raw["themes"]]
    report = ThemeReport(themes, raw["total"], raw["overall_churn_rate"], raw["filters"])
    return datetime.fromisoformat(document["computed_at"]), report

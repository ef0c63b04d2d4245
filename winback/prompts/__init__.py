"""Prompt templates as files, versioned by name (`text_to_sql.v1.txt`); code asks for them by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


@cache
def load_prompt(name: str) -> str:
    """`load_prompt("text_to_sql.v1.txt")`; raises FileNotFoundError naming what exists."""
    path = FOLDER / name
    if not path.is_file() or path.parent != FOLDER:
        known = ", ".join(sorted(p.name for p in FOLDER.iterdir() if p.suffix in {".txt", ".sql", ".md"}))
        raise FileNotFoundError(f"no prompt {name!r} in {FOLDER} (have: {known})")
    return path.read_text(encoding="utf-8")

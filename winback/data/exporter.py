"""Write contract tables to CSV files in the form `winback import csv` reads back without loss."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Boolean, Engine, select

from winback.data.schema import CONTRACT_TABLES, Base


def _text(value: Any, is_json: bool) -> str:
    if value is None:
        return ""
    if is_json:
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets run as a formula (OWASP: CSV injection)


def spreadsheet_safe(text: str) -> str:
    """A cell a spreadsheet shows as text: one leading apostrophe before a formula-like start."""
    return "'" + text if text.startswith(FORMULA_START) else text


def export_csv(
    engine: Engine,
    directory: Path,
    tables: Iterable[str] = CONTRACT_TABLES,
    progress: Callable[[str, int], None] | None = None,
    spreadsheet: bool = False,
) -> dict[str, int]:
    """Export each table to `<directory>/<table>.csv` (NULL as an empty field); returns row counts. By
    default lossless (what `winback import csv` reads back); `spreadsheet` prefixes formula-like text cells
    with an apostrophe for opening in Excel or LibreOffice (not for re-import)."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    counts = {}
    for name in tables:
        table = Base.metadata.tables[name]
        json_flags = [isinstance(c.type, JSON) for c in table.columns]
        bool_flags = [isinstance(c.type, Boolean) for c in table.columns]
        rows = 0
        with engine.connect() as connection, (directory / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([c.name for c in table.columns])
            result = connection.execution_options(yield_per=10_000).execute(
                select(table).order_by(*table.primary_key.columns)
            )
            for row in result:
                cells = [
                    _text(bool(v) if b and v is not None else v, j)
                    for v, j, b in zip(row, json_flags, bool_flags, strict=True)
                ]
                if spreadsheet:
                    cells = [spreadsheet_safe(c) if isinstance(v, str) else c for c, v in zip(cells, row, strict=True)]
                writer.writerow(cells)
                rows += 1
                if progress and rows % 10_000 == 0:
                    progress(name, 10_000)
        counts[name] = rows
    return counts

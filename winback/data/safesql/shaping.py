"""Turn a result into what each reader needs: the whole table for the UI (a pandas DataFrame), a compact,
truncated text for the LLM with numbers formatted, and a hint when a chart suits the data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

TEXT_ROWS = 20  # rows the model sees; the UI gets all of them
CELL_CHARS = 60
CHART_MAX_ROWS = 60


@dataclass(frozen=True)
class ChartHint:
    kind: Literal["bar", "line"]
    x: str
    y: tuple[str, ...]


@dataclass(frozen=True)
class ShapedResult:
    frame: pd.DataFrame
    text: str
    chart: ChartHint | None
    total_rows: int
    truncated: bool  # the row cap cut the result (the database had more)


def format_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (float, Decimal)):
        number = float(value)
        if number != number:  # NaN
            return ""
        if number.is_integer() and abs(number) >= 1000:
            return f"{number:,.0f}"
        if abs(number) < 1:
            return f"{number:.4g}"
        return f"{number:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    text = " ".join(str(value).split())
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…"


def _is_numeric(series: pd.Series) -> bool:
    values = series.dropna()
    return len(values) > 0 and all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in values)


def _is_temporal(series: pd.Series, name: str) -> bool:
    values = series.dropna()
    if len(values) and all(isinstance(v, (date, datetime)) for v in values):
        return True
    looks_like_period = name.lower() in {"month", "week", "day", "date", "year", "quarter", "period"}
    return looks_like_period or (len(values) > 0 and all(isinstance(v, str) and _iso_prefix(v) for v in values))


def _iso_prefix(text: str) -> bool:
    try:
        datetime.fromisoformat(text[:10] if len(text) >= 10 else text + "-01" * (2 - text.count("-")))
        return True
    except ValueError:
        return False


def chart_hint(frame: pd.DataFrame) -> ChartHint | None:
    """A chart suits 2-60 rows with one label column (category or period) and some numeric columns."""
    if not 2 <= len(frame) <= CHART_MAX_ROWS:
        return None
    numeric = [c for c in frame.columns if _is_numeric(frame[c])]
    labels = [c for c in frame.columns if c not in numeric]
    if len(labels) != 1 or not numeric:
        return None
    x = labels[0]
    if frame[x].nunique(dropna=False) != len(frame):
        return None  # repeated labels: a long table, not a series
    kind: Literal["bar", "line"] = "line" if _is_temporal(frame[x], str(x)) else "bar"
    return ChartHint(kind, str(x), tuple(str(c) for c in numeric[:4]))


def render_text(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], total: int, truncated: bool, max_rows: int = TEXT_ROWS
) -> str:
    if not rows:
        return "(no rows)"
    lines = [" | ".join(columns)]
    lines += [" | ".join(format_value(v) for v in row) for row in rows[:max_rows]]
    if total > max_rows:
        lines.append(f"(showing {max_rows} of {total:,} rows; the full table is shown to the user)")
    if truncated:
        lines.append(f"(the result was cut at {total:,} rows by the row cap)")
    return "\n".join(lines)


def shape_result(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], truncated: bool = False, max_text_rows: int = TEXT_ROWS
) -> ShapedResult:
    frame = pd.DataFrame([list(r) for r in rows], columns=list(columns))
    return ShapedResult(
        frame=frame,
        text=render_text(columns, rows, len(rows), truncated, max_text_rows),
        chart=chart_hint(frame),
        total_rows=len(rows),
        truncated=truncated,
    )

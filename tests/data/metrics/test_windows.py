"""Calendar windows resolve against the data's reference date: "last quarter" is the calendar quarter
before the reference date's, as "last month" is the month before."""

from __future__ import annotations

from datetime import date

import pytest

from winback.data.metrics import Window
from winback.data.metrics.windows import resolve, window_words


@pytest.mark.parametrize(
    ("kind", "reference", "start", "end"),
    [
        ("last_quarter", date(2026, 10, 31), date(2026, 7, 1), date(2026, 9, 30)),
        ("last_quarter", date(2026, 2, 14), date(2025, 10, 1), date(2025, 12, 31)),
        ("this_quarter", date(2026, 10, 31), date(2026, 10, 1), date(2026, 10, 31)),
        ("this_quarter", date(2026, 6, 30), date(2026, 4, 1), date(2026, 6, 30)),
        ("last_month", date(2026, 1, 15), date(2025, 12, 1), date(2025, 12, 31)),
    ],
)
def test_calendar_windows(kind: str, reference: date, start: date, end: date) -> None:
    span = resolve(Window(kind=kind), reference)  # type: ignore[arg-type]  # kinds from the parametrize
    assert span is not None and (span.start, span.end) == (start, end)
    assert window_words(Window(kind=kind)) == kind.replace("_", " ")  # type: ignore[arg-type]

"""Time windows as dates: relative windows count back from the data's reference date (the latest order),
so a demo shop frozen in October answers "last month" with September, as a live shop answers with the
month before today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from winback.data.metrics.query import Window


@dataclass(frozen=True)
class Span:
    start: date | None  # first day included; None: from the beginning
    end: date  # last day included

    @property
    def end_exclusive(self) -> date:
        return self.end + timedelta(days=1)

    def words(self) -> str:
        return f"{self.start:%Y-%m-%d} → {self.end:%Y-%m-%d}" if self.start else f"up to {self.end:%Y-%m-%d}"


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


def _month_end(year: int, month: int) -> date:
    return date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)


def window_words(window: Window) -> str:
    """How an answer names the window ("last 90 days", "2025", "all time")."""
    n = window.n or 0
    return {
        "all": "all time",
        "last_days": f"last {n} day{'s' * (n != 1)}",
        "last_months": f"last {n} month{'s' * (n != 1)}",
        "this_month": "this month",
        "last_month": "last month",
        "this_quarter": "this quarter",
        "last_quarter": "last quarter",
        "this_year": "this year",
        "last_year": "last year",
        "year": str(window.year),
        "month": f"{window.year}-{window.month or 0:02d}",
        "between": f"since {window.start}" if window.end is None else f"{window.start} to {window.end}",
    }[window.kind]


def resolve(window: Window, reference: datetime | date) -> Span | None:
    """The days a window covers (None for all time). Windows never run past the reference date."""
    today = reference.date() if isinstance(reference, datetime) else reference
    kind = window.kind
    if kind == "all":
        return None
    if kind == "last_days":
        assert window.n is not None
        span = Span(today - timedelta(days=window.n), today)
    elif kind == "last_months":
        assert window.n is not None
        span = Span(_months_back(today, window.n), today)
    elif kind == "this_month":
        span = Span(today.replace(day=1), today)
    elif kind == "last_month":
        first = _months_back(today.replace(day=1), 1)
        span = Span(first, _month_end(first.year, first.month))
    elif kind in ("this_quarter", "last_quarter"):  # calendar quarters, as "last month" is a calendar month
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if kind == "last_quarter":
            first = _months_back(first, 3)
        span = Span(first, _month_end(first.year, first.month + 2))
    elif kind == "this_year":
        span = Span(date(today.year, 1, 1), today)
    elif kind == "last_year":
        span = Span(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))
    elif kind == "year":
        assert window.year is not None
        span = Span(date(window.year, 1, 1), date(window.year, 12, 31))
    elif kind == "month":
        assert window.year is not None and window.month is not None
        span = Span(date(window.year, window.month, 1), _month_end(window.year, window.month))
    else:  # between
        assert window.start is not None
        span = Span(window.start, window.end or today)
    return Span(span.start, min(span.end, today))

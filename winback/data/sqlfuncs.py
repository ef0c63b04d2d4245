"""Portable SQL expressions that SQLite and PostgreSQL spell differently, and values they return differently."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch_days(FunctionElement):
    """A timestamp as fractional days since an epoch, so lateness can be averaged in SQL on any dialect."""

    type = Float()
    inherit_cache = True


@compiles(epoch_days, "sqlite")
def _epoch_days_sqlite(element, compiler, **kw):
    return f"julianday({compiler.process(element.clauses, **kw)})"


@compiles(epoch_days, "postgresql")
def _epoch_days_postgresql(element, compiler, **kw):
    return f"(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) / 86400.0)"


def as_datetime(value: Any) -> datetime | None:
    """A timestamp as datetime: SQLite returns aggregates (MAX, subqueries) of timestamps as text."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    return datetime.fromisoformat(str(value))

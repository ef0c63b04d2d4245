"""The one path for SQL that a model (or a person) wrote: count the call against the user's rate,
validate (first filter), run where the database refuses what the role may not read, shape the result.
Used by `winback sql` and by the text-to-SQL tool."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from winback.config import Settings
from winback.data.safesql.guard import CheckedQuery, check_sql
from winback.data.safesql.limits import limiter
from winback.data.safesql.readonly import ReadOnlyDatabase, readonly_engine, run_readonly
from winback.data.safesql.shaping import ShapedResult, shape_result
from winback.roles import Role, may_see_pii


@dataclass(frozen=True)
class GuardedResult:
    checked: CheckedQuery  # the statement as it ran (LIMIT applied)
    result: ShapedResult
    seconds: float
    cut_by: str = ""  # why rows are missing ("cut by the row cap", "only part of the result: ..."); "" if none


def dialect_of(url: str) -> str:
    return "postgresql" if url.startswith("postgres") else "sqlite"


@lru_cache(maxsize=8)
def _reader(url: str, timeout_s: float) -> ReadOnlyDatabase:
    return readonly_engine(url, timeout_s)


def run_guarded(
    settings: Settings,
    statement: str,
    role: str | Role,
    max_rows: int | None = None,
    timeout_s: float | None = None,
    user: str | None = None,
    rate_limited: bool = True,
) -> GuardedResult:
    """Raises SqlRefused (the statement may not run), RateLimited, or QueryFailed/QueryTimeout (the
    database stopped it). `user` is counted against WINBACK_SQL_CALLS_PER_MINUTE (default: the role);
    `rate_limited=False` for statements code built from a governed definition (the metrics layer), whose
    cost is bounded like a named lookup's."""
    url = settings.readonly_database_url or settings.database_url
    cap = min(max_rows or settings.sql_max_rows, settings.sql_max_rows)
    timeout = timeout_s or settings.sql_timeout_s
    checked = check_sql(statement, dialect_of(url), role, cap)
    if rate_limited:
        limiter(settings.sql_calls_per_minute).take(user or f"role:{role}")
    raw = run_readonly(
        _reader(url, timeout),
        checked.sql,
        checked.limit,
        timeout,
        may_see_pii(role),
        settings.sql_max_value_bytes,
        settings.sql_max_result_bytes,
    )
    cut_by = ""
    if raw.truncated:
        cut_by = (
            f"only part of the result: it is over the {settings.sql_max_result_bytes / 1e6:g} MB size cap; "
            "narrow the query (a filter, a date range or fewer columns)"
            if raw.bytes_capped
            else "cut by the row cap"
        )
    return GuardedResult(checked, shape_result(raw.columns, raw.rows, raw.truncated), raw.seconds, cut_by)

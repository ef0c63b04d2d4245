"""Run checked SELECTs on a connection that cannot write, with a time limit and a row cap.

The second wall after winback.data.safesql.guard: SQLite is opened read-only (`mode=ro`) with `query_only`
on, PostgreSQL sessions default to read-only transactions. A query running past the timeout is
interrupted (SQLite progress handler, PostgreSQL statement_timeout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from winback.errors import UserError

DEFAULT_TIMEOUT_S = 5.0


class QueryFailed(UserError, RuntimeError):
    """The database refused or could not finish the query (including timeouts)."""


class QueryTimeout(QueryFailed):
    pass


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    seconds: float


def readonly_engine(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:":
            raise QueryFailed("a read-only connection needs a SQLite file, not an in-memory database")
        engine = create_engine(f"sqlite:///file:{Path(database).resolve()}?mode=ro&uri=true")

        @event.listens_for(engine, "connect")
        def _query_only(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA query_only = ON")

        return engine
    options = f"-c default_transaction_read_only=on -c statement_timeout={int(timeout_s * 1000)}"
    return create_engine(url, connect_args={"options": options}, pool_pre_ping=True)


def run_readonly(engine: Engine, sql: str, max_rows: int, timeout_s: float = DEFAULT_TIMEOUT_S) -> QueryResult:
    started = time.perf_counter()
    deadline = started + timeout_s
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                raw = connection.connection.driver_connection
                raw.set_progress_handler(lambda: 1 if time.perf_counter() > deadline else 0, 10_000)  # type: ignore[union-attr]  # sqlite3 connection
            else:
                connection.execute(text("SET TRANSACTION READ ONLY"))
            result = connection.execute(text(sql))
            columns = list(result.keys())
            rows = [tuple(r) for r in result.fetchmany(max_rows + 1)]
            connection.rollback()
    except DBAPIError as exc:
        message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if "interrupted" in message or "statement timeout" in message or "canceling statement" in message:
            raise QueryTimeout(f"the query ran longer than {timeout_s:g} s and was stopped") from None
        raise QueryFailed(f"the database refused the query: {message}") from None
    return QueryResult(columns, rows[:max_rows], len(rows) > max_rows, time.perf_counter() - started)

"""Run checked SELECTs where the database itself refuses what the caller's role may not read.

SQLite: a connection whose own database holds nothing but one view per contract table with the columns the
caller's level may read (personal columns do not exist there for roles without personal data), over the shop
file attached read-only under a random schema name; `query_only`; the role's authorizer installed for each
statement (winback.data.safesql.sqlite_authorizer: reads only through those views, an allow-list of
functions, no ATTACH or PRAGMA); engine length limits; a progress handler as the clock.

PostgreSQL: each statement in its own read-only transaction with `SET LOCAL` statement_timeout, work_mem
and `ROLE` to the reader of the caller's visibility level (winback.data.safesql.reader_roles), never as
the application's role; refused in one line when those roles are missing. Rows come through a server-side
cursor, so at most the row cap ever arrives; every value is cut to the byte cap as it is fetched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from winback.data.safesql.errors import describe_database_error
from winback.data.safesql.reader_roles import reader_for, readers_problem
from winback.data.safesql.sqlite_authorizer import authorizer, walled_connection
from winback.errors import UserError

DEFAULT_TIMEOUT_S = 5.0
DEFAULT_VALUE_BYTES = 10_000
DEFAULT_RESULT_BYTES = 16_000_000
ROW_BUFFER = 20  # rows a PostgreSQL server-side cursor hands over at a time
WORK_MEM = "16MB"


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
    values_cut: int = 0  # values longer than the byte cap, cut as they were fetched
    bytes_capped: bool = False  # rows stopped at the result's byte cap (before the row cap)


@dataclass
class ReadOnlyDatabase:
    """Where free SQL runs: one engine per visibility level on SQLite (each connection shows its level's
    columns only), one on PostgreSQL (the level is the role each statement runs as)."""

    url: str
    timeout_s: float
    dialect: str = field(init=False)  # "sqlite" or "postgresql", read once from the URL
    _engines: dict[bool, Engine] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dialect = make_url(self.url).get_backend_name()

    def engine(self, personal_data: bool) -> Engine:
        key = personal_data if self.dialect == "sqlite" else True
        if key not in self._engines:
            self._engines[key] = self._make(personal_data)
        return self._engines[key]

    def _make(self, personal_data: bool) -> Engine:
        if self.dialect == "sqlite":
            database = make_url(self.url).database or ""
            if not database or database == ":memory:":
                raise QueryFailed("a read-only connection needs a SQLite file, not an in-memory database")
            path = Path(database).resolve()
            return create_engine("sqlite://", creator=lambda: walled_connection(path, personal_data))
        options = f"-c default_transaction_read_only=on -c statement_timeout={int(self.timeout_s * 1000)}"
        return create_engine(self.url, connect_args={"options": options}, pool_pre_ping=True)

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()


def readonly_engine(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> ReadOnlyDatabase:
    """The read-only database free SQL runs against (engines made on first use)."""
    database = ReadOnlyDatabase(url, timeout_s)
    if database.dialect == "sqlite":
        database.engine(False)  # a bad URL (an in-memory database) fails here, not at the first query
    return database


def cut_value(value: Any, max_bytes: int) -> tuple[Any, bool]:
    """A text or bytes value no longer than max_bytes (UTF-8), and whether it was cut."""
    if isinstance(value, str):
        if len(value) * 4 <= max_bytes or len(value.encode()) <= max_bytes:
            return value, False
        return value.encode()[: max_bytes - 3].decode(errors="ignore") + "…", True
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        return (raw, False) if len(raw) <= max_bytes else (raw[:max_bytes], True)
    if isinstance(value, (dict, list)):
        return cut_value(str(value), max_bytes)
    return value, False


def run_readonly(
    database: ReadOnlyDatabase,
    sql: str,
    max_rows: int,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    personal_data: bool = False,
    max_value_bytes: int = DEFAULT_VALUE_BYTES,
    max_result_bytes: int = DEFAULT_RESULT_BYTES,
) -> QueryResult:
    """Run one checked statement as a reader of the given visibility level (personal data or not)."""
    started = time.perf_counter()
    engine = database.engine(personal_data)
    fetch = _Fetch(max_rows, max_value_bytes, max_result_bytes)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                columns = _run_sqlite(connection, sql, fetch, started + timeout_s, personal_data)
            else:
                columns = _run_postgres(connection, sql, fetch, timeout_s, personal_data)
    except DBAPIError as exc:
        category = describe_database_error(exc.orig, personal_data)
        if category.timeout:
            raise QueryTimeout(f"the query ran longer than {timeout_s:g} s and was stopped") from None
        raise QueryFailed(f"the database refused the query: {category.message}") from None
    return QueryResult(
        columns, fetch.rows, fetch.truncated, time.perf_counter() - started, fetch.values_cut, fetch.bytes_capped
    )


@dataclass
class _Fetch:
    """Rows taken one at a time, each value cut to the value cap as it arrives, until the row cap or the
    result's byte cap: at most one row's raw values are ever held beyond what is kept."""

    max_rows: int
    max_value_bytes: int
    max_result_bytes: int
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    values_cut: int = 0
    bytes_capped: bool = False
    _bytes: int = 0

    def take(self, result: Any) -> None:
        while (row := result.fetchone()) is not None:
            if len(self.rows) >= self.max_rows:
                self.truncated = True
                return
            values = []
            for value in row:
                shortened, was_cut = cut_value(value, self.max_value_bytes)
                values.append(shortened)
                self.values_cut += was_cut
                self._bytes += _size(shortened)
            if self._bytes > self.max_result_bytes:
                self.truncated = self.bytes_capped = True
                return
            self.rows.append(tuple(values))


def _size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return 16


def _run_sqlite(connection: Connection, sql: str, fetch: _Fetch, deadline: float, personal_data: bool) -> list[str]:
    raw: Any = connection.connection.driver_connection  # the sqlite3 connection
    raw.set_progress_handler(lambda: 1 if time.perf_counter() > deadline else 0, 10_000)
    raw.set_authorizer(authorizer(personal_data, raw.shop_schema))  # each statement is authorized anew
    try:
        result = connection.execute(text(sql))
        columns = list(result.keys())
        fetch.take(result)
        result.close()
        connection.rollback()
    finally:
        raw.set_authorizer(None)
        raw.set_progress_handler(None, 0)
    return columns


def _run_postgres(connection: Connection, sql: str, fetch: _Fetch, timeout_s: float, personal_data: bool) -> list[str]:
    problem = readers_problem(connection)
    if problem:
        connection.rollback()
        raise QueryFailed(problem)
    connection.rollback()
    reader = reader_for(personal_data)
    connection.execute(text("SET TRANSACTION READ ONLY"))
    connection.execute(text(f"SET LOCAL statement_timeout = {max(int(timeout_s * 1000), 1)}"))
    connection.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    connection.execute(text("SET LOCAL idle_in_transaction_session_timeout = 60000"))
    connection.execute(text(f"SET LOCAL ROLE {reader}"))
    # a server-side cursor: no more than the cap ever leaves the server; one statement per call
    result = connection.execution_options(stream_results=True, max_row_buffer=ROW_BUFFER).execute(text(sql))
    columns = list(result.keys())
    fetch.take(result)
    result.close()
    still = connection.execute(text("SELECT current_user")).scalar_one()
    connection.rollback()
    if still != reader:  # the statement changed its own role: nothing it read leaves
        raise QueryFailed(f"the query changed the database role (to {still}); its result was discarded")
    return columns

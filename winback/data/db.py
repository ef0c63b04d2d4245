"""Engines and sessions for the configured database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url

from winback.config import Settings, get_settings
from winback.data.private import private_file
from winback.data.schema import CONTRACT_TABLES
from winback.errors import UserError


class DatabaseError(UserError, RuntimeError):
    """A database problem stated in one line for the user (not a bug in winback)."""


def _on_sqlite_connect(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT (a rolled-back savepoint could still be
    # committed): turn it off and let SQLAlchemy emit BEGIN itself (see _on_sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (UI, agent) never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _on_sqlite_begin(connection) -> None:
    # a transaction that reads then writes must take the write lock first (BEGIN IMMEDIATE, waiting up to
    # the driver's 5 s busy timeout): a deferred one fails at once when another writer got there between
    mode = connection.get_execution_options().get("sqlite_begin", "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction for read-then-write work done by many sessions at once (chat turns, offer decisions):
    on SQLite it holds the write lock from the start, so concurrent writers queue instead of failing."""
    with engine.connect().execution_options(sqlite_begin="IMMEDIATE") as connection, connection.begin():
        yield connection


def make_engine(url: str | None = None, settings: Settings | None = None) -> Engine:
    """An engine for `url` (default: the configured database); creates the SQLite file, private to its owner."""
    url = url or (settings or get_settings()).database_url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            private_file(Path(parsed.database))  # personal data: 0600 in a 0700 folder
        engine = create_engine(url, connect_args={"timeout": 15})  # seconds a writer waits for the lock
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def missing_contract_tables(engine: Engine) -> list[str]:
    present = set(inspect(engine).get_table_names())
    return [t for t in CONTRACT_TABLES if t not in present]


def require_contract(engine: Engine) -> None:
    """Raise a one-line error when the database has not been migrated."""
    missing = missing_contract_tables(engine)
    if missing:
        raise DatabaseError(
            f"database {engine.url.render_as_string(hide_password=True)} lacks tables {', '.join(missing)}; "
            "run `winback db upgrade` first"
        )


def refresh_planner_statistics(engine: Engine, tables: Sequence[str]) -> None:
    """ANALYZE after a bulk write, so the planner picks the ranking indexes (SQLite has no auto-analyze)."""
    with engine.begin() as connection:
        for name in tables:
            connection.exec_driver_sql(f'ANALYZE "{name}"')

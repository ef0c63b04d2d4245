"""The SQLite engine's own wall for free SQL: an authorizer (`Connection.set_authorizer`) that SQLite asks
while it compiles each statement, with the *resolved* table and column names, so aliases, CTEs, subqueries
and views cannot hide what is read.

Allowed: SELECT; reading the contract tables (personal columns only for roles that see personal data, in
any clause: select list, WHERE, JOIN, ORDER BY, GROUP BY); the functions in SQLITE_FUNCTIONS; recursive CTEs
(bounded by the time limit and row cap). Everything else is denied: ATTACH, PRAGMA, writes, DDL,
transactions, other tables (sqlite_master, chat tables, demo_truth), and every other function (randomblob,
zeroblob, printf, load_extension, ...). Length limits (`setlimit`) cap the bytes of any value SQLite builds.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from winback.data.schema import CONTRACT_TABLES, PERSONAL_COLUMNS

MAX_VALUE_BYTES = 1_000_000  # SQLITE_LIMIT_LENGTH on the reader connection: no string or blob larger
MAX_SQL_BYTES = 100_000

# scalar, aggregate and window functions a read-only analytical query needs; nothing that allocates on
# demand (randomblob, zeroblob, printf/format with a width), reads files or touches the connection
SQLITE_FUNCTIONS = frozenset(
    {
        # aggregates
        "count",
        "sum",
        "total",
        "avg",
        "min",
        "max",
        "group_concat",
        "string_agg",
        # windows
        "row_number",
        "rank",
        "dense_rank",
        "percent_rank",
        "cume_dist",
        "ntile",
        "lag",
        "lead",
        "first_value",
        "last_value",
        "nth_value",
        # scalars
        "abs",
        "round",
        "coalesce",
        "ifnull",
        "nullif",
        "iif",
        "lower",
        "upper",
        "length",
        "substr",
        "substring",
        "trim",
        "ltrim",
        "rtrim",
        "replace",
        "instr",
        "like",
        "glob",
        "typeof",
        "sign",
        "floor",
        "ceil",
        "ceiling",
        "sqrt",
        "pow",
        "power",
        "exp",
        "ln",
        "log",
        "log10",
        "log2",
        "mod",
        "trunc",
        "date",
        "time",
        "datetime",
        "julianday",
        "unixepoch",
        "strftime",
        "json_extract",
        "json_array_length",
        "json_type",
        "json_valid",
    }
)

_TABLES = frozenset(CONTRACT_TABLES)
_PERSONAL = frozenset((table, column) for table, columns in PERSONAL_COLUMNS.items() for column in columns)

Authorizer = Callable[[int, str | None, str | None, str | None, str | None], int]


def authorizer(personal_data: bool) -> Authorizer:
    """An authorizer for one data-visibility level (personal data or not)."""

    def authorize(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
        if action == sqlite3.SQLITE_SELECT:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            table, column = (arg1 or "").lower(), (arg2 or "").lower()
            if table not in _TABLES:
                return sqlite3.SQLITE_DENY
            if not personal_data and (table, column) in _PERSONAL:
                return sqlite3.SQLITE_DENY
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            return sqlite3.SQLITE_OK if (arg2 or "").lower() in SQLITE_FUNCTIONS else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_RECURSIVE:
            return sqlite3.SQLITE_OK
        return sqlite3.SQLITE_DENY

    return authorize


def limit_connection(connection: sqlite3.Connection) -> None:
    """Engine limits on the reader connection: value size, statement size, expression depth."""
    connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    connection.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    connection.setlimit(sqlite3.SQLITE_LIMIT_EXPR_DEPTH, 200)
    connection.setlimit(sqlite3.SQLITE_LIMIT_COMPOUND_SELECT, 50)
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)

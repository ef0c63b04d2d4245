"""The SQLite engine's own walls for free SQL.

Structure first (`walled_connection`): free SQL runs on a connection to an empty in-memory database whose only
objects are TEMP views, one per contract table (so `customers` means the view), each with only the columns
the caller's level may read, and an empty one over each of the shop's other tables (an unqualified name SQLite
finds in no other schema is looked up in the attached ones); the shop file is attached read-only under a random
schema name the statement cannot know. For a role
without personal data, names and e-mails, offer texts and the like do not exist on that connection: no clause
shape can read or compare them (SQLite resolves the columns of NATURAL JOIN and JOIN ... USING without asking
the authorizer, so a rule on reads alone would not hold), and the chat tables, demo_truth and sqlite_master
of the shop are not there at all.

Then the authorizer (`Connection.set_authorizer`), which SQLite asks while it compiles each statement with the
*resolved* table and column names: allowed are SELECT; reading the views, and the attached tables only through
them (or a bare row count, which reads no column); the functions in SQLITE_FUNCTIONS; recursive CTEs (bounded by
the time limit and row cap). Everything else is denied: ATTACH, PRAGMA, writes, DDL, transactions, and every
other function (randomblob, zeroblob, printf, load_extension, ...). Length limits (`setlimit`) cap the bytes of
any value SQLite builds.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable
from pathlib import Path

from winback.data.schema import CONTRACT_TABLES, PERSONAL_COLUMNS

MAX_VALUE_BYTES = 1_000_000  # SQLITE_LIMIT_LENGTH on the reader connection: no string or blob larger
MAX_SQL_BYTES = 100_000
MAX_COLUMNS = 100  # SQLITE_LIMIT_COLUMN: columns of a result (the widest contract table has fewer than 30)

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


class WalledConnection(sqlite3.Connection):
    """A sqlite3 connection that knows the schema name its shop file is attached under."""

    shop_schema: str = ""


def walled_connection(path: Path, personal_data: bool) -> WalledConnection:
    """A read-only connection to the shop file at `path` that shows the contract tables as views with the
    columns of one visibility level only (see the module's docstring)."""
    connection = sqlite3.connect("file::memory:", uri=True, factory=WalledConnection, check_same_thread=False)
    schema = f"shop_{secrets.token_hex(16)}"
    connection.execute(f"ATTACH DATABASE ? AS {schema}", (f"{path.as_uri()}?mode=ro",))
    for table in CONTRACT_TABLES:
        present = [row[1] for row in connection.execute(f'PRAGMA {schema}.table_info("{table}")')]
        visible = [c for c in present if personal_data or (table, c.lower()) not in _PERSONAL]
        if visible:
            columns = ", ".join(f'"{c}"' for c in visible)
            connection.execute(f'CREATE TEMP VIEW "{table}" AS SELECT {columns} FROM {schema}."{table}"')
    # an unqualified name not found in temp or main is looked up in attached databases too: every other
    # table of the shop (chat, users, demo_truth, ...) is shadowed by an empty view of NULLs under its column
    # names (so reading one is refused by name by the authorizer, and no value of the table is behind it)
    others = connection.execute(
        f"SELECT name FROM {schema}.sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite%'"
    )
    for (name,) in others.fetchall():
        if name.lower() not in _TABLES:
            names = [row[1] for row in connection.execute(f"PRAGMA {schema}.table_info({_quoted(name)})")]
            nulls = ", ".join(f"NULL AS {_quoted(column)}" for column in names) or "NULL"
            connection.execute(f"CREATE TEMP VIEW {_quoted(name)} AS SELECT {nulls} WHERE 0")
    connection.execute("PRAGMA query_only = ON")
    limit_connection(connection)
    connection.shop_schema = schema
    return connection


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def authorizer(personal_data: bool, shop_schema: str) -> Authorizer:
    """An authorizer for one data-visibility level (personal data or not) on a walled connection whose shop
    file is attached as `shop_schema`."""

    def authorize(action: int, arg1: str | None, arg2: str | None, db: str | None, view: str | None) -> int:
        if action == sqlite3.SQLITE_SELECT:
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_READ:
            table, column = (arg1 or "").lower(), (arg2 or "").lower()
            if table not in _TABLES:
                return sqlite3.SQLITE_DENY
            if not personal_data and (table, column) in _PERSONAL:
                return sqlite3.SQLITE_DENY
            if db == "temp":  # a column of one of the views
                return sqlite3.SQLITE_OK
            if db == shop_schema and (view is not None or column == ""):  # through a view, or a row count
                return sqlite3.SQLITE_OK
            return sqlite3.SQLITE_DENY
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
    connection.setlimit(sqlite3.SQLITE_LIMIT_COLUMN, MAX_COLUMNS)  # one row's raw values: at most this x 1 MB
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)

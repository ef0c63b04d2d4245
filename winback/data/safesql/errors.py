"""Database errors as categories a model can repair from, with no data values in them.

Database messages echo values (`invalid input syntax for type integer: "Jane Doe"`), so for roles without
personal data only the error's category and the identifiers the statement itself wrote (an unknown
column, a table it may not read) come back. Roles that see personal data get the database's first line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from winback.data.schema import PERSONAL_COLUMNS

# PostgreSQL SQLSTATE classes and codes (Appendix A of its manual) -> what to say
_POSTGRES_CODES = {
    "57014": "timeout",
    "42501": "the role may not read that",
    "42703": "unknown column",
    "42P01": "unknown table",
    "42883": "unknown function, or wrong argument types",
    "42601": "syntax error",
    "42803": "grouping error: a selected column must be in GROUP BY or inside an aggregate",
    "42804": "type mismatch",
    "42P10": "invalid column reference",
    "54000": "a value or statement exceeds a database limit",
    "54001": "the statement is too complex",
    "53200": "the query needs more memory than it may use",
    "53400": "the query exceeds a configured limit",
    "25006": "queries may only read",
}
_POSTGRES_CLASSES = {
    "22": "a value could not be converted or computed (check types and casts)",
    "42": "the statement is not valid for this schema",
    "53": "the query needs more resources than it may use",
    "54": "the query exceeds a database limit",
    "0A": "a feature that is not supported here",
    "21": "a subquery returned more than one row",
}
# SQLite: message patterns (its errors have no codes in Python's sqlite3) -> category, keeping names only
_SQLITE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^interrupted"), "timeout"),
    (re.compile(r"^access to ([\w.]+) is prohibited"), "the role may not read {0}"),
    (re.compile(r"^not authorized"), "the role may not run that (a table, column or function outside what it may use)"),
    (re.compile(r"^no such column: ([\w.]+)$"), "unknown column {0}"),
    (re.compile(r"^no such table: ([\w.]+)$"), "unknown table {0}"),
    (re.compile(r"^no such function: (\w+)$"), "unknown function {0}"),
    (re.compile(r"^(?:near .*: )?syntax error"), "syntax error"),
    (re.compile(r"^string or blob too big"), "a value exceeds the size limit"),
    (re.compile(r"^ambiguous column name: ([\w.]+)$"), "ambiguous column name {0}"),
    (re.compile(r"^misuse of aggregate"), "an aggregate is used where it may not be"),
    (re.compile(r"^wrong number of arguments to function (\w+)"), "wrong number of arguments to function {0}"),
    (re.compile(r"^attempt to write a readonly database"), "queries may only read"),
)
_PERSONAL_NAMES = frozenset(column for columns in PERSONAL_COLUMNS.values() for column in columns)
_IDENTIFIER = re.compile(r'(?:column|relation|table|function) "?([\w.]+)"?')


@dataclass(frozen=True)
class ErrorCategory:
    message: str
    timeout: bool = False


def describe_database_error(error: BaseException | None, personal_data: bool) -> ErrorCategory:
    """One line about why the database stopped the statement, values kept out unless `personal_data`."""
    text = (str(error) if error is not None else "").strip()
    first = text.splitlines()[0] if text else "unknown error"
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate:
        if sqlstate == "57014":
            return ErrorCategory("timeout", timeout=True)
        if personal_data:
            return ErrorCategory(first)
        said = _POSTGRES_CODES.get(sqlstate) or _POSTGRES_CLASSES.get(sqlstate[:2], "the query failed")
        named = _IDENTIFIER.search(first) if sqlstate in {"42501", "42703", "42P01", "42883"} else None
        return ErrorCategory(f"{said}: {named.group(1)}" if named else said)
    for pattern, said in _SQLITE_PATTERNS:
        match = pattern.search(first)
        if match:
            if said == "timeout":
                return ErrorCategory("timeout", timeout=True)
            if personal_data:
                return ErrorCategory(first)
            if said.startswith("unknown column") and match.group(1).rsplit(".", 1)[-1].lower() in _PERSONAL_NAMES:
                # on SQLite a role without personal data reads views that lack these columns (sqlite_authorizer)
                return ErrorCategory(f"the role may not read {match.group(1)} (personal data)")
            return ErrorCategory(said.format(*match.groups()))
    return ErrorCategory(first if personal_data else "the query failed (" + type(error).__name__ + ")")

"""Validate SQL written by a model (or a person) before it may run: one read-only query over the contract.

Parsed with sqlglot in the target dialect and checked on the syntax tree, never by keywords: exactly one
statement; a SELECT (or UNION/INTERSECT/EXCEPT of SELECTs, with CTEs); no data-modifying node anywhere
(a `WITH d AS (DELETE ...)`, `SELECT ... INTO`); only the contract tables (no system catalogs); no function
with side effects or that sleeps; personal columns only for roles allowed to see them; a LIMIT enforced.
A refusal says why in one line the caller (or the model) can act on. This is the first wall; the second
is the read-only connection the query runs on (winback.data.safesql.readonly).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from winback.data.schema import CONTRACT_TABLES
from winback.errors import UserError
from winback.roles import Role, UnknownRole, may_see_pii

ALLOWED_TABLES = frozenset(CONTRACT_TABLES)
PII_COLUMNS = frozenset({"name", "email"})  # customers.name, customers.email
DEFAULT_MAX_ROWS = 1_000

FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "DML",
        "DDL",
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Drop",
        "Create",
        "Alter",
        "Command",
        "Pragma",
        "Attach",
        "Detach",
        "Copy",
        "Into",
        "Transaction",
        "Commit",
        "Rollback",
        "Set",
        "Use",
        "Grant",
        "Revoke",
        "LoadData",
        "Cache",
        "Uncache",
        "Refresh",
        "Analyze",
        "Describe",
        "Kill",
        "Lock",
    )
    if hasattr(exp, name)
)
FORBIDDEN_FUNCTIONS = frozenset(
    {
        "sleep",
        "pg_sleep",
        "pg_sleep_for",
        "pg_sleep_until",
        "load_extension",
        "readfile",
        "writefile",
        "edit",
        "randomblob",
        "zeroblob",
        "set_config",
        "current_setting",
        "nextval",
        "setval",
        "txid_current",
        "lo_import",
        "lo_export",
        "lo_unlink",
        "dblink",
        "dblink_exec",
        "query_to_xml",
        "table_to_xml",
        "generate_series",
        "benchmark",
        "fts3_tokenizer",
        "copy",
        "pg_terminate_backend",
        "pg_cancel_backend",
    }
)
FORBIDDEN_PREFIXES = ("pg_", "sqlite_", "lo_", "dblink", "xp_")


class SqlRefused(UserError, ValueError):
    """The statement may not run; the message is the reason, in one line."""


@dataclass(frozen=True)
class CheckedQuery:
    sql: str  # what will run: the validated statement, LIMIT applied, rendered in the dialect
    tables: tuple[str, ...]
    limit: int


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def check_sql(
    sql: str, dialect: str, role: str | Role = Role.MANAGER, max_rows: int = DEFAULT_MAX_ROWS
) -> CheckedQuery:
    """Return the statement ready to run, or raise SqlRefused with the reason."""
    try:
        hide_pii = not may_see_pii(role)
    except UnknownRole as exc:
        raise SqlRefused(str(exc)) from None
    role = str(role)
    if not sql or not sql.strip():
        raise SqlRefused("empty statement")
    read = "postgres" if dialect.startswith("postgres") else dialect
    try:
        statements = [s for s in sqlglot.parse(sql, read=read) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "syntax error"
        raise SqlRefused(f"could not parse the statement as {read} SQL: {first}") from None
    if len(statements) != 1:
        raise SqlRefused(f"exactly one statement is allowed, found {len(statements)}")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise SqlRefused(f"only SELECT queries are allowed, not {tree.key.upper()}")

    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    # PostgreSQL reads a bare table name or alias as the whole row (`SELECT to_json(c) FROM customers c`)
    customer_row_names = {t.alias_or_name.lower() for t in tree.find_all(exp.Table) if t.name.lower() == "customers"}
    tables: set[str] = set()
    personal: str | None = None  # reported after structural problems, which matter more
    for node in tree.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise SqlRefused(f"{node.key.upper()} is not allowed: queries may only read")
        if isinstance(node, exp.Table):
            if isinstance(node.this, exp.Func):
                raise SqlRefused(f"table function {_function_name(node.this)}() is not allowed")
            name = node.name.lower()
            schema = (node.db or "").lower()
            if schema and schema not in {"public", "main"}:
                raise SqlRefused(f"table {schema}.{name} is outside the data contract")
            if name in cte_names and not schema:
                continue
            if name not in ALLOWED_TABLES:
                raise SqlRefused(f"table {name!r} is not available; use: {', '.join(sorted(ALLOWED_TABLES))}")
            tables.add(name)
        elif isinstance(node, exp.Func):
            fname = _function_name(node)
            if fname in FORBIDDEN_FUNCTIONS or fname.startswith(FORBIDDEN_PREFIXES):
                raise SqlRefused(f"function {fname}() is not allowed")
        elif isinstance(node, exp.Column) and hide_pii and node.name.lower() in PII_COLUMNS:
            personal = personal or (
                f"column {node.name} is personal data that role {role!r} may not see; use customer_id instead"
            )
        elif (
            isinstance(node, exp.Column)
            and hide_pii
            and not node.table
            and node.name.lower() in customer_row_names
            and not isinstance(node.this, exp.Star)
            and not _sorts_or_groups_by_output_name(node)
        ):
            personal = personal or (
                f"{node.name} names a whole customers row, which holds personal data that role {role!r} may not see"
            )
        elif isinstance(node, exp.Star) and hide_pii and _is_projection(node) and "customers" in _tables_in_scope(node):
            personal = personal or (
                f"SELECT * over customers would include personal data that role {role!r} may not see; name the columns"
            )
    if personal:
        raise SqlRefused(personal)
    if not tables:
        raise SqlRefused("the query reads no table of the data contract")

    limit = max_rows
    if isinstance(tree, exp.Select):
        current = tree.args.get("limit")
        if current is not None:
            try:
                asked = int(current.expression.this) if current.expression is not None else max_rows
            except (TypeError, ValueError, AttributeError):
                raise SqlRefused("LIMIT must be a plain number") from None
            limit = min(max(asked, 0), max_rows)
        tree = tree.limit(limit)
    else:
        tree = exp.select("*").from_(tree.subquery("q")).limit(limit)
    return CheckedQuery(sql=tree.sql(dialect=read), tables=tuple(sorted(tables)), limit=limit)


def _sorts_or_groups_by_output_name(column: exp.Column) -> bool:
    """`... COUNT(*) AS customers ... ORDER BY customers` names an output column, not the customers row."""
    if column.find_ancestor(exp.Order, exp.Group) is None:
        return False
    select = column.find_ancestor(exp.Select)
    return select is not None and any(
        isinstance(p, exp.Alias) and p.alias.lower() == column.name.lower() for p in select.expressions
    )


def _is_projection(star: exp.Star) -> bool:
    """`SELECT *` or `SELECT c.*`, not the star of COUNT(*)."""
    parent = star.parent
    if isinstance(parent, exp.Column):
        parent = parent.parent
    return isinstance(parent, exp.Select)


def _tables_in_scope(star: exp.Star) -> set[str]:
    select = star.find_ancestor(exp.Select)
    if select is None:
        return set()
    names = set()
    for table in select.find_all(exp.Table):
        names.add(table.name.lower())
    column = star.parent if isinstance(star.parent, exp.Column) else None
    if column is not None and column.table:  # customers.* or an alias of it
        alias = column.table.lower()
        names = {t.name.lower() for t in select.find_all(exp.Table) if t.alias_or_name.lower() == alias}
    return names

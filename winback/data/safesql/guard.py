"""The first filter for SQL a model (or a person) wrote: fast, with messages the model can repair from.

Parsed with sqlglot in the target dialect and checked on the syntax tree, never by keywords: exactly one
statement; a SELECT (or UNION/INTERSECT/EXCEPT of SELECTs, with CTEs); no data-modifying node anywhere;
only contract tables, with CTE names resolved per scope (a CTE in one subquery does not hide a table of
the same name elsewhere); functions by unquoted lower-case name against an allow-list; no column alias
lists on tables, whole-row references or schema-qualified functions; personal columns (by name, in any
clause) only for roles allowed to see them; a LIMIT enforced. This is a convenience, not the wall: the
database refuses the same things on its own (winback.data.safesql.readonly).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from winback.data.schema import CONTRACT_TABLES, PERSONAL_COLUMNS
from winback.errors import UserError
from winback.roles import Role, UnknownRole, may_see_pii

ALLOWED_TABLES = frozenset(CONTRACT_TABLES)
TABLES_WITH_PERSONAL_DATA = frozenset(t for t, columns in PERSONAL_COLUMNS.items() if columns)
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
# Functions a statement may call, by their unquoted lower-case name: sqlglot's canonical name for the
# functions it knows (strftime is TIME_TO_STR, iif is IF), the written name for the others. Anything else
# (pg_read_file, query_to_xml, set_config, randomblob, repeat, lpad, format, generate_series, ...) is
# refused here; the database refuses it again (SQLite authorizer, PostgreSQL privileges of the reader role).
ALLOWED_FUNCTIONS = frozenset(
    [
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "total",
        "group_concat",
        "string_agg",
        "array_agg",
        "count_if",
        "stddev",
        "stddev_samp",
        "stddev_pop",
        "variance",
        "variance_pop",
        "percentile_cont",
        "percentile_disc",
        "median",
        "bool_and",
        "bool_or",
        "logical_and",
        "logical_or",
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
        "abs",
        "round",
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
        "sign",
        "mod",
        "trunc",
        "div",
        "safe_divide",
        "coalesce",
        "ifnull",
        "nullif",
        "if",
        "iif",
        "greatest",
        "least",
        "cast",
        "try_cast",
        "lower",
        "upper",
        "length",
        "char_length",
        "substring",
        "substr",
        "trim",
        "ltrim",
        "rtrim",
        "replace",
        "instr",
        "str_position",
        "concat",
        "initcap",
        "left",
        "right",
        "like",
        "glob",
        "date",
        "time",
        "datetime",
        "julianday",
        "unixepoch",
        "strftime",
        "time_to_str",
        "str_to_time",
        "str_to_date",
        "ts_or_ds_to_date",
        "ts_or_ds_to_timestamp",
        "ts_or_ds_to_datetime",
        "timestamp_trunc",
        "date_trunc",
        "datetime_trunc",
        "extract",
        "date_part",
        "age",
        "current_date",
        "current_timestamp",
        "current_time",
        "now",
        "date_add",
        "date_sub",
        "date_diff",
        "datediff",
        "timestamp_diff",
        "ts_or_ds_add",
        "time_str_to_time",
        "to_char",
        "to_date",
        "to_timestamp",
        "make_date",
        "unix_to_time",
        "time_to_unix",
        "interval",
        "json_extract",
        "json_extract_scalar",
        "year",
        "quarter",
        "month",
        "week",
        "day",
        "dayofweek",
        "dayofmonth",
        "dayofyear",
        "hour",
        "minute",
        "second",
    ]
)
# sqlglot models these as functions; they are SQL syntax (AND, OR, CASE, EXISTS, COLLATE)
SYNTAX_NOT_FUNCTIONS: tuple[type, ...] = (exp.Connector, exp.Case, exp.Exists, exp.Collate)
DEFAULT_PERSONAL_NAMES = frozenset(c for columns in PERSONAL_COLUMNS.values() for c in columns)


class SqlRefused(UserError, ValueError):
    """The statement may not run; the message is the reason, in one line."""


@dataclass(frozen=True)
class CheckedQuery:
    sql: str  # what will run: the validated statement, LIMIT applied, rendered in the dialect
    tables: tuple[str, ...]
    limit: int


def function_name(node: exp.Func) -> str:
    """The unquoted lower-case name a function is called by (`"pg_read_file"` is pg_read_file)."""
    if isinstance(node, exp.Anonymous):
        this = node.this
        return (this.name if isinstance(this, exp.Identifier) else str(this)).lower()
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

    row_names = {t.alias_or_name.lower() for t in tree.find_all(exp.Table)} | {
        t.name.lower() for t in tree.find_all(exp.Table)
    }
    tables: set[str] = set()
    personal: str | None = None  # reported after structural problems, which matter more
    for node in tree.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise SqlRefused(f"{node.key.upper()} is not allowed: queries may only read")
        if isinstance(node, exp.Join) and (node.args.get("using") or str(node.args.get("method") or "") == "NATURAL"):
            raise SqlRefused(
                "NATURAL JOIN and JOIN ... USING are not allowed (they compare columns by name); write JOIN ... ON "
                "with the columns"
            )
        if isinstance(node, exp.Table):
            tables |= _check_table(node)
        elif isinstance(node, exp.Func) and not isinstance(node, SYNTAX_NOT_FUNCTIONS):
            fname = function_name(node)
            if fname not in ALLOWED_FUNCTIONS:
                raise SqlRefused(f"function {fname}() is not allowed")
            if isinstance(node.parent, exp.Dot):
                raise SqlRefused(f"schema-qualified function {node.parent.sql(read)} is not allowed")
        elif isinstance(node, exp.Star) and not _is_projection(node):
            raise SqlRefused("whole-row references (row.*) inside expressions are not allowed; name the columns")
        elif isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            name = node.name.lower()
            if not node.table and name in row_names and not _sorts_or_groups_by_output_name(node):
                raise SqlRefused(f"{node.name} names a whole row, not a column; name the columns")
            if hide_pii and name in DEFAULT_PERSONAL_NAMES:
                personal = personal or (
                    f"column {node.name} is personal data that role {role!r} may not see; use customer_id instead"
                )
        elif isinstance(node, exp.Dot) and hide_pii and node.name.lower() in DEFAULT_PERSONAL_NAMES:
            personal = personal or f"column {node.name} is personal data that role {role!r} may not see"
        if isinstance(node, exp.Star) and hide_pii and _is_projection(node) and not isinstance(node.parent, exp.Count):
            hidden = _tables_in_scope(node) & TABLES_WITH_PERSONAL_DATA
            if hidden:
                personal = personal or (
                    f"SELECT * over {', '.join(sorted(hidden))} would include personal data that role {role!r} "
                    "may not see; name the columns"
                )
    if personal:
        raise SqlRefused(personal)
    if not tables:
        raise SqlRefused("the query reads no table of the data contract")

    if read == "sqlite":  # on the reader's connection the contract tables are views in no named schema
        for table in tree.find_all(exp.Table):
            if (table.db or "").lower() == "main":
                table.set("db", None)
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


def _check_table(node: exp.Table) -> set[str]:
    """The contract table a FROM/JOIN item reads ({} for a CTE in scope), or SqlRefused."""
    if not isinstance(node.this, exp.Identifier):
        raise SqlRefused(f"table function {node.this.sql()} is not allowed")
    name = node.name.lower()
    schema = (node.db or "").lower()
    if node.catalog or (schema and schema not in {"public", "main"}):
        raise SqlRefused(f"table {node.sql()} is outside the data contract")
    alias = node.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        raise SqlRefused(f"column alias lists on tables ({node.sql()}) are not allowed; alias each column")
    if not schema and name in _ctes_in_scope(node):
        return set()
    if name not in ALLOWED_TABLES:
        raise SqlRefused(f"table {name!r} is not available; use: {', '.join(sorted(ALLOWED_TABLES))}")
    return {name}


def _ctes_in_scope(node: exp.Expression) -> set[str]:
    """CTE names a table reference can see: those of every enclosing WITH, where a reference inside a CTE's
    own definition sees only the CTEs before it (and itself, in a recursive WITH)."""
    names: set[str] = set()
    child: Any = node
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.With):
            ctes = list(parent.expressions)
            inside = next((i for i, cte in enumerate(ctes) if cte is child), None)
            if inside is None:
                names |= {c.alias_or_name.lower() for c in ctes}
            else:
                names |= {c.alias_or_name.lower() for c in ctes[: inside + (1 if parent.args.get("recursive") else 0)]}
        elif isinstance(parent, (exp.Select, exp.SetOperation)):
            with_ = parent.args.get("with_") or parent.args.get("with")
            if with_ is not None and child is not with_:
                names |= {c.alias_or_name.lower() for c in with_.expressions}
        child, parent = parent, parent.parent
    return names


def _sorts_or_groups_by_output_name(column: exp.Column) -> bool:
    """`... COUNT(*) AS customers ... ORDER BY customers` names an output column, not the customers row."""
    if column.find_ancestor(exp.Order, exp.Group) is None:
        return False
    select = column.find_ancestor(exp.Select)
    return select is not None and any(
        isinstance(p, exp.Alias) and p.alias.lower() == column.name.lower() for p in select.expressions
    )


def _is_projection(star: exp.Star) -> bool:
    """`SELECT *`, `SELECT c.*` or COUNT(*), not a whole row inside an expression (`row_to_json(c.*)`)."""
    parent = star.parent
    if isinstance(parent, exp.Column):
        parent = parent.parent
    if isinstance(parent, exp.Count):
        return star.parent is parent
    return (
        isinstance(parent, exp.Select)
        and star.parent is not None
        and (star in parent.expressions or star.parent in parent.expressions)
    )


def _tables_in_scope(star: exp.Star) -> set[str]:
    select = star.find_ancestor(exp.Select)
    if select is None:
        return set()
    names = {table.name.lower() for table in select.find_all(exp.Table)}
    column = star.parent if isinstance(star.parent, exp.Column) else None
    if column is not None and column.table:  # customers.* or an alias of it
        alias = column.table.lower()
        names = {t.name.lower() for t in select.find_all(exp.Table) if t.alias_or_name.lower() == alias}
    return names

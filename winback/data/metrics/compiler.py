"""MetricQuery -> one SELECT for SQLite or PostgreSQL, built by code from the catalog's fragments and
values already checked against the database (never from the question's words), so the statement is
the same whatever phrasing or model filled the query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from winback.data.metrics.catalog import Catalog, Dialect, Dimension, Entity
from winback.data.metrics.query import MAX_GROUPS, MetricQuery
from winback.data.metrics.windows import Span, resolve

VALUE = "value"
BASE = "base_rows"


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    group_columns: list[str]  # dimension names, in SELECT order
    span: Span | None
    inactive_since: date | None  # customers with no order on or after this day
    limit: int


def quote(value: str | int | float) -> str:
    """A SQL literal: numbers as numbers, text in single quotes with quotes doubled."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _day(value: date) -> str:
    return quote(f"{value:%Y-%m-%d} 00:00:00")


def compile_query(
    query: MetricQuery,
    catalog: Catalog,
    dialect: Dialect,
    reference: datetime,
    filter_values: dict[int, list[str | int | float]] | None = None,
) -> CompiledQuery:
    """`filter_values[i]`: filter i's values as they exist in the database (see values.resolve_filters);
    without it, the query's own strings are used (tests of the compiler alone)."""
    measure = catalog.measure(query.measure)
    entity = catalog.entity_of(measure)
    groups = [catalog.dimension(name) for name in query.group_by]
    filtered = [catalog.dimension(f.dimension) for f in query.filters]
    select = [f"{d.expression(entity, dialect)} AS {d.name}" for d in groups]
    conditions = [c for c in (entity.where, measure.where) if c]
    shares: list[str] = []  # conditions whose share of the rows is the value (MetricQuery checks the measure)
    span = resolve(query.window, reference)
    if span is not None:
        assert entity.time is not None  # MetricQuery refuses a window on an entity without time
        if span.start is not None:
            conditions.append(f"{entity.time} >= {_day(span.start)}")
        conditions.append(f"{entity.time} < {_day(span.end_exclusive)}")
    for number, (flt, dimension) in enumerate(zip(query.filters, filtered, strict=True)):
        values = (filter_values or {}).get(number, list(flt.values))
        listed = ", ".join(quote(v) for v in values)
        condition = f"{dimension.expression(entity, dialect)} {'NOT IN' if flt.exclude else 'IN'} ({listed})"
        (shares if flt.share else conditions).append(condition)
    value = f"AVG(CASE WHEN {' AND '.join(f'({c})' for c in shares)} THEN 1.0 ELSE 0.0 END)" if shares else measure.sql
    select += [f"{value} AS {VALUE}", f"COUNT(*) AS {BASE}"]
    inactive_since = None
    if query.inactive_days is not None:
        inactive_since = reference.date() - timedelta(days=query.inactive_days)
        conditions.append(
            "NOT EXISTS (SELECT 1 FROM orders io WHERE io.customer_id = c.customer_id "
            f"AND io.ordered_at >= {_day(inactive_since)})"
        )
    sql = f"SELECT {', '.join(select)} FROM {entity.from_sql}"
    if _needs_scores(entity, [*groups, *filtered]):
        sql += " " + catalog.joins["scores"]
    if conditions:
        sql += " WHERE " + " AND ".join(f"({c})" for c in conditions)
    if groups:
        sql += " GROUP BY " + ", ".join(d.expression(entity, dialect) for d in groups)
        sql += " ORDER BY " + ", ".join(_order(query, groups, entity, dialect))
    limit = min(query.top_k or MAX_GROUPS + 1, MAX_GROUPS + 1)
    if groups:
        sql += f" LIMIT {limit}"
    return CompiledQuery(sql, [d.name for d in groups], span, inactive_since, limit)


def _needs_scores(entity: Entity, dimensions: list[Dimension]) -> bool:
    return not entity.scores_joined and any(d.needs == "scores" for d in dimensions)


def _order(query: MetricQuery, groups: list[Dimension], entity: Entity, dialect: Dialect) -> list[str]:
    """By the measure when asked (or for plain categories), else by the value (months, years, bands);
    the group values break ties, so the order is the same on both databases."""
    first = groups[0]
    by_value = query.sort is not None or (not first.ordered and not first.values_in_order)
    terms = []
    if query.sort is not None:  # a ranking names a group: one without a value (a review of no product) is last
        terms += [f"CASE WHEN {d.expression(entity, dialect)} IS NULL THEN 1 ELSE 0 END" for d in groups]
    if by_value:
        terms.append(f"{VALUE} {'ASC' if query.sort == 'asc' else 'DESC'} NULLS LAST")
    for dimension in groups:
        expression = dimension.expression(entity, dialect)
        if dimension.values_in_order:
            cases = " ".join(f"WHEN {quote(v)} THEN {i}" for i, v in enumerate(dimension.values_in_order))
            expression = f"CASE {expression} {cases} ELSE {len(dimension.values_in_order)} END"
        terms.append(f"{expression} NULLS LAST")
    return terms

"""Answer a MetricQuery: check its filter values against the database, compile, run through the guarded
reader with the caller's role, and return rows with the definition and window they were computed on."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from winback.config import Settings
from winback.data.lookups.common import InvalidLookup, reference_date
from winback.data.metrics.catalog import Catalog, Dialect, Dimension, Entity, Measure, load_catalog
from winback.data.metrics.compiler import compile_query
from winback.data.metrics.query import MAX_GROUPS, MetricQuery
from winback.data.metrics.windows import Span
from winback.data.safesql.guarded import dialect_of, run_guarded
from winback.roles import Role

Value = str | int | float


@dataclass(frozen=True)
class MetricRow:
    groups: tuple[Value | None, ...]
    value: float | None
    base: int  # rows the value was computed over (orders, deliveries, reviews ...)


@dataclass
class MetricResult:
    query: MetricQuery
    measure: Measure
    entity: Entity
    groups: list[Dimension]
    rows: list[MetricRow]
    sql: str
    reference: datetime
    span: Span | None
    inactive_since: date | None
    truncated: bool
    filters: list[tuple[Dimension, list[Value], bool]] = field(default_factory=list)


def _plain(value: Any) -> Value | None:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def known_values(
    connection: Connection, catalog: Catalog, dimension: Dimension, entity: Entity, dialect: Dialect
) -> list[Value]:
    """The values a dimension takes for an entity (at most 2,000), for checking filters and for slots."""
    sql = f"SELECT DISTINCT {dimension.expression(entity, dialect)} AS v FROM {entity.from_sql}"
    if dimension.needs == "scores" and not entity.scores_joined:
        sql += " " + catalog.joins["scores"]
    values = [_plain(v) for v in connection.execute(text(sql + " LIMIT 2000")).scalars()]
    values += [v for v in dimension.values_in_order if v not in values]  # a status no row has yet counts 0
    return sorted((v for v in values if v is not None), key=str)


def _match(wanted: str, known: list[Value], label: str) -> Value:
    by_text = {str(v).lower(): v for v in known}
    found = by_text.get(wanted.strip().lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(wanted.strip().lower(), list(by_text), n=1, cutoff=0.75)
    hint = f" (did you mean {by_text[close[0]]!r}?)" if close else ""
    listing = ", ".join(str(v) for v in known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
    raise InvalidLookup(f"no {label} {wanted!r}{hint}. Known values: {listing or 'none'}")


def share_measure(measure: Measure, entity: Entity, shared: list[tuple[Dimension, list[Value], bool]]) -> Measure:
    """A count read as the share of its rows with some values ("what share of orders came through the app"),
    with its own label and definition, so the answer says what it is a share of."""
    words = " and ".join(
        f"{d.label} {'not ' if exclude else ''}{' or '.join(str(v) for v in values)}" for d, values, exclude in shared
    )
    return replace(
        measure,
        kind="share",
        label=f"share of {measure.label} with {words}",
        definition=f"{measure.label} with {words} ÷ all {measure.label} in scope ({measure.label}: {measure.definition})",
    )


def run_metric(
    settings: Settings, engine: Engine, query: MetricQuery, role: str | Role, user: str | None = None
) -> MetricResult:
    """Raises InvalidLookup (a value that does not exist, no data yet), SqlRefused, QueryFailed, RateLimited."""
    catalog = load_catalog()
    measure = catalog.measure(query.measure)
    entity = catalog.entity_of(measure)
    dialect: Dialect = "postgresql" if dialect_of(settings.database_url) == "postgresql" else "sqlite"
    filters: list[tuple[Dimension, list[Value], bool]] = []
    with engine.connect() as connection:
        reference = reference_date(connection)
        for flt in query.filters:
            dimension = catalog.dimension(flt.dimension)
            known = known_values(connection, catalog, dimension, entity, dialect)
            filters.append((dimension, [_match(v, known, dimension.label) for v in flt.values], flt.exclude))
    compiled = compile_query(query, catalog, dialect, reference, {i: f[1] for i, f in enumerate(filters)})
    shared = [f for f, flt in zip(filters, query.filters, strict=True) if flt.share]
    if shared:
        measure = share_measure(measure, entity, shared)
        filters = [f for f, flt in zip(filters, query.filters, strict=True) if not flt.share]
    result = run_guarded(settings, compiled.sql, role, max_rows=compiled.limit, user=user, rate_limited=False)
    frame = result.result.frame
    rows = []
    for record in frame.itertuples(index=False):
        values = list(record)
        groups = tuple(_plain(v) for v in values[: len(compiled.group_columns)])
        value = values[len(compiled.group_columns)]
        base = values[len(compiled.group_columns) + 1]
        rows.append(MetricRow(groups, None if value is None or value != value else float(value), int(base or 0)))
    truncated = bool(compiled.group_columns) and query.top_k is None and len(rows) > MAX_GROUPS
    return MetricResult(
        query,
        measure,
        entity,
        [catalog.dimension(n) for n in compiled.group_columns],
        rows[:MAX_GROUPS],
        compiled.sql,
        reference,
        compiled.span,
        compiled.inactive_since,
        truncated,
        filters,
    )

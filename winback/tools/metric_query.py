"""Tool: one governed measure (orders, revenue, average order value, late-delivery share, return rate,
tickets, ratings, churn probability, revenue at risk, offers ...), optionally grouped, filtered and over a
time window. The SQL is compiled by code from the metrics catalog; the answer states the definition and
the dates it used, and carries a chart when it is over groups or time."""

from __future__ import annotations

from typing import Any

from winback.data.lookups.common import InvalidLookup
from winback.data.metrics import MetricQuery, MetricResult, run_metric
from winback.data.metrics.catalog import Measure
from winback.data.metrics.windows import window_words
from winback.data.safesql.guard import SqlRefused
from winback.data.safesql.readonly import QueryFailed
from winback.tools.base import Tool, ToolContext, ToolFailure, ToolResult
from winback.tools.markdown import pct, table, table_data
from winback.tools.names import ToolName

SHOWN_GROUPS = 25
NO_GROUP = "(none)"


def shown(value: float | None, measure: Measure) -> str:
    if value is None:
        return "n/a"
    if measure.kind == "share":
        return pct(value)
    if measure.kind == "money":
        return f"{value:,.2f}"
    if measure.kind == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def _scope(result: MetricResult) -> str:
    """The window and filters in words: 'last 90 days = orders delivered 2026-08-02 → 2026-10-31'."""
    parts = []
    if result.span is not None:
        parts.append(f"{window_words(result.query.window)} = {result.entity.time_words} {result.span.words()}")
    elif result.entity.time is None:
        parts.append(f"from {result.entity.time_words}")
    else:
        parts.append(f"all {result.entity.noun} up to {result.reference:%Y-%m-%d}")
    for dimension, values, exclude in result.filters:
        listed = ", ".join(str(v) for v in values)
        parts.append(f"{dimension.label} {'not ' if exclude else ''}{listed}")
    if result.inactive_since is not None:
        parts.append(f"customers with no order since {result.inactive_since:%Y-%m-%d}")
    return "; ".join(parts)


def _chart(result: MetricResult) -> dict[str, Any] | None:
    if not result.groups or not result.rows:
        return None
    first = result.groups[0]
    label = result.measure.label
    chart: dict[str, Any] = {
        "type": "line" if first.timed or first.name in ("signup_month", "signup_year") else "bar",
        "title": f"{label[:1].upper() + label[1:]} by {first.label}",
        "x_title": first.label,
        "y_title": label + (" (share)" if result.measure.kind == "share" else ""),
    }
    xs = list(dict.fromkeys(_name(r.groups[0]) for r in result.rows))
    chart["x"] = xs
    if len(result.groups) == 1:
        chart["y"] = [r.value for r in result.rows]
        return chart
    series: dict[str, dict[str, float | None]] = {}
    for r in result.rows:
        series.setdefault(_name(r.groups[1]), {})[_name(r.groups[0])] = r.value
    chart["series"] = {name: [values.get(x) for x in xs] for name, values in series.items()}
    chart["series_title"] = result.groups[1].label
    chart["y"] = []
    return chart


def _name(value: object) -> str:
    return NO_GROUP if value is None else str(value)


def describe(result: MetricResult) -> str:
    measure = result.measure
    title = measure.label[:1].upper() + measure.label[1:]
    by = f" by {' and '.join(d.label for d in result.groups)}" if result.groups else ""
    head = f"**{title}**{by} ({_scope(result)})"
    definition = f"Definition: {measure.label} = {measure.definition}."
    if not result.groups:
        row = result.rows[0] if result.rows else None
        value = shown(row.value if row else None, measure)
        base = f" over {row.base:,} {result.entity.noun}" if row and measure.kind not in ("count",) else ""
        empty = " — nothing matches" if not row or row.base == 0 else ""
        return f"{head}: **{value}**{base}{empty}.\n\n{definition}"
    rows = result.rows[:SHOWN_GROUPS]
    columns = [d.label for d in result.groups] + [measure.label, result.entity.noun]
    body = [[*(_name(g) for g in r.groups), shown(r.value, measure), f"{r.base:,}"] for r in rows]
    lines = [head + ":", "", table(columns, body) if body else "No groups: nothing matches."]
    if len(result.rows) > SHOWN_GROUPS:
        lines.append(f"\n(first {SHOWN_GROUPS} of {len(result.rows)} groups shown)")
    if result.truncated:
        lines.append("\n(more groups exist than the layer returns; add a filter or ask for the top ones)")
    if result.query.top_k == 1 and result.rows:
        best = result.rows[0]
        word = "Lowest" if result.query.sort == "asc" else "Highest"
        lines.append(f"\n{word}: **{_name(best.groups[0])}** ({shown(best.value, measure)}).")
    lines += ["", definition]
    return "\n".join(lines)


def run(args: MetricQuery, ctx: ToolContext) -> ToolResult:
    try:
        result = run_metric(ctx.settings, ctx.engine, args, ctx.role, user=ctx.actor)
    except (InvalidLookup, SqlRefused, QueryFailed) as exc:
        raise ToolFailure(str(exc)) from None
    columns = [d.name for d in result.groups] + [result.measure.name, result.entity.noun]
    data: dict[str, Any] = {
        "table": table_data(columns, [[*r.groups, r.value, r.base] for r in result.rows]),
        "query": args.model_dump(mode="json", exclude_defaults=True),
        "definition": result.measure.definition,
        "scope": _scope(result),
        "sql": result.sql,
        "window": {
            "start": f"{result.span.start:%Y-%m-%d}" if result.span and result.span.start else None,
            "end": f"{result.span.end:%Y-%m-%d}" if result.span else None,
        },
    }
    chart = _chart(result)
    if chart:
        data["chart"] = chart
    groups = f"{len(result.rows)} groups" if result.groups else shown(result.rows[0].value, result.measure)
    return ToolResult(True, f"{result.measure.label}: {groups}", describe(result), data)


TOOL = Tool(
    name=ToolName.METRIC_QUERY,
    description="A governed measure (orders, revenue, order value, late deliveries, returns, tickets, ratings, "
    "churn risk, offers) or a count's share, by group, over time.",
    args_schema=MetricQuery,
    run=run,
    kind="analysis",
)

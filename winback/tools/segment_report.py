"""Tool: churn risk and revenue per segment, country, channel, signup year or risk band."""

from __future__ import annotations

from winback.data.lookups import SegmentArgs, segment_aggregates
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import day, pct, table, table_data
from winback.tools.names import ToolName

COLUMNS = [
    "group",
    "customers",
    "mean churn",
    "high+critical",
    "revenue",
    "revenue at risk",
    "orders",
    "mean order",
    "late deliveries",
]


def run(args: SegmentArgs, ctx: ToolContext) -> ToolResult:
    report = segment_aggregates(ctx.engine, args)
    rows = [
        [
            r.group,
            r.customers,
            pct(r.mean_probability),
            pct(r.high_risk_share),
            r.revenue,
            r.revenue_at_risk,
            r.orders,
            r.mean_order_value,
            pct(r.late_delivery_share),
        ]
        for r in report.rows
    ]
    only = ", ".join(f"{k} {v}" for k, v in (("segment", args.segment), ("country", args.country)) if v)
    header = (
        f"Customers by {report.by.replace('_', ' ')}{' (' + only + ')' if only else ''}: money and orders from "
        f"{day(report.window_start)} to {day(report.as_of)}, risk from the scoring run of {day(report.scored_at)}."
    )
    data_rows = [
        [
            r.group,
            r.customers,
            r.mean_probability,
            r.high_risk_share,
            r.revenue,
            r.revenue_at_risk,
            r.orders,
            r.mean_order_value,
            r.late_delivery_share,
        ]
        for r in report.rows
    ]
    chart = {
        "type": "bar",
        "title": f"Revenue at risk by {report.by.replace('_', ' ')}",
        "x": [r.group for r in report.rows],
        "y": [round(r.revenue_at_risk, 2) for r in report.rows],
        "y_title": "revenue at risk",
    }
    return ToolResult(
        True,
        f"{len(rows)} groups by {report.by}",
        header + "\n\n" + table(COLUMNS, rows),
        {
            "table": table_data(COLUMNS, data_rows),
            "chart": chart,
            "rows": [r.model_dump(mode="json") for r in report.rows],
        },
    )


TOOL = Tool(
    name=ToolName.SEGMENTS,
    description="Compare customer groups (segment, country, city, channel, signup year, risk band): churn risk, "
    "revenue, revenue at risk, orders, late deliveries.",
    args_schema=SegmentArgs,
    run=run,
    kind="analysis",
)

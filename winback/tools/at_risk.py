"""Tool: the customers most likely to leave, ranked and explained."""

from __future__ import annotations

from winback.data.lookups import AtRiskArgs, at_risk_customers
from winback.data.lookups.at_risk import COUNT_CAP, AtRiskList, AtRiskRow
from winback.errors import UserError
from winback.model.scoring import score_customers
from winback.tools.base import Tool, ToolContext, ToolResult
from winback.tools.markdown import day, pct, table, table_data
from winback.tools.names import ToolName

POPULATION_NOTE = {
    "active": "active customers (ordered or joined within a year)",
    "lapsed": "lapsed customers (no order for more than a year)",
    "all": "all scored customers, lapsed included",
}
COLUMNS = [
    "#",
    "customer",
    "name",
    "segment",
    "country",
    "churn",
    "band",
    "lifetime value",
    "revenue at risk",
    "value next 12 mo",
    "days since order",
    "next order",
    "top driver",
]


def next_order(row: AtRiskRow) -> str | None:
    """The expected next order: its median date, or that none is expected within the model's horizon."""
    if row.order_probability_90d is None:
        return None  # a model without the next-order head
    return day(row.expected_next_order_at) if row.expected_next_order_at else "not expected"


def explain_missing(result: AtRiskList, ctx: ToolContext) -> None:
    """Rows whose drivers `winback score` did not store (beyond WINBACK_SCORE_DRIVERS_TOP) are explained
    now, with the latest model: a page of the list costs milliseconds."""
    missing = [r for r in result.rows if r.top_driver is None]
    if not missing:
        return
    try:
        scores = score_customers(ctx.engine, ctx.services.scorer(), [r.customer_id for r in missing], top_k=1)
    except UserError:  # e.g. an account closed since the run: that row keeps no driver
        return
    for row, score in zip(missing, scores, strict=True):
        row.top_driver = score.drivers[0].text if score.drivers else None


def run(args: AtRiskArgs, ctx: ToolContext) -> ToolResult:
    result = at_risk_customers(ctx.engine, args, ctx.role)
    explain_missing(result, ctx)
    rows = [
        [
            r.rank,
            r.customer_id,
            r.name,
            r.segment,
            r.country,
            pct(r.probability),
            r.risk_band,
            r.lifetime_value,
            r.revenue_at_risk,
            r.predicted_value_12m,
            r.days_since_last_order,
            next_order(r),
            r.top_driver or "",
        ]
        for r in result.rows
    ]
    matching = f"more than {COUNT_CAP:,}" if result.matching > COUNT_CAP else f"{result.matching:,}"
    filters = ", ".join(
        f"{k.replace('_', ' ')} {v if not isinstance(v, list) else '/'.join(v)}"
        for k, v in args.model_dump(exclude_none=True, exclude={"limit", "population", "sort"}).items()
    )
    header = (
        f"{len(rows)} of {matching} matching {POPULATION_NOTE[args.population]}"
        f"{' with ' + filters if filters else ''}, ranked by {args.sort.replace('_', ' ')} "
        f"(scored {day(result.scored_at)}, model {result.model_version})."
    )
    lines = [header]
    if rows:
        lines.append(table(COLUMNS, rows))
    lines += [f"Note: {n}." for n in result.notes]
    data_rows = [
        [
            r.rank,
            r.customer_id,
            r.name,
            r.segment,
            r.country,
            r.probability,
            r.risk_band,
            r.lifetime_value,
            r.revenue_at_risk,
            r.predicted_value_12m,
            r.days_since_last_order,
            next_order(r),
            r.top_driver,
        ]
        for r in result.rows
    ]
    return ToolResult(
        ok=True,
        summary=f"{len(rows)} customers listed of {matching} matching",
        text="\n\n".join(lines),
        data={
            "table": table_data(COLUMNS, data_rows),
            "matching": result.matching,
            "scored_at": result.scored_at.isoformat(),
            "filters": args.model_dump(mode="json", exclude_none=True),
            "rows": [r.model_dump(mode="json") for r in result.rows],
        },
        customer_ids=[r.customer_id for r in result.rows],
    )


TOOL = Tool(
    name=ToolName.LIST_AT_RISK,
    description="Rank customers by churn risk (or revenue at risk, value, predicted value, inactivity) by "
    "segment, country, city, risk band, lifetime value or days idle.",
    args_schema=AtRiskArgs,
    run=run,
)
